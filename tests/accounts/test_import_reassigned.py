"""A loan the servicer moves to another customer leaves the previous customer's My Vehicles."""

from __future__ import annotations

from pathlib import Path

import pytest

from accounts.models import LoanAccount, User
from security.models import SecurityEvent
from tests.accounts.test_import_accounts import DEMO, demo_rows, run_import, write_csv
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def _enroll(customer_number: str) -> User:
    """An online account for an imported customer, with all of its loans linked."""
    from accounts.models import Customer

    customer = Customer.objects.get(customer_number=customer_number)
    user = User.objects.create_user(
        username=f"user{customer_number.lower()}",
        password=DEMO_PASSWORD,
        email=customer.email,
        customer=customer,
    )
    user.loan_accounts.set(customer.loan_accounts.all())
    return user


def test_a_moved_loan_is_unlinked_from_the_previous_customers_online_account(
    tmp_path: Path, client
):
    run_import(DEMO)
    rows = demo_rows()
    first, other = (
        rows[0],
        next(r for r in rows if r["customer_number"] != rows[0]["customer_number"]),
    )
    previous = _enroll(first["customer_number"])
    client.force_login(previous)
    shown = f"<dd>{first['account_number'][-4:]}</dd>"
    assert shown in client.get("/my/vehicles/", secure=True).content.decode()

    # The servicer's next export has the loan under another customer.
    moved = {
        **first,
        **{
            k: other[k]
            for k in (
                "customer_number",
                "first_name",
                "last_name",
                "tin_last4",
                "birth_date",
                "email",
                "mobile_phone",
            )
        },
    }
    out, _ = run_import(write_csv(tmp_path / "next.csv", [moved, *rows[1:]]))

    assert "1 accounts moved to another customer" in out
    account = LoanAccount.objects.get(account_number=first["account_number"])
    assert account.customer.customer_number == other["customer_number"]
    assert not previous.loan_accounts.filter(pk=account.pk).exists()
    assert shown not in client.get("/my/vehicles/", secure=True).content.decode()
    event = SecurityEvent.objects.get(user=previous, kind=SecurityEvent.Kind.VEHICLE_REMOVED)
    assert event.detail.endswith("moved to another customer by the loan servicer")
    assert first["account_number"][-4:] in event.detail


def test_a_loan_that_stays_with_its_customer_keeps_its_link(tmp_path: Path):
    run_import(DEMO)
    rows = demo_rows()
    user = _enroll(rows[0]["customer_number"])
    linked = user.loan_accounts.count()
    changed = {**rows[0], "balance": "1.00"}
    out, _ = run_import(write_csv(tmp_path / "next.csv", [changed, *rows[1:]]))
    assert "moved" not in out
    assert user.loan_accounts.count() == linked
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.VEHICLE_REMOVED).exists()
