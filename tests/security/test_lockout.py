"""Lockout counters: five consecutive failures lock for 30 minutes; registered devices keep
their own count; unknown usernames lock like known ones; counts exact under concurrency."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.utils import timezone

from security.devices import DEVICE_COOKIE
from security.lockout import (
    STALE_SLOTS,
    Counter,
    attempt_failed,
    attempt_reserve,
    attempt_succeeded,
    attempts_reset,
    counter_for,
    counter_locked,
    lock_status,
    lockout_clear,
    username_key,
)
from security.models import RegisteredDevice, SecurityEvent, SignInLock
from tests.conftest import DEMO_PASSWORD
from tests.security.concurrency import concurrent_db, run_at_once
from tests.signin.test_login import CSRF_INPUT

pytestmark = pytest.mark.django_db
concurrent_db = concurrent_db  # the fixture, for the tests below that use it

FAILED = SecurityEvent.Kind.LOGIN_FAILED


def _fail(counter: Counter, user=None) -> bool:
    assert attempt_reserve(counter)
    return attempt_failed(counter, user=user, request=None, event=FAILED)


def _device(user) -> RegisteredDevice:
    return RegisteredDevice.objects.create(user=user, token_hash="0" * 64, name="Phone")


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def test_username_key_ignores_case_width_and_spaces_and_hides_the_name():
    key = username_key("  DanaRivera ")
    assert key == username_key("danarivera") == username_key(_fullwidth("DanaRivera"))
    assert key != username_key("danarivera2")
    assert "dana" not in key and len(key) == 64


def test_fifth_consecutive_failure_locks_for_thirty_minutes(make_user):
    user = make_user()
    counter = counter_for(username=user.username)
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(4):
            assert _fail(counter, user) is False
        assert _fail(counter, user) is True
        locked, until = lock_status(user=user)
        assert locked and until == timezone.now() + timedelta(minutes=30)
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED, user=user).count() == 1


def test_attempts_during_a_lock_are_refused_and_do_not_extend_it(make_user):
    user = make_user()
    counter = counter_for(username=user.username)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(5):
            _fail(counter, user)
        until = lock_status(user=user)[1]
        clock.shift(timedelta(minutes=10))
        for _ in range(10):
            assert attempt_reserve(counter) is False
        assert lock_status(user=user)[1] == until
        assert SignInLock.objects.get().failure_count == 5


def test_lock_ends_after_thirty_minutes_with_a_fresh_count(make_user):
    user = make_user()
    counter = counter_for(username=user.username)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(5):
            _fail(counter, user)
        clock.shift(timedelta(minutes=30, seconds=1))
        assert lock_status(user=user) == (False, None)
        assert _fail(counter, user) is False
        assert SignInLock.objects.get().failure_count == 1


def test_a_right_attempt_gives_its_slot_back_but_does_not_reset_the_count(make_user):
    counter = counter_for(username=make_user().username)
    for _ in range(3):
        _fail(counter)
    assert attempt_reserve(counter)
    assert attempt_succeeded(counter) is True
    assert SignInLock.objects.get().failure_count == 3


def test_full_login_resets_the_count(make_user):
    counter = counter_for(username=make_user().username)
    for _ in range(4):
        _fail(counter)
    attempts_reset(counter)
    assert SignInLock.objects.get().failure_count == 0
    for _ in range(4):
        assert _fail(counter) is False


def test_right_attempt_that_finished_after_a_parallel_lock_is_refused(make_user):
    counter = counter_for(username=make_user().username)
    for _ in range(4):
        _fail(counter)
    assert attempt_reserve(counter)  # the fifth slot, a right password being checked
    SignInLock.objects.update(locked_until=timezone.now() + timedelta(minutes=30))
    assert attempt_succeeded(counter) is False


def test_slots_taken_by_attempts_in_flight_refuse_further_attempts(make_user):
    counter = counter_for(username=make_user().username)
    for _ in range(5):
        assert attempt_reserve(counter) is True
    assert attempt_reserve(counter) is False


def test_slots_never_given_back_become_a_lock(make_user):
    """A worker killed mid-check never returns its slot; the count still ends, as a lock."""
    counter = counter_for(username=make_user().username)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(5):
            attempt_reserve(counter)
        clock.shift(STALE_SLOTS + timedelta(seconds=1))
        assert attempt_reserve(counter) is False
        assert counter_locked(counter)
        clock.shift(timedelta(minutes=31))
        assert attempt_reserve(counter) is True


def test_unknown_username_locks_after_the_same_number_of_failures():
    counter = counter_for(username="nobody-by-this-name")
    results = [_fail(counter) for _ in range(5)]
    assert results == [False, False, False, False, True]
    assert attempt_reserve(counter) is False


def test_registered_device_keeps_its_own_count(make_user):
    user = make_user()
    device = _device(user)
    on_device = counter_for(username=user.username, device=device)
    elsewhere = counter_for(username=user.username)
    for _ in range(5):
        _fail(elsewhere, user)
    assert lock_status(user=user)[0] is True
    assert attempt_reserve(on_device) is True  # the username's lock does not stop the device
    assert attempt_succeeded(on_device) is True


def test_failures_on_a_registered_device_lock_that_device_only(make_user):
    user = make_user()
    device = _device(user)
    on_device = counter_for(username=user.username, device=device)
    for _ in range(5):
        _fail(on_device, user)
    device.refresh_from_db()
    assert device.locked_until is not None and device.failure_count == 5
    assert lock_status(user=user) == (False, None)
    assert attempt_reserve(counter_for(username=user.username)) is True
    assert attempt_reserve(on_device) is False


def test_lockout_clear_clears_the_username_and_every_device(make_user):
    user = make_user()
    device = _device(user)
    for counter in (counter_for(username=user.username), counter_for(username="x", device=device)):
        for _ in range(5):
            _fail(counter, user)
    lockout_clear(user=user)
    assert lock_status(user=user) == (False, None)
    device.refresh_from_db()
    assert device.failure_count == 0 and device.locked_until is None
    assert attempt_reserve(counter_for(username=user.username)) is True


@pytest.mark.usefixtures("concurrent_db")
def test_parallel_reservations_never_exceed_the_threshold():
    counter = counter_for(username="target")
    granted = run_at_once(12, lambda: attempt_reserve(counter))
    assert len(granted) == 12
    assert granted.count(True) == 5
    assert SignInLock.objects.get().failure_count == 5


@pytest.mark.usefixtures("concurrent_db")
def test_parallel_failures_lock_once_with_exactly_five_failure_events():
    counter = counter_for(username="target")

    def attempt() -> str:
        if not attempt_reserve(counter):
            return "refused"
        attempt_failed(counter, user=None, request=None, event=FAILED)
        return "checked"

    outcomes = run_at_once(16, attempt)
    assert outcomes.count("checked") == 5
    assert SecurityEvent.objects.filter(kind=FAILED).count() == 5
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED).count() == 1
    assert counter_locked(counter)


# --- Through the Log In page -----------------------------------------------------------------------
WRONG_PASSWORD = "wrong password 12345"
LOCK_TEXT = "Online access is temporarily locked"


def _log_in(client, username, password=DEMO_PASSWORD):
    return client.post("/login/", {"username": username, "password": password})


def _without_csrf(response) -> bytes:
    return CSRF_INPUT.sub(b"", response.content)


@pytest.fixture
def hasher_calls(monkeypatch):
    """Counts every Argon2 computation (a check or a dummy hash) the login makes."""
    # The portal's hasher and Django's share the algorithm name "argon2"; Django verifies with
    # the last one listed, which the portal's inherits from: count on the common base.
    from django.contrib.auth.hashers import Argon2PasswordHasher

    calls: list[str] = []
    verify, encode = Argon2PasswordHasher.verify, Argon2PasswordHasher.encode

    def counting_verify(self, password, encoded):
        calls.append("verify")
        return verify(self, password, encoded)

    def counting_encode(self, password, salt):
        calls.append("encode")
        return encode(self, password, salt)

    monkeypatch.setattr(Argon2PasswordHasher, "verify", counting_verify)
    monkeypatch.setattr(Argon2PasswordHasher, "encode", counting_encode)
    return calls


def test_fifth_wrong_password_shows_the_lock_message_and_how_to_reach_support(
    client, make_user, settings
):
    user = make_user()
    for _ in range(4):
        assert LOCK_TEXT not in _log_in(client, user.username, WRONG_PASSWORD).content.decode()
    html = _log_in(client, user.username, WRONG_PASSWORD).content.decode()
    assert LOCK_TEXT in html
    assert settings.PORTAL_SUPPORT_PHONE in html and settings.PORTAL_SUPPORT_HOURS in html


def test_during_a_lock_the_right_password_is_not_checked_and_looks_like_a_wrong_one(
    client, make_user, hasher_calls
):
    user = make_user()
    hasher_calls.clear()
    for _ in range(5):
        _log_in(client, user.username, WRONG_PASSWORD)
    assert len(hasher_calls) == 5
    right = _log_in(client, user.username)
    wrong = _log_in(client, user.username, WRONG_PASSWORD)
    assert len(hasher_calls) == 5  # nothing checked during the lock
    assert right.status_code == wrong.status_code == 200
    assert _without_csrf(right) == _without_csrf(wrong)
    assert LOCK_TEXT in right.content.decode()
    assert SESSION_KEY not in client.session
    assert SecurityEvent.objects.filter(kind=FAILED).count() == 5


def test_unknown_username_gets_the_same_lock_message_after_the_same_failures(client, make_user):
    user = make_user()
    fake = "x" * len(user.username)
    known = [_log_in(client, user.username, WRONG_PASSWORD) for _ in range(6)]
    unknown = [_log_in(client, fake, WRONG_PASSWORD) for _ in range(6)]
    for real, made_up in zip(known, unknown, strict=True):
        assert real.status_code == made_up.status_code
        assert _without_csrf(real).replace(user.username.encode(), fake.encode()) == (
            _without_csrf(made_up)
        )
    assert LOCK_TEXT not in known[3].content.decode() and LOCK_TEXT in known[4].content.decode()


def test_lock_sends_one_email_and_records_one_lock_event(client, make_user):
    user = make_user()
    for _ in range(7):
        _log_in(client, user.username, WRONG_PASSWORD)
    lock_mails = [m for m in mail.outbox if m.to == [user.email]]
    assert len(lock_mails) == 1 and "locked" in lock_mails[0].body.lower()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED, user=user).count() == 1


def test_registered_device_still_signs_in_during_a_lock(client, make_user):
    from tests.conftest import HttpsClient

    user = make_user()
    attacker = HttpsClient()
    for _ in range(8):
        _log_in(attacker, user.username, WRONG_PASSWORD)
    assert lock_status(user=user)[0]
    client.cookies[DEVICE_COOKIE] = _device_token(user)
    response = _log_in(client, user.username)
    assert response.status_code == 302 and response["Location"] == "/my/vehicles/"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert lock_status(user=user)[0]  # still locked for everyone else
    assert LOCK_TEXT in _log_in(attacker, user.username).content.decode()


def test_wrong_passwords_with_a_device_cookie_lock_that_device_only(client, make_user):
    from tests.conftest import HttpsClient

    user = make_user()
    client.cookies[DEVICE_COOKIE] = _device_token(user)
    for _ in range(5):
        _log_in(client, user.username, WRONG_PASSWORD)
    assert LOCK_TEXT in _log_in(client, user.username).content.decode()
    assert lock_status(user=user) == (False, None)
    elsewhere = _log_in(HttpsClient(), user.username)
    assert elsewhere["Location"] == "/login/verify/"  # the username itself is not locked


def test_lock_ends_after_thirty_minutes(client, make_user):
    from tests.conftest import HttpsClient

    user = make_user()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(5):
            _log_in(client, user.username, WRONG_PASSWORD)
        clock.shift(timedelta(minutes=29))
        assert LOCK_TEXT in _log_in(client, user.username).content.decode()
        clock.shift(timedelta(minutes=1, seconds=1))
        assert _log_in(HttpsClient(), user.username)["Location"] == "/login/verify/"


def test_support_unlock_lets_the_customer_in_again(client, make_user):
    user = make_user()
    for _ in range(5):
        _log_in(client, user.username, WRONG_PASSWORD)
    lockout_clear(user=user)
    assert _log_in(client, user.username)["Location"] == "/login/verify/"


def _device_token(user) -> str:
    from django.http import HttpResponse
    from django.test import RequestFactory

    from security.devices import device_register

    response = HttpResponse()
    device_register(user=user, request=RequestFactory().get("/"), response=response)
    return response.cookies[DEVICE_COOKIE].value


# --- What the customer is told ---------------------------------------------------------------------
def test_the_lock_notice_states_the_configured_duration_and_the_end_in_the_portals_zone(
    make_user, settings
):
    from security.lockout import lock_notice

    settings.PORTAL_LOCKOUT_SECONDS = 2 * 60 * 60
    user = make_user()
    counter = counter_for(username=user.username)
    with time_machine.travel("2026-07-01 14:00:00+00:00", tick=False):
        for _ in range(5):
            _fail(counter, user)
        notice = lock_notice(counter)
        assert "paused for 2 hours" in notice.paused
        assert "until 12:00 PM EDT" in notice.paused  # 16:00 UTC, summer in New York
        assert "call us at 1-800-555-0142" in notice.next_steps
        assert '<a href="tel:1-800-555-0142">1-800-555-0142</a>' in notice.next_steps_html
        body = mail.outbox[-1].body  # the lock email says the same
        assert notice.paused in body and notice.next_steps in body


def test_a_lock_ending_on_another_day_names_the_day(make_user):
    from security.lockout import LockNotice

    with time_machine.travel("2026-12-01 04:50:00+00:00", tick=False):  # 11:50 PM in New York
        paused = LockNotice(until=timezone.now() + timedelta(minutes=30)).paused
    assert "until 12:20 AM EST on Tuesday, December 1" in paused


def test_a_hold_is_not_described_as_a_pause_that_ends(make_user):
    from security.lockout import hold_place, lock_notice
    from security.models import HoldReason

    user = make_user()
    hold_place(user=user, reason=next(iter(HoldReason)))
    notice = lock_notice(counter_for(username=user.username))
    assert notice.held and "paused for" not in notice.paused and "Wait" not in notice.next_steps
    assert "call us" in notice.next_steps
