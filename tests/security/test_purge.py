"""The daily purge deletes each kind of dead row, and nothing a flow can still use."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from security.lockout import username_key
from security.models import (
    ActionToken,
    CodeDestination,
    IdentityVerificationThrottle,
    SecurityCode,
    SignInLock,
)
from security.purge import expired_rows_purge

pytestmark = pytest.mark.django_db


def code(user, *, sent_ago: timedelta, valid_for: timedelta = timedelta(minutes=5)):
    sent = timezone.now() - sent_ago
    return SecurityCode.objects.create(
        user=user,
        purpose="login",
        flow_id=f"flow-{sent.timestamp()}",
        channel="email",
        destination=user.email,
        code_hash="0" * 64,
        created_at=sent,
        expires_at=sent + valid_for,
    )


def test_codes_go_a_day_after_they_were_sent(make_user):
    user = make_user()
    old = code(user, sent_ago=timedelta(days=1, minutes=1))
    expired_today = code(user, sent_ago=timedelta(hours=2))
    live = code(user, sent_ago=timedelta(seconds=10))

    assert expired_rows_purge()["security codes"] == 1

    remaining = set(SecurityCode.objects.values_list("pk", flat=True))
    assert remaining == {expired_today.pk, live.pk}
    assert old.pk not in remaining


def test_an_address_is_forgotten_a_day_after_its_last_code():
    now = timezone.now()
    CodeDestination.objects.create(destination_key="old", last_sent_at=now - timedelta(days=2))
    CodeDestination.objects.create(destination_key="recent", last_sent_at=now - timedelta(hours=3))

    assert expired_rows_purge()["code addresses"] == 1
    assert list(CodeDestination.objects.values_list("destination_key", flat=True)) == ["recent"]


def test_link_tokens_go_once_expired(make_user):
    user = make_user()
    now = timezone.now()
    ActionToken.objects.create(
        user=user, purpose="not_me", token_hash="a" * 64, expires_at=now - timedelta(seconds=1)
    )
    valid = ActionToken.objects.create(
        user=user, purpose="not_me", token_hash="b" * 64, expires_at=now + timedelta(days=1)
    )

    assert expired_rows_purge()["link tokens"] == 1
    assert list(ActionToken.objects.values_list("pk", flat=True)) == [valid.pk]


def test_identity_check_counters_go_when_their_window_has_ended(settings):
    settings.PORTAL_VERIFY_WINDOW_SECONDS = 24 * 60 * 60
    now = timezone.now()
    IdentityVerificationThrottle.objects.create(
        reference_key="old", failures=3, window_started_at=now - timedelta(hours=25)
    )
    IdentityVerificationThrottle.objects.create(
        reference_key="current", failures=3, window_started_at=now - timedelta(hours=23)
    )

    assert expired_rows_purge()["identity-check counters"] == 1
    # The loan still in its window keeps its count: the purge lifts no limit early.
    assert list(IdentityVerificationThrottle.objects.values_list("reference_key", flat=True)) == [
        "current"
    ]


def test_idle_lock_rows_go_but_locks_holds_and_recent_failures_stay():
    now = timezone.now()
    day_ago = now - timedelta(days=1, minutes=1)
    rows = {
        "made-up name tried once": dict(failure_count=1),
        "unlocked long ago": dict(failure_count=5, locked_until=day_ago),
        "locked now": dict(failure_count=5, locked_until=now + timedelta(minutes=10)),
        "held": dict(held_at=day_ago, hold_reason="not_me"),
    }
    for name, fields in rows.items():
        SignInLock.objects.create(username_key=username_key(name), **fields)
    SignInLock.objects.update(updated_at=day_ago)  # auto_now set it on create
    SignInLock.objects.create(username_key=username_key("failed a minute ago"), failure_count=2)

    assert expired_rows_purge()["idle lock rows"] == 2

    kept = set(SignInLock.objects.values_list("username_key", flat=True))
    assert kept == {
        username_key("locked now"),
        username_key("held"),
        username_key("failed a minute ago"),
    }


def test_expired_database_sessions_go(settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    live = SessionStore()
    live.create()
    dead = SessionStore()
    dead.create()
    Session.objects.filter(session_key=dead.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    assert expired_rows_purge()["sessions"] == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_the_daily_command_reports_every_kind(make_user):
    code(make_user(), sent_ago=timedelta(days=2))
    out = io.StringIO()

    call_command("purge_expired", stdout=out)

    lines = out.getvalue().splitlines()
    assert "Deleted 1 expired security codes." in lines
    for kind in (
        "code addresses",
        "link tokens",
        "identity-check counters",
        "idle lock rows",
        "sessions",
    ):
        assert f"Deleted 0 expired {kind}." in lines
    assert lines[-1].startswith("Deleted 0 security events and 0 staff audit entries")
