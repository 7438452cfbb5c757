"""Security notification emails and the "This wasn't me" link they carry."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import RequestFactory
from django.utils import timezone

from security.models import ActionToken
from security.notifications import KINDS, NOT_ME_LINK_DAYS, notify

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https://[^\s/]+/not-me/([A-Za-z0-9_-]+)/")
CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)


def _request(host: str = "portal.example.test") -> object:
    request = RequestFactory().get("/", secure=True, HTTP_USER_AGENT=CHROME_ON_WINDOWS)
    request.META["HTTP_HOST"] = host
    request.client_ip = "203.0.113.9"
    return request


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_sends_one_plain_text_email_with_a_not_me_link(kind, make_user, settings):
    settings.PORTAL_LENDER_NAME = "Harbor & Pine Auto Credit"
    user = make_user()
    notify(user=user, kind=kind, context={"change": "Your challenge questions were changed"})

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "Harbor & Pine Auto Credit" in message.subject  # plain text: no HTML escaping
    assert "\n" not in message.subject
    assert "&amp;" not in message.body and "<" not in message.body
    assert "If this wasn't you" in message.body
    assert settings.PORTAL_SUPPORT_PHONE in message.body
    assert settings.PORTAL_SUPPORT_HOURS in message.body
    assert LINK.search(message.body)


def test_link_token_has_256_bits_and_only_its_hash_is_stored(make_user):
    user = make_user()
    notify(user=user, kind="password_changed")

    token = LINK.search(mail.outbox[0].body).group(1)
    assert len(token) >= 43  # token_urlsafe(32): 32 random bytes
    row = ActionToken.objects.get(user=user)
    assert row.purpose == ActionToken.Purpose.NOT_ME
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.token_hash
    assert row.used_at is None
    assert (
        timedelta(days=NOT_ME_LINK_DAYS - 1)
        < row.expires_at - timezone.now()
        <= timedelta(days=NOT_ME_LINK_DAYS)
    )


def test_each_email_carries_its_own_token(make_user):
    user = make_user()
    notify(user=user, kind="lockout")
    notify(user=user, kind="lockout")
    tokens = {LINK.search(m.body).group(1) for m in mail.outbox}
    assert len(tokens) == 2
    assert ActionToken.objects.filter(user=user).count() == 2


def test_email_names_time_browser_and_ip_when_a_request_is_given(make_user, settings):
    settings.ALLOWED_HOSTS = ["portal.example.test"]
    user = make_user()
    notify(user=user, kind="new_device", request=_request())

    body = mail.outbox[0].body
    assert "Chrome on Windows" in body
    assert "203.0.113.9" in body
    assert f"{timezone.localtime():%Y}" in body
    assert "https://portal.example.test/not-me/" in body


def test_link_uses_the_first_allowed_host_without_a_request(make_user, settings):
    settings.ALLOWED_HOSTS = [".portal.example.test", "localhost"]
    notify(user=make_user(), kind="access_restored")
    assert "https://portal.example.test/not-me/" in mail.outbox[0].body


def test_username_reminder_contains_the_username(make_user):
    user = make_user(username="dana.rivera")
    notify(user=user, kind="username_reminder")
    assert "dana.rivera" in mail.outbox[0].body


def test_security_change_names_the_change(make_user):
    notify(
        user=make_user(),
        kind="security_change",
        context={"change": "Your challenge questions were changed"},
    )
    assert "Your challenge questions were changed" in mail.outbox[0].body


def test_lockout_email_says_access_is_locked_for_how_long_until_when_and_what_to_do(
    make_user, settings
):
    from security.lockout import LockNotice

    settings.PORTAL_LOCKOUT_SECONDS = 45 * 60
    with time_machine.travel("2026-11-30 20:00:00+00:00", tick=False):
        until = timezone.now() + timedelta(minutes=45)
        notify(user=make_user(), kind="lockout", context={"lock": LockNotice(until=until)})
    body = mail.outbox[0].body
    assert "temporarily locked" in body
    assert "paused for 45 minutes" in body and "until 3:45 PM EST" in body
    assert "Forgot password?" in body and "call us at 1-800-555-0142" in body


def test_password_and_codes_are_never_in_the_email(make_user):
    from tests.conftest import DEMO_PASSWORD

    notify(user=make_user(), kind="password_reset")
    assert DEMO_PASSWORD not in mail.outbox[0].body


def test_unknown_kind_is_a_programming_error(make_user):
    with pytest.raises(ValueError):
        notify(user=make_user(), kind="birthday")


def test_delivery_failure_is_logged_without_address_or_link_and_not_raised(
    make_user, settings, caplog
):
    settings.MAILERS = {"default": {"BACKEND": "tests.security.test_notifications.BrokenBackend"}}
    user = make_user()
    with caplog.at_level(logging.WARNING, logger="security.notifications"):
        notify(user=user, kind="password_changed")  # must not raise

    assert caplog.records, "the failure must be logged"
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert user.email not in logged
    assert "not-me" not in logged
    assert "smtp.example.test" not in logged  # the exception's own text is not logged


def test_user_without_email_is_skipped_quietly(make_user):
    user = make_user()
    user.email = ""
    notify(user=user, kind="password_changed")
    assert mail.outbox == []


def test_notify_inside_a_failing_transaction_keeps_the_callers_transaction_usable(
    make_user, monkeypatch
):
    from django.db import transaction

    from accounts.models import User

    user = make_user()

    def broken_create(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("security.notifications.not_me_token_create", broken_create)
    with transaction.atomic():
        notify(user=user, kind="password_changed")
        # The caller's transaction still works after notify's failure.
        assert User.objects.filter(pk=user.pk).exists()
    body = mail.outbox[0].body
    assert "/not-me/" not in body
    assert "If this wasn't you" in body


class BrokenBackend:
    def __init__(self, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("connection refused by smtp.example.test")
