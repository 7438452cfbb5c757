"""Someone who knows a customer's account number and fails the identity check until the loan is
paused must not lock the real customer out: with the right details the customer gets a code at
the contact on record and enrolls; with wrong ones the page reads the same and nothing is sent."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from accounts.models import User
from security.models import OutgoingMessage, SecurityCode, SecurityEvent
from tests.conftest import HttpsClient
from tests.enrollment.conftest import Wizard, code_emailed_to, identity_data

pytestmark = pytest.mark.django_db

CODE_PAGE = "/enroll/code/"
SENT = (
    "If these details match our records, we have sent a security code to the contact we have "
    "on file for this loan."
)
ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
CUSTOMER = {"REMOTE_ADDR": "198.51.100.20"}


def _visible(page: bytes) -> str:
    """The page as the browser shows it, less what differs per request (token, nonce)."""
    text = page.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    return re.sub(r'nonce="[^"]+"', "", text)


@pytest.fixture
def paused(customer, settings):
    """The loan after a third party used up its failures with wrong TIN digits."""
    settings.PORTAL_VERIFY_MAX_FAILURES = 3
    attacker = HttpsClient()
    for _ in range(3):
        response = attacker.post("/enroll/", identity_data(customer, tin_last4="0000"), **ATTACKER)
        assert response.status_code == 200
        assert "We couldn&#x27;t verify your information." in response.content.decode()
    return attacker


def test_the_real_customer_enrolls_with_a_code_to_the_contact_on_record(client, customer, paused):
    response = client.post("/enroll/", identity_data(customer), **CUSTOMER)
    assert response.status_code == 302 and response["Location"] == CODE_PAGE
    page = client.get(CODE_PAGE, **CUSTOMER)
    assert page.status_code == 200 and SENT in page.content.decode()
    assert "<h1>Enter your security code</h1>" in page.content.decode()
    assert "Step 1: Your account information" in page.content.decode()
    assert customer.email not in page.content.decode()  # no masked address: it would confirm
    code = code_emailed_to(customer.email)
    assert OutgoingMessage.objects.filter(destination=customer.email).count() == 1

    response = client.post(CODE_PAGE, {"code": code}, **CUSTOMER)
    assert response.status_code == 302 and response["Location"] == "/enroll/vehicles/"
    wizard = Wizard(client, customer)
    wizard.vehicles()
    wizard.profile()
    wizard.consent()
    # Step 5 does not send a second code: the one at step 1 proved the contact on record.
    page = client.get("/enroll/confirm/").content.decode()
    assert "You already confirmed it&rsquo;s you" in page and 'name="code"' not in page
    response = client.post("/enroll/confirm/", {})
    assert response.status_code == 302 and response["Location"] == "/enroll/device/"
    assert User.objects.filter(customer=customer).exists()
    assert SecurityCode.objects.filter(customer=customer).count() == 1

    kinds = SecurityEvent.Kind
    events = SecurityEvent.objects
    assert events.filter(kind=kinds.VERIFY_FAILED).count() == 3
    assert events.filter(kind=kinds.VERIFY_LIMITED, ip=CUSTOMER["REMOTE_ADDR"]).count() == 1
    assert events.filter(kind=kinds.CODE_SENT, ip=CUSTOMER["REMOTE_ADDR"]).count() == 1
    assert events.filter(kind=kinds.VERIFY_BY_CODE, ip=CUSTOMER["REMOTE_ADDR"]).count() == 1
    assert events.filter(kind=kinds.ENROLLED).count() == 1


def test_wrong_details_while_paused_get_the_same_page_and_nothing_is_sent(client, customer, paused):
    right = client.post("/enroll/", identity_data(customer), **CUSTOMER)
    right_page = client.get(CODE_PAGE, **CUSTOMER)
    messages_before = OutgoingMessage.objects.count()
    outbox_before = len(mail.outbox)

    wrong = paused.post("/enroll/", identity_data(customer, tin_last4="0001"), **ATTACKER)
    wrong_page = paused.get(CODE_PAGE, **ATTACKER)
    assert (wrong.status_code, wrong["Location"]) == (right.status_code, right["Location"])
    assert wrong_page.status_code == right_page.status_code == 200
    assert _visible(wrong_page.content) == _visible(right_page.content)
    assert SENT in wrong_page.content.decode()
    assert OutgoingMessage.objects.count() == messages_before
    assert len(mail.outbox) == outbox_before
    assert (
        SecurityEvent.objects.filter(
            kind=SecurityEvent.Kind.VERIFY_FAILED, ip=ATTACKER["REMOTE_ADDR"]
        ).count()
        == 4
    )


def test_any_code_after_wrong_details_fails_like_a_wrong_code(client, customer, paused, settings):
    settings.PORTAL_CODE_MAX_ATTEMPTS = 2
    client.post("/enroll/", identity_data(customer), **CUSTOMER)
    paused.post("/enroll/", identity_data(customer, tin_last4="0001"), **ATTACKER)
    real_code = code_emailed_to(customer.email)
    guess = f"{(int(real_code) + 1) % 1_000_000:06d}"
    # The real code is no use after wrong details; a wrong guess reads the same on both sides.
    for the_client, extra, code in ((paused, ATTACKER, real_code), (client, CUSTOMER, guess)):
        response = the_client.post(CODE_PAGE, {"code": code}, **extra)
        assert response.status_code == 200
        assert "That code is not right." in response.content.decode()
    for the_client, extra in ((paused, ATTACKER), (client, CUSTOMER)):
        response = the_client.post(CODE_PAGE, {"code": guess}, follow=True, **extra)
        assert response.redirect_chain == [("/enroll/", 302)]
        assert "can no longer be used" in response.content.decode()
        assert the_client.get(CODE_PAGE, **extra)["Location"] == "/enroll/"
    assert not User.objects.exists()


def test_the_code_page_needs_a_paused_check_first(client, customer):
    assert client.get(CODE_PAGE)["Location"] == "/enroll/"
    # And a loan that is not paused answers on the page as always.
    response = client.post("/enroll/", identity_data(customer))
    assert response["Location"] == "/enroll/vehicles/"
