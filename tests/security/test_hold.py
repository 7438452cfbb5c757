"""A hold ("This wasn't me"): its own state on the username's SignInLock, with no end date. It
refuses the username and every registered device until support's unlock, never looks like (or
is mistaken for) a lock from failed attempts, and costs a registered-device login no statement."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.contrib.auth import SESSION_KEY
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from security.devices import DEVICE_COOKIE
from security.lockout import (
    attempt_failed,
    attempt_reserve,
    attempt_succeeded,
    attempts_reset,
    counter_for,
    failures_clear,
    hold_active,
    hold_place,
    lock_state,
    lock_status,
    lockout_clear,
    username_key,
)
from security.models import HoldReason, RegisteredDevice, SecurityEvent, SignInLock
from tests.conftest import HttpsClient
from tests.security.concurrency import concurrent_db
from tests.signin.test_login import log_in, register_device_for

pytestmark = pytest.mark.django_db
concurrent_db = concurrent_db  # the fixture, for the migration test below

HOLD_TEXT = "Only our support team can open it again."  # a hold does not end by itself
WRONG_PASSWORD = "wrong password 12345"


def _device(user) -> RegisteredDevice:
    return RegisteredDevice.objects.create(user=user, token_hash="0" * 64, name="Phone")


def _refused_everywhere(user, device: RegisteredDevice) -> bool:
    on_username = counter_for(username=user.username)
    on_device = counter_for(username=user.username, device=device)
    return attempt_reserve(on_username) is False and attempt_reserve(on_device) is False


# --- What a hold is -------------------------------------------------------------------------------
def test_a_hold_has_no_end_date(make_user):
    user = make_user()
    assert hold_place(user=user, reason=HoldReason.NOT_ME) is True
    state = lock_state(user=user)
    assert state.held and state.hold_reason == HoldReason.NOT_ME
    assert state.locked and state.until is None
    assert lock_status(user=user) == (True, None)
    row = SignInLock.objects.get(username_key=username_key(user.username))
    assert row.locked_until is None and row.held_at is not None


def test_a_hold_still_holds_after_the_lockout_period_and_after_ten_years(make_user):
    user = make_user()
    device = _device(user)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        hold_place(user=user, reason=HoldReason.NOT_ME)
        clock.shift(timedelta(minutes=31))
        assert hold_active(user=user)
        assert _refused_everywhere(user, device)
        clock.shift(timedelta(days=10 * 366))
        assert hold_active(user=user)
        assert lock_status(user=user) == (True, None)
        assert _refused_everywhere(user, device)
        assert HOLD_TEXT in log_in(HttpsClient(), user.username).content.decode()


def test_placing_a_hold_twice_keeps_the_first(make_user):
    user = make_user()
    hold_place(user=user, reason=HoldReason.NOT_ME)
    first = lock_state(user=user).held_at
    assert hold_place(user=user, reason=HoldReason.SUPPORT) is False
    assert lock_state(user=user).held_at == first
    assert lock_state(user=user).hold_reason == HoldReason.NOT_ME


def test_a_hold_holds_only_its_customer(make_user):
    user, other = make_user(), make_user()
    hold_place(user=user, reason=HoldReason.SUPPORT)
    assert hold_active(user=user) and not hold_active(user=other)
    assert attempt_reserve(counter_for(username=other.username)) is True


def test_a_hold_needs_a_time_and_a_reason_in_the_database(make_user):
    user = make_user()
    with pytest.raises(IntegrityError), transaction.atomic():
        SignInLock.objects.create(username_key=username_key(user.username), held_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        SignInLock.objects.create(
            username_key=username_key(user.username), hold_reason=HoldReason.NOT_ME
        )


# --- Failed attempts never look like a hold -------------------------------------------------------
def test_failed_password_lockouts_never_look_like_holds(make_user):
    user = make_user()
    device = _device(user)
    for counter in (
        counter_for(username=user.username),
        counter_for(username=user.username, device=device),
    ):
        for _ in range(8):
            if attempt_reserve(counter):
                attempt_failed(
                    counter, user=user, request=None, event=SecurityEvent.Kind.LOGIN_FAILED
                )
    state = lock_state(user=user)
    assert state.locked and not state.held and state.hold_reason is None
    assert state.until is not None and state.until - timezone.now() <= timedelta(minutes=30)
    assert not hold_active(user=user)
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert lock_status(user=user) == (False, None)
        assert attempt_reserve(counter_for(username=user.username)) is True
        assert attempt_reserve(counter_for(username=user.username, device=device)) is True


def test_a_long_temporary_lock_is_not_a_hold(make_user, settings):
    settings.PORTAL_LOCKOUT_SECONDS = 2 * 365 * 24 * 60 * 60  # longer than the old hold mark
    user = make_user()
    counter = counter_for(username=user.username)
    for _ in range(5):
        attempt_reserve(counter)
        attempt_failed(counter, user=user, request=None, event=SecurityEvent.Kind.LOGIN_FAILED)
    assert lock_status(user=user)[0] and not hold_active(user=user)
    assert not lock_state(user=user).held


# --- Lifting it ----------------------------------------------------------------------------------
def test_support_unlock_lifts_a_hold(make_user):
    user = make_user()
    device = _device(user)
    hold_place(user=user, reason=HoldReason.NOT_ME)
    lockout_clear(user=user)
    assert not hold_active(user=user)
    assert lock_state(user=user).hold_reason is None
    assert lock_status(user=user) == (False, None)
    assert attempt_reserve(counter_for(username=user.username)) is True
    assert attempt_reserve(counter_for(username=user.username, device=device)) is True


def test_clearing_failures_never_lifts_a_hold(make_user):
    # A password reset clears the counts; a hold placed meanwhile must survive it.
    user = make_user()
    counter = counter_for(username=user.username)
    for _ in range(3):
        attempt_reserve(counter)
    hold_place(user=user, reason=HoldReason.NOT_ME)
    failures_clear(user=user)
    assert hold_active(user=user)
    assert lock_state(user=user).failure_count == 0
    assert attempt_reserve(counter) is False


# --- Registered devices ---------------------------------------------------------------------------
def test_a_registered_device_cannot_sign_in_while_its_customer_is_held(client, make_user):
    user = make_user()
    client.cookies[DEVICE_COOKIE] = register_device_for(user)
    hold_place(user=user, reason=HoldReason.SUPPORT)  # a hold that leaves the devices in place

    response = log_in(client, user.username)

    assert response.status_code == 200 and HOLD_TEXT in response.content.decode()
    assert SESSION_KEY not in client.session
    device = RegisteredDevice.objects.get(user=user)
    assert (device.failure_count, device.locked_until) == (0, None)  # the hold refused it

    lockout_clear(user=user)
    response = log_in(client, user.username)
    assert response.status_code == 302 and response["Location"] == "/my/vehicles/"


def test_a_device_login_already_checking_its_password_gets_no_session_once_held(make_user):
    user = make_user()
    device = _device(user)
    counter = counter_for(username=user.username, device=device)
    assert attempt_reserve(counter)  # the right password is being hashed...
    hold_place(user=user, reason=HoldReason.NOT_ME)  # ...when "This wasn't me" arrives
    assert attempts_reset(counter, last_used_at=timezone.now()) is False
    assert attempt_succeeded(counter) is False


def test_a_device_removed_by_the_hold_during_its_login_gets_no_session(make_user):
    # "This wasn't me" deletes the devices in the same transaction as it holds: a login of one
    # of them that was past its attempt slot finds no row to reset, and must still be refused.
    user = make_user()
    device = _device(user)
    counter = counter_for(username=user.username, device=device)
    assert attempt_reserve(counter)
    hold_place(user=user, reason=HoldReason.NOT_ME)
    RegisteredDevice.objects.filter(user=user).delete()
    assert attempts_reset(counter, last_used_at=timezone.now()) is False


def test_a_registered_device_login_costs_no_statement_for_the_hold(client, make_user, settings):
    # Sessions in the cache, as in production (Redis): only the login's own SQL is counted.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    user = make_user()
    client.cookies[DEVICE_COOKIE] = register_device_for(user)

    with CaptureQueriesContext(connection) as queries:
        response = log_in(client, user.username)

    assert response.status_code == 302 and response["Location"] == "/my/vehicles/"
    statements = [
        query["sql"]
        for query in queries.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]
    # The device's lookup, its attempt slot, then in one transaction the reset of its count
    # with its last use, last_login and the event (plus BEGIN and COMMIT outside tests). The hold
    # is a NOT EXISTS inside the two UPDATEs of the device, never a query of its own.
    assert len(statements) == 5, statements
    device_updates = [sql for sql in statements if sql.startswith("UPDATE") and "device" in sql]
    assert len(device_updates) == 2
    assert all("security_signinlock" in sql for sql in device_updates)
    assert not [sql for sql in statements if sql.startswith('SELECT "security_signinlock"')]


# --- The data migration ---------------------------------------------------------------------------
def test_the_migration_function_turns_a_hundred_year_lock_into_a_hold(make_user):
    migration = importlib.import_module("security.migrations.0004_far_future_locks_to_holds")
    held, locked = make_user(), make_user()
    now = timezone.now()
    SignInLock.objects.create(
        username_key=username_key(held.username),
        locked_until=now + timedelta(days=100 * 365),
        failure_count=0,
    )
    SignInLock.objects.create(
        username_key=username_key(locked.username),
        locked_until=now + timedelta(minutes=30),
        failure_count=5,
    )

    migration.far_future_locks_to_holds(apps, None)

    state = lock_state(user=held)
    assert state.held and state.hold_reason == HoldReason.NOT_ME and state.until is None
    assert abs(state.held_at - now) < timedelta(minutes=1)  # when the old hold was placed
    assert SignInLock.objects.get(username_key=username_key(held.username)).locked_until is None
    assert not hold_active(user=locked) and lock_status(user=locked)[0]


@pytest.mark.usefixtures("concurrent_db")  # a database of its own to migrate back and forth
def test_migrating_turns_a_hundred_year_lock_into_a_hold_and_back():
    key = username_key("dana.rivera")
    before = [("security", "0003_sign_in_hold")]
    after = [("security", "0004_far_future_locks_to_holds")]
    leaf = MigrationExecutor(connection).loader.graph.leaf_nodes("security")
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        old_apps = executor.loader.project_state(before[0]).apps
        old_apps.get_model("security", "SignInLock").objects.create(
            username_key=key, locked_until=timezone.now() + timedelta(days=100 * 365)
        )

        MigrationExecutor(connection).migrate(after)
        row = SignInLock.objects.get(username_key=key)
        assert row.held_at is not None and row.hold_reason == HoldReason.NOT_ME
        assert row.locked_until is None

        MigrationExecutor(connection).migrate(before)
        row = old_apps.get_model("security", "SignInLock").objects.get(username_key=key)
        assert row.locked_until - timezone.now() > timedelta(days=365)
    finally:
        MigrationExecutor(connection).migrate(leaf)
