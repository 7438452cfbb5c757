"""The identity check's limits: per client IP, and per loan whatever the customer typed."""

from __future__ import annotations

from datetime import date

from security.identity_check import IdentityOutcome, identity_check
from security.models import SecurityEvent

WRONG_BIRTH_DATE = date(1990, 1, 1)


def _check(reference: str, birth_date: date = date(1985, 4, 12)):
    return identity_check(tin_last4="1234", birth_date=birth_date, reference=reference)


def test_the_right_details_verify_by_account_number_or_vin(make_customer):
    customer = make_customer()
    loan = customer.loan_accounts.select_related("vehicle").get()
    assert _check(loan.account_number).outcome == IdentityOutcome.VERIFIED
    assert _check(loan.vehicle.vin).outcome == IdentityOutcome.VERIFIED


def test_failures_by_account_number_and_by_vin_count_on_the_same_loan(make_customer, settings):
    settings.PORTAL_VERIFY_MAX_FAILURES = 3
    loan = make_customer().loan_accounts.select_related("vehicle").get()
    assert _check(loan.account_number, WRONG_BIRTH_DATE).outcome == IdentityOutcome.MISMATCH
    assert _check(loan.vehicle.vin, WRONG_BIRTH_DATE).outcome == IdentityOutcome.MISMATCH
    assert _check(loan.account_number, WRONG_BIRTH_DATE).outcome == IdentityOutcome.MISMATCH
    # Three failures on this loan, however it was named: the VIN has no fresh budget.
    assert _check(loan.vehicle.vin).outcome == IdentityOutcome.LIMITED
    assert _check(loan.account_number).outcome == IdentityOutcome.LIMITED
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.VERIFY_FAILED).count() == 3


def test_another_loans_budget_is_untouched(make_customer, settings):
    settings.PORTAL_VERIFY_MAX_FAILURES = 3
    first = make_customer().loan_accounts.get()
    second = make_customer().loan_accounts.get()
    for _ in range(3):
        _check(first.account_number, WRONG_BIRTH_DATE)
    assert _check(first.account_number).outcome == IdentityOutcome.LIMITED
    assert _check(second.account_number).outcome == IdentityOutcome.VERIFIED


def test_an_unknown_reference_counts_on_itself(db, settings):
    settings.PORTAL_VERIFY_MAX_FAILURES = 2
    assert _check("ZZ99999").outcome == IdentityOutcome.MISMATCH
    assert _check("zz 99999").outcome == IdentityOutcome.MISMATCH
    assert _check("ZZ99999").outcome == IdentityOutcome.LIMITED
