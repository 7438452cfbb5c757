"""Enrollments finishing at the same instant, in threads on a database several connections can
write at once (a file SQLite database with the production settings, or PostgreSQL)."""

from __future__ import annotations

from django.db import connections

from accounts.models import ElectronicConsent, User
from enrollment.flow import ConflictReason, EnrollmentConflict
from security.models import ChallengeAnswer, SecurityCode, SecurityEvent
from tests.conftest import HttpsClient
from tests.enrollment.conftest import Wizard
from tests.enrollment.test_services import complete
from tests.security.concurrency import concurrent_db, run_at_once

__all__ = ["concurrent_db"]  # the fixture, imported for pytest


def _attempt(customer, username: str):
    try:
        return complete(customer, username).username
    except EnrollmentConflict as conflict:
        return conflict.reason


def test_simultaneous_enrollments_of_one_customer_create_exactly_one_account(
    concurrent_db, make_customer
):
    customer = make_customer()
    names = iter([f"racer.{n}" for n in range(4)])
    results = run_at_once(4, lambda: _attempt(customer, next(names)))
    winners = [r for r in results if r.startswith("racer.")]
    assert len(winners) == 1
    assert (
        sorted(r for r in results if not r.startswith("racer."))
        == [ConflictReason.CUSTOMER_ENROLLED] * 3
    )
    assert list(User.objects.values_list("username", flat=True)) == winners
    assert ChallengeAnswer.objects.count() == 3
    assert ElectronicConsent.objects.count() == 1
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.ENROLLED).count() == 1
    assert connections["default"].vendor in {"sqlite", "postgresql"}


def test_simultaneous_enrollments_choosing_one_username_create_exactly_one(
    concurrent_db, make_customer
):
    customers = iter([make_customer() for _ in range(3)])
    cases = iter(["Same.Name", "same.name", "SAME.NAME"])
    results = run_at_once(3, lambda: _attempt(next(customers), next(cases)))
    assert sum(r.casefold() == "same.name" for r in results) == 1
    assert results.count(ConflictReason.USERNAME_TAKEN) == 2
    assert User.objects.count() == 1
    assert ChallengeAnswer.objects.count() == 3


def test_parallel_submissions_of_the_same_code_complete_the_enrollment_once(
    concurrent_db, customer
):
    browser = HttpsClient()
    wizard = Wizard(browser, customer)
    wizard.through_consent()
    code = wizard.send_code()
    # Two requests of the same browser (same session cookie) sent at once: a double click on
    # Finish enrollment.
    clicks = [HttpsClient() for _ in range(2)]
    for click in clicks:
        click.cookies = browser.cookies
    pending = iter(clicks)
    responses = run_at_once(2, lambda: next(pending).post("/enroll/confirm/", {"code": code}))
    # The code is claimed once: one request creates the account and signs in; the other is told
    # the account was just created (or, if it started after the first finished, is sent on as
    # a signed-in customer).
    winners = [r for r in responses if r.status_code == 302 and r["Location"] == "/enroll/device/"]
    assert len(winners) == 1, [(r.status_code, r.get("Location")) for r in responses]
    (other,) = (r for r in responses if r not in winners)
    if other.status_code == 302:
        assert other["Location"] == "/my/vehicles/"
    else:
        assert other.status_code == 200
        assert "An online account for you was created a moment ago" in other.content.decode()
    assert User.objects.filter(customer=customer).count() == 1
    assert ChallengeAnswer.objects.count() == 3
    assert ElectronicConsent.objects.count() == 1
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.ENROLLED).count() == 1
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_SUCCEEDED).count() == 1
    assert SecurityCode.objects.get().used_at is not None


def test_two_browsers_finishing_at_once_end_with_one_account(concurrent_db, customer):
    browsers = [Wizard(HttpsClient(), customer) for _ in range(2)]
    codes = []
    for n, browser in enumerate(browsers):
        browser.through_consent(username=f"browser.{n}")
        # One address gets one code per resend interval, so the second browser asks by text.
        codes.append(browser.send_code("email" if n == 0 else "sms"))
    pending = iter(zip(browsers, codes, strict=True))

    def finish():
        browser, code = next(pending)
        return browser.confirm(code)

    responses = run_at_once(2, finish)
    # Separate sessions: exactly one is signed in, the other is told why it was not.
    assert sorted(r.status_code for r in responses) == [200, 302]
    loser = next(r for r in responses if r.status_code == 200)
    assert "An online account for you was created a moment ago" in loser.content.decode()
    assert User.objects.filter(customer=customer).count() == 1
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.ENROLLED).count() == 1
