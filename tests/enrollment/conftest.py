"""Walking the enrollment wizard through the HTTPS test client."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from security.challenge import QUESTIONS

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
        "email": "dana.new@example.com",
        "mobile_phone": "(201) 555-0199",
    }
    for number, (key, answer) in enumerate(zip(QUESTION_KEYS, ANSWERS, strict=True), start=1):
        data[f"question_{number}"] = key
        data[f"answer_{number}"] = answer
    return {**data, **overrides}


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

    def profile(self, **overrides: str) -> Any:
        response = self.client.post("/enroll/profile/", profile_data(**overrides))
        assert response.status_code == 302, response.content.decode()[:3000]
        assert response["Location"] == "/enroll/consent/"
        return response

    def consent(self) -> Any:
        return self.client.post("/enroll/consent/", {"agree": "on"})

    def through_profile(self, **overrides: str) -> None:
        self.verify()
        self.vehicles()
        self.profile(**overrides)


@pytest.fixture
def wizard(client: Any, customer: Any) -> Wizard:
    return Wizard(client, customer)
