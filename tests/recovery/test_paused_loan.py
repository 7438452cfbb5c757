"""Forgot username? and Forgot password? while someone else has used up a loan's identity checks:
the real customer gets through with a code to the contact on record; wrong details get the same
page and nothing is sent."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from security.models import OutgoingMessage, SecurityEvent
from tests.conftest import HttpsClient

pytestmark = pytest.mark.django_db

SENT = (
    "If these details match our records, we have sent a security code to the contact we have "
    "on file for this loan."
)
ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
CUSTOMER = {"REMOTE_ADDR": "198.51.100.20"}
USERNAME_CODE = "/forgot-username/code/"
PASSWORD_CODE = "/forgot-password/identity-code/"


def _identity(user, **overrides):
    account = user.loan_accounts.first().account_number
    return {"tin_last4": "1234", "birth_date": "04/12/1985", "reference": account, **overrides}


def _code_to(address: str) -> str:
    [message] = [m for m in mail.outbox if m.to == [address] and "security code" in m.subject]
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def _visible(page: bytes) -> str:
    text = page.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    return re.sub(r'nonce="[^"]+"', "", text)


@pytest.fixture
def user(make_user, settings):
    """An enrolled customer whose loan a third party paused with wrong TIN digits."""
    settings.PORTAL_VERIFY_MAX_FAILURES = 3
    user = make_user()
    attacker = HttpsClient()
    for _ in range(3):
        response = attacker.post("/forgot-username/", _identity(user, tin_last4="0000"), **ATTACKER)
        assert "We couldn&#x27;t verify your information." in response.content.decode()
    return user


def test_forgot_username_goes_through_with_the_code_to_the_contact_on_record(client, user):
    response = client.post("/forgot-username/", _identity(user), **CUSTOMER)
    assert response.status_code == 302 and response["Location"] == USERNAME_CODE
    page = client.get(USERNAME_CODE, **CUSTOMER)
    assert page.status_code == 200 and SENT in page.content.decode()
    response = client.post(USERNAME_CODE, {"code": _code_to(user.email)}, **CUSTOMER)
    assert response.status_code == 302 and response["Location"] == "/forgot-username/sent/"
    assert any(user.username in m.body for m in mail.outbox if m.to == [user.email])
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.VERIFY_BY_CODE).count() == 1


def test_wrong_details_get_the_same_code_page_and_nothing_is_sent(client, user):
    right = client.post("/forgot-username/", _identity(user), **CUSTOMER)
    right_page = client.get(USERNAME_CODE, **CUSTOMER)
    sent_before = OutgoingMessage.objects.count()
    other = HttpsClient()
    wrong = other.post("/forgot-username/", _identity(user, tin_last4="0001"), **ATTACKER)
    wrong_page = other.get(USERNAME_CODE, **ATTACKER)
    assert (wrong.status_code, wrong["Location"]) == (right.status_code, right["Location"])
    assert wrong_page.status_code == right_page.status_code == 200
    assert _visible(wrong_page.content) == _visible(right_page.content)
    assert OutgoingMessage.objects.count() == sent_before
    # And any code there fails like a wrong one.
    response = other.post(USERNAME_CODE, {"code": _code_to(user.email)}, **ATTACKER)
    assert response.status_code == 200
    assert "That security code is not right." in response.content.decode()


def test_forgot_password_goes_through_with_the_code_then_as_usual(client, user):
    data = {"username": user.username, **_identity(user)}
    response = client.post("/forgot-password/", data, **CUSTOMER)
    assert response.status_code == 302 and response["Location"] == PASSWORD_CODE
    assert SENT in client.get(PASSWORD_CODE, **CUSTOMER).content.decode()
    response = client.post(PASSWORD_CODE, {"code": _code_to(user.email)}, **CUSTOMER)
    assert response.status_code == 302 and response["Location"] == "/forgot-password/send/"
    # Then the recovery's own code to the account's contact, once the address may get another.
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        response = client.post("/forgot-password/send/", {"channel": "email"}, **CUSTOMER)
    assert response["Location"] == "/forgot-password/code/"


def test_forgot_password_with_another_username_is_not_verified_after_the_code(client, user):
    data = {"username": "someone.else", **_identity(user)}
    assert client.post("/forgot-password/", data, **CUSTOMER)["Location"] == PASSWORD_CODE
    response = client.post(PASSWORD_CODE, {"code": _code_to(user.email)}, follow=True, **CUSTOMER)
    assert response.redirect_chain == [("/forgot-password/", 302)]
    assert "We couldn&#x27;t verify your information." in response.content.decode()
