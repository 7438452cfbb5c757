"""My Vehicles (the landing page after login) and Add a vehicle."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.utils.formats import date_format

from accounts.models import LoanAccount
from security.models import SecurityEvent
from tests.profile.profile_support import sign_in

pytestmark = pytest.mark.django_db

VEHICLES = "/my/vehicles/"
ADD = "/my/vehicles/add/"


@pytest.fixture
def customer(make_user):
    return make_user(loans=2)


def add_form(reference: str, tin: str = "1234", born: str = "04/12/1985") -> dict[str, str]:
    return {"reference": reference, "tin_last4": tin, "birth_date": born}


def unlinked_loan(user, make_customer) -> LoanAccount:
    """A new loan of the SAME customer, not yet linked to the online account (a later loan
    arrived from servicing)."""
    other = make_customer()  # borrow its vehicle and loan, then move the loan to our customer
    loan = other.loan_accounts.get()
    loan.customer = user.customer
    loan.save()
    return loan


def test_my_vehicles_lists_each_linked_loan_with_its_servicing_data(client, customer):
    sign_in(client, customer)
    response = client.get(VEHICLES)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>My Vehicles</h1>" in page
    for loan in customer.loan_accounts.select_related("vehicle"):
        vehicle = loan.vehicle
        assert f"{vehicle.year} {vehicle.make} {vehicle.model}" in page
        assert vehicle.vin[-4:] in page and vehicle.vin not in page
        assert loan.account_number[-4:] in page and loan.account_number not in page
    assert "$15,234.56" in page
    due = date(2026, 12, 15)  # make_customer's loan
    assert f"$412.90 due {date_format(due, 'DATE_FORMAT')}" in page
    assert "Add a vehicle" in page
    assert "no-store" in response["Cache-Control"]


def test_my_vehicles_never_shows_another_customers_loans(client, customer, make_user):
    other = make_user()
    sign_in(client, customer)
    page = client.get(VEHICLES).content.decode()
    assert page.count('<section class="card"') == 2
    for loan in other.loan_accounts.select_related("vehicle"):
        assert f"VIN ending</dt><dd>{loan.vehicle.vin[-4:]}<" not in page


def test_my_vehicles_needs_a_login(client):
    response = client.get(VEHICLES)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_add_vehicle_links_another_loan_of_the_same_customer(client, customer, make_customer):
    loan = unlinked_loan(customer, make_customer)
    sign_in(client, customer)
    response = client.post(ADD, add_form(loan.vehicle.vin))
    assert response.status_code == 302 and response["Location"] == VEHICLES
    assert customer.loan_accounts.filter(pk=loan.pk).exists()
    event = SecurityEvent.objects.get(user=customer, kind=SecurityEvent.Kind.VEHICLE_ADDED)
    assert "1234" not in event.detail and "1985" not in event.detail
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [customer.email]
    assert f"account ending {loan.account_last4}" in mail.outbox[0].body
    page = client.get(VEHICLES).content.decode()
    assert "was added to My Vehicles" in page and loan.account_last4 in page


def test_add_vehicle_by_account_number_with_spaces_and_dashes(client, customer, make_customer):
    loan = unlinked_loan(customer, make_customer)
    sign_in(client, customer)
    typed = f"{loan.account_number[:4]} {loan.account_number[4:7]}-{loan.account_number[7:]}"
    assert client.post(ADD, add_form(typed)).status_code == 302
    assert customer.loan_accounts.filter(pk=loan.pk).exists()


def test_another_customers_loan_cannot_be_linked_even_with_their_details(
    client, customer, make_user
):
    other = make_user(tin_last4="9876", birth_date=date(1970, 1, 2))
    their_loan = other.loan_accounts.get()
    sign_in(client, customer)
    response = client.post(ADD, add_form(their_loan.account_number, "9876", "01/02/1970"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "We could not match this information to a loan of yours" in page
    assert not customer.loan_accounts.filter(pk=their_loan.pk).exists()
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.VEHICLE_ADDED).exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    "tin, born", [("0000", "04/12/1985"), ("1234", "04/13/1985"), ("0000", "01/01/1990")]
)
def test_a_mismatch_gets_one_generic_message_and_keeps_only_the_reference(
    client, customer, make_customer, tin, born
):
    loan = unlinked_loan(customer, make_customer)
    sign_in(client, customer)
    response = client.post(ADD, add_form(loan.account_number, tin, born))
    page = response.content.decode()
    assert "We could not match this information to a loan of yours" in page
    assert "SSN" not in page.split("There is a problem")[1].split("</ul>")[0]
    assert f'value="{loan.account_number}"' in page
    assert f'value="{tin}"' not in page and f'value="{born}"' not in page
    assert not customer.loan_accounts.filter(pk=loan.pk).exists()


def test_a_loan_already_on_my_vehicles_is_not_added_twice(client, customer):
    loan = customer.loan_accounts.first()
    sign_in(client, customer)
    response = client.post(ADD, add_form(loan.account_number), follow=True)
    assert "is already on My Vehicles" in response.content.decode()
    assert customer.loan_accounts.count() == 2
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.VEHICLE_ADDED).exists()


def test_add_vehicle_stops_after_three_failures_for_one_reference(client, customer, make_customer):
    loan = unlinked_loan(customer, make_customer)
    sign_in(client, customer)
    for _ in range(3):
        client.post(ADD, add_form(loan.account_number, "0000"))
    # Even the right details are refused now (NIST 800-63A: 3 failures per 24 h).
    page = client.post(ADD, add_form(loan.account_number)).content.decode()
    assert "Too many attempts" in page
    assert not customer.loan_accounts.filter(pk=loan.pk).exists()


def test_add_vehicle_shares_the_per_ip_limit_of_enrollment(
    client, customer, make_customer, settings
):
    settings.PORTAL_VERIFY_IP_RATE = "2/h"
    loan = unlinked_loan(customer, make_customer)
    sign_in(client, customer)
    client.post(ADD, add_form("1HGCM82633A004352", "0000"))
    client.post(ADD, add_form("1HGCM82633A004352", "0001"))
    page = client.post(ADD, add_form(loan.account_number)).content.decode()
    assert "Too many attempts" in page
    assert not customer.loan_accounts.filter(pk=loan.pk).exists()


def test_invalid_input_is_refused_before_any_verification_and_says_why(client, customer):
    sign_in(client, customer)
    page = client.post(ADD, add_form("1HGCM82633A00435X", "12a4", "13/45/1985")).content.decode()
    assert "There is a problem" in page
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.VERIFY_FAILED).exists()
