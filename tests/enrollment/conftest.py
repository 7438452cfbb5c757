"""Walking the enrollment wizard through the HTTPS test client."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.core import mail

from security.challenge import QUESTIONS
from security.sms import LocmemSmsBackend

TIN = "8642"
BIRTH_DATE = date(1985, 4, 12)
BIRTH_DATE_TYPED = "04/12/1985"
PASSWORD = "velvet canyon mortar lantern 58"
QUESTION_KEYS = list(QUESTIONS)[:3]
ANSWERS = ["Blue Ridge", "rex the dog", "Paris"]


@pytest.fixture
def customer(make_customer: Any) -> Any:
    """A servicing customer with two loan accounts, not enrolled."""
    return make_customer(tin_last4=TIN, birth_date=BIRTH_DATE, loans=2)


def identity_data(customer: Any, **overrides: str) -> dict[str, str]:
    account = customer.loan_accounts.order_by("account_number").first()
    return {
        "tin_last4": TIN,
        "birth_date": BIRTH_DATE_TYPED,
        "reference": account.account_number,
        **overrides,
    }


def profile_data(**overrides: str) -> dict[str, str]:
    data = {
        "username": "dana.r-2026",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    for number, (key, answer) in enumerate(zip(QUESTION_KEYS, ANSWERS, strict=True), start=1):
        data[f"question_{number}"] = key
        data[f"answer_{number}"] = answer
    return {**data, **overrides}


# The code in English ("security code is 123456") or Spanish ("código de seguridad de ... es 123456").
CODE = re.compile(r"(?:security code is|código de seguridad de .+? es) (\d{6})")


def code_emailed_to(address: str) -> str:
    """The newest security code emailed to `address` (Django's test outbox)."""
    for message in reversed(mail.outbox):
        if message.to == [address] and (match := CODE.search(message.body)):
            return match.group(1)
    raise AssertionError(f"no security code emailed to {address}")


def code_texted_to(number: str) -> str:
    """The newest security code texted to `number` (security.sms.LocmemSmsBackend)."""
    for to, body in reversed(LocmemSmsBackend.outbox):
        if to == number and (match := CODE.search(body)):
            return match.group(1)
    raise AssertionError(f"no security code texted to {number}")


class Wizard:
    """Drives the wizard's steps with a client, asserting each accepted step redirects on."""

    def __init__(self, client: Any, customer: Any) -> None:
        self.client = client
        self.customer = customer

    def verify(self, **overrides: str) -> Any:
        response = self.client.post("/enroll/", identity_data(self.customer, **overrides))
        assert response.status_code == 302, response.content.decode()[:2000]
        assert response["Location"] == "/enroll/vehicles/"
        return response

    def vehicles(self, account_ids: list[int] | None = None) -> Any:
        response = self.client.post("/enroll/vehicles/", {"accounts": account_ids or []})
        assert response.status_code == 302
        assert response["Location"] == "/enroll/profile/"
        return response

    def profile(self, *, then: str = "/enroll/consent/", **overrides: str) -> Any:
        response = self.client.post("/enroll/profile/", profile_data(**overrides))
        assert response.status_code == 302, response.content.decode()[:3000]
        assert response["Location"] == then
        return response

    def consent(self) -> Any:
        response = self.client.post("/enroll/consent/", {"agree": "on"})
        assert response.status_code == 302
        assert response["Location"] == "/enroll/confirm/"
        return response

    def send_code(self, channel: str = "email") -> str:
        """Asks for a code to the contact on record; returns the code as it arrived there."""
        response = self.client.post("/enroll/confirm/send/", {"channel": channel})
        assert response.status_code == 302
        assert response["Location"] == "/enroll/confirm/"
        self.customer.refresh_from_db()
        if channel == "sms":
            return code_texted_to(self.customer.mobile_phone)
        return code_emailed_to(self.customer.email)

    def confirm(self, code: str, **extra: Any) -> Any:
        return self.client.post("/enroll/confirm/", {"code": code}, **extra)

    def through_profile(self, **overrides: str) -> None:
        self.verify()
        self.vehicles()
        self.profile(**overrides)

    def through_consent(self, **overrides: str) -> None:
        self.through_profile(**overrides)
        self.consent()

    def finish(self, **overrides: str) -> Any:
        """Every step, the code from the email on record included; returns the last response."""
        self.through_consent(**overrides)
        response = self.confirm(self.send_code())
        assert response.status_code == 302, response.content.decode()[:3000]
        assert response["Location"] == "/enroll/device/"
        return response


@pytest.fixture
def wizard(client: Any, customer: Any) -> Wizard:
    return Wizard(client, customer)
