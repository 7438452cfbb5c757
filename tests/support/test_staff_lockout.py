"""Staff logins get the customers' lockout: consecutive wrong combinations of username, password
and code lock the username, the same way for unknown usernames, exact under parallel requests;
any wrong combination gets one answer, whatever was wrong."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from security.models import ActionToken, SecurityEvent
from tests.conftest import DEMO_PASSWORD, HttpsClient
from tests.security.concurrency import concurrent_db, run_at_once
from tests.signin.test_login import CSRF_INPUT
from tests.support.conftest import STAFF_PASSWORD
from tests.support.test_login import _code, _login

__all__ = ["concurrent_db"]  # the fixture, imported for pytest

WRONG = "The username, password or code is not right."
LOCKED = (
    "This staff login is locked for 30 minutes after too many attempts. "
    "Ask a supervisor, or try again later."
)
WRONG_PASSWORD = "not the staff passphrase 1"
CSP_NONCE = re.compile(rb'nonce="[^"]+"')


def _wrong_code(user) -> str:
    return f"{(int(_code(user)) + 1) % 1_000_000:06d}"


def _page(response, username: str) -> tuple[int, bytes]:
    """Status and body, without the CSRF token and the CSP nonce (new on each page) or the
    username typed."""
    body = CSP_NONCE.sub(b"", CSRF_INPUT.sub(b"", response.content))
    body = re.sub(rb'value="' + re.escape(username.encode()) + rb'"', b'value="USERNAME"', body)
    return response.status_code, body


def _attempt(console_url, username, password=WRONG_PASSWORD, code=""):
    """One login attempt from a fresh browser."""
    client = HttpsClient()
    response = _login(client, console_url, username, password, code)
    return client, response


def _lock(console_url, username, count=5):
    for _ in range(count):
        _attempt(console_url, username)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _failures(**filters) -> int:
    return SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_FAILED, **filters).count()


def test_five_wrong_passwords_lock_the_staff_login_even_for_the_right_password_and_code(
    console_url, make_staff
):
    staff = make_staff("agent")
    for _ in range(4):
        _, response = _attempt(console_url, staff.username)
        assert WRONG in response.content.decode()
    _, fifth = _attempt(console_url, staff.username)
    assert LOCKED in fifth.content.decode()
    client, response = _attempt(console_url, staff.username, STAFF_PASSWORD, _code(staff))
    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert not _signed_in(client)
    assert client.get(console_url()).status_code == 302


def test_during_the_lock_nothing_is_checked_and_attempts_do_not_extend_it(console_url, make_staff):
    from security.lockout import lock_status

    staff = make_staff("agent")
    device = TOTPDevice.objects.get(user=staff)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _lock(console_url, staff.username)
        _, until = lock_status(user=staff)
        clock.shift(timedelta(minutes=10))
        failures = _failures()
        with (
            mock.patch.object(User, "check_password", autospec=True) as check,
            mock.patch("support.flow.make_password") as dummy_hash,
        ):
            for username in (staff.username, "nobody.here"):
                _attempt(console_url, username, STAFF_PASSWORD, _code(staff))
        # "nobody.here" is not locked: only the staff username's attempt went unchecked.
        assert check.call_count == 0
        assert dummy_hash.call_count == 1
        assert _failures() == failures + 1
        assert lock_status(user=staff) == (True, until)
        device.refresh_from_db()
        assert device.last_t == -1  # the code was not used up


def test_the_staff_lock_ends_after_the_lock_time(console_url, make_staff):
    staff = make_staff("agent")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _lock(console_url, staff.username)
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        client, response = _attempt(console_url, staff.username, STAFF_PASSWORD, _code(staff))
        assert LOCKED in response.content.decode() and not _signed_in(client)
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        client, response = _attempt(console_url, staff.username, STAFF_PASSWORD, _code(staff))
        assert response.status_code == 302
        assert _signed_in(client)
        assert client.get(console_url()).status_code == 200


def test_a_wrong_code_counts_like_a_wrong_password(console_url, make_staff):
    staff = make_staff("agent")
    for attempt in range(5):
        # Mixed: right password with a wrong code, right password without a code, wrong password.
        password, code = [
            (STAFF_PASSWORD, _wrong_code(staff)),
            (STAFF_PASSWORD, ""),
            (WRONG_PASSWORD, _code(staff)),
        ][attempt % 3]
        _, response = _attempt(console_url, staff.username, password, code)
    assert LOCKED in response.content.decode()
    client, response = _attempt(console_url, staff.username, STAFF_PASSWORD, _code(staff))
    assert LOCKED in response.content.decode() and not _signed_in(client)
    assert _failures(user=staff) == 5


def test_right_password_with_a_wrong_code_gets_the_same_answer_as_a_wrong_password(
    console_url, make_staff
):
    staff = make_staff("agent")
    code = _wrong_code(staff)
    _, wrong_password = _attempt(console_url, staff.username, WRONG_PASSWORD, code)
    _, wrong_code = _attempt(console_url, staff.username, STAFF_PASSWORD, code)
    assert WRONG in wrong_password.content.decode()
    assert _page(wrong_code, staff.username) == _page(wrong_password, staff.username)


def test_every_wrong_combination_gets_the_one_message(console_url, make_staff, make_user):
    staff = make_staff("agent")
    no_app = make_staff("agent", with_device=False)
    disabled = make_staff("agent")
    User.objects.filter(pk=disabled.pk).update(is_active=False)
    customer = make_user()
    TOTPDevice.objects.create(user=customer, name="Authenticator app", confirmed=True)
    _, reference = _attempt(console_url, staff.username, WRONG_PASSWORD, "123456")
    expected = _page(reference, staff.username)
    cases = [
        (staff.username, STAFF_PASSWORD, _wrong_code(staff)),  # wrong code
        (staff.username, STAFF_PASSWORD, ""),  # no code
        ("nobody.here", STAFF_PASSWORD, "123456"),  # unknown username
        (no_app.username, STAFF_PASSWORD, "123456"),  # no authenticator app
        (disabled.username, STAFF_PASSWORD, _code(disabled)),  # disabled staff account
        (customer.username, DEMO_PASSWORD, _code(customer)),  # a customer's account
    ]
    for username, password, code in cases:
        client, response = _attempt(console_url, username, password, code)
        assert _page(response, username) == expected, username
        assert not _signed_in(client)


def test_unknown_usernames_get_the_same_lock_after_the_same_number_of_attempts(
    console_url, make_staff
):
    staff = make_staff("agent")
    pages = {}
    for username in (staff.username, "nobody.here"):
        answers = [_attempt(console_url, username)[1] for _ in range(6)]
        assert [LOCKED in a.content.decode() for a in answers] == [False] * 4 + [True] * 2
        pages[username] = [_page(a, username) for a in answers]
    assert pages[staff.username] == pages["nobody.here"]


def test_the_locking_attempt_records_locked_and_emails_the_staff_member(console_url, make_staff):
    staff = make_staff("agent")
    User.objects.filter(pk=staff.pk).update(email="kim.agent@lender.example")
    _lock(console_url, staff.username, count=4)
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED).exists()
    assert mail.outbox == []
    _lock(console_url, staff.username, count=3)  # the fifth locks; the rest are refused
    locked = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED)
    assert [event.user for event in locked] == [staff]
    assert _failures(user=staff) == 5
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["kim.agent@lender.example"]
    assert "temporarily locked" in mail.outbox[0].subject
    # A staff member's "wasn't me" is their supervisor, not the customers' link.
    body = mail.outbox[0].body
    assert "/not-me/" not in body and "Tell your supervisor at once" in body
    assert not ActionToken.objects.filter(user=staff).exists()


def test_a_staff_member_without_an_email_is_locked_without_an_email(console_url, make_staff):
    staff = make_staff("agent")
    _lock(console_url, staff.username)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED, user=staff).count() == 1
    assert mail.outbox == []


def test_right_password_and_code_reset_the_count(console_url, make_staff):
    staff = make_staff("agent")
    _lock(console_url, staff.username, count=4)
    client, response = _attempt(console_url, staff.username, STAFF_PASSWORD, _code(staff))
    assert response.status_code == 302 and _signed_in(client)
    answers = [_attempt(console_url, staff.username)[1].content.decode() for _ in range(5)]
    assert [LOCKED in a for a in answers] == [False] * 4 + [True]


def test_parallel_wrong_attempts_lock_after_exactly_the_threshold(
    concurrent_db, make_staff, console_url, settings
):
    settings.PORTAL_LOGIN_IP_RATE = "1000/m"
    staff = make_staff("agent")
    checks = []
    guard = threading.Lock()
    real_check = User.check_password

    def counting_check(self, raw_password):
        with guard:
            checks.append(self.pk)
        return real_check(self, raw_password)

    with mock.patch.object(User, "check_password", counting_check):
        answers = run_at_once(12, lambda: _attempt(console_url, staff.username)[1].content.decode())
    assert len(checks) == 5  # the hasher ran for exactly the threshold
    assert _failures(user=staff) == 5
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED, user=staff).count() == 1
    assert all((WRONG in a) != (LOCKED in a) for a in answers)
    assert sum(LOCKED in a for a in answers) >= 8  # 7 refused unchecked, and the locking one
    client, response = _attempt(console_url, staff.username, STAFF_PASSWORD, _code(staff))
    assert LOCKED in response.content.decode() and not _signed_in(client)


@pytest.mark.parametrize("seconds, words", [(60, "1 minute after"), (90, "2 minutes after")])
def test_the_lock_message_names_the_configured_lock_time(
    console_url, make_staff, settings, seconds, words
):
    settings.PORTAL_LOCKOUT_SECONDS = seconds
    staff = make_staff("agent")
    _lock(console_url, staff.username)
    _, response = _attempt(console_url, staff.username)
    assert f"This staff login is locked for {words} too many attempts." in (
        response.content.decode()
    )
