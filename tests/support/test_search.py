"""Agents find a customer by name, username, email, or the last 4 of an account number or VIN."""

from __future__ import annotations

import pytest


@pytest.fixture
def customers(make_user):
    return make_user(first_name="Dana", last_name="Rivera"), make_user(
        first_name="Sam", last_name="Okafor"
    )


def _found(client, console_url, term) -> str:
    response = client.get(console_url("support/customeraccount/"), {"q": term})
    assert response.status_code == 200
    return response.content.decode()


def _search_finds_only(client, console_url, term, wanted, other):
    html = _found(client, console_url, term)
    assert wanted.username in html
    assert other.username not in html


def test_search_by_name(agent, console_url, customers):
    dana, sam = customers
    _search_finds_only(agent, console_url, "rivera", dana, sam)
    _search_finds_only(agent, console_url, "Sam Okafor", sam, dana)


def test_search_by_username_and_email(agent, console_url, customers):
    dana, sam = customers
    _search_finds_only(agent, console_url, dana.username.upper(), dana, sam)
    _search_finds_only(agent, console_url, sam.email, sam, dana)


def test_search_by_last_4_of_vin(agent, console_url, customers):
    dana, sam = customers
    vin = sam.customer.loan_accounts.select_related("vehicle").get().vehicle.vin
    _search_finds_only(agent, console_url, vin[-4:].lower(), sam, dana)


def test_search_by_account_number_last_4(agent, console_url, make_user):
    dana = make_user(loans=2)
    sam = make_user()
    second = dana.customer.loan_accounts.order_by("account_number").last()
    assert second.account_number.endswith("0001")
    html = _found(agent, console_url, "0001")
    assert dana.username in html
    assert sam.username not in html


def test_list_shows_masked_email_and_status_only(agent, console_url, customers):
    dana, _ = customers
    html = _found(agent, console_url, dana.username)
    assert dana.email not in html
    assert dana.email[0] + "***@example.com" in html
    assert "Active" in html


def test_staff_users_are_not_listed(agent, console_url, make_staff, customers):
    other_staff = make_staff("supervisor", username="supervisor-zed")
    assert other_staff.username not in _found(agent, console_url, "")
    assert other_staff.username not in _found(agent, console_url, "zed")
