"""create_support_user and purge_expired."""

from __future__ import annotations

import io
import re
import sys
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from security.models import SecurityEvent
from support.models import StaffAuditEntry
from tests.support.conftest import STAFF_PASSWORD


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(monkeypatch, stdin, *args) -> str:
    monkeypatch.setattr(sys, "stdin", stdin)
    out = io.StringIO()
    call_command("create_support_user", *args, stdout=out)
    return out.getvalue()


def test_create_support_user_reads_the_password_and_prints_url_and_otpauth_uri(monkeypatch, db):
    output = _run(monkeypatch, io.StringIO(STAFF_PASSWORD + "\n"), "avery.lee", "--role", "agent")

    user = User.objects.get(username="avery.lee")
    assert user.is_staff and not user.is_superuser and user.customer is None
    assert user.check_password(STAFF_PASSWORD)
    assert list(user.groups.values_list("name", flat=True)) == ["Support agent"]
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed
    assert "https://localhost:8443/support-console/" in output
    uri = re.search(r"otpauth://totp/\S+", output).group(0)
    parts = urlsplit(uri)
    assert unquote(parts.path).endswith(":avery.lee")
    assert parse_qs(parts.query)["secret"][0]
    assert "\u2580" in output or "\u2584" in output or "\u2588" in output  # the terminal QR code
    assert STAFF_PASSWORD not in output


def test_create_support_user_generates_and_prints_a_password_without_stdin(monkeypatch, db):
    output = _run(
        monkeypatch,
        _Terminal(),
        "blake.kim",
        "--role",
        "supervisor",
        "--base-url",
        "https://portal.example/",
    )
    password = re.search(r"Password \(shown once, keep it safe\): (\S+)", output).group(1)
    user = User.objects.get(username="blake.kim")
    assert user.check_password(password)
    assert len(password) >= 15
    assert list(user.groups.values_list("name", flat=True)) == ["Supervisor"]
    assert "https://portal.example/support-console/" in output


def test_create_support_user_refuses_a_weak_password(monkeypatch, db):
    with pytest.raises(CommandError, match="Password refused"):
        _run(monkeypatch, io.StringIO("short\n"), "casey.nash", "--role", "agent")
    assert not User.objects.filter(username="casey.nash").exists()


@pytest.mark.parametrize("username", ["alex", "avery lee", "\u00e4very.lee", "avery@lee"])
def test_create_support_user_refuses_a_username_outside_the_username_rule(
    monkeypatch, db, username
):
    with pytest.raises(CommandError, match="Username refused"):
        _run(monkeypatch, io.StringIO(STAFF_PASSWORD + "\n"), username, "--role", "agent")
    assert not User.objects.exists()


def test_create_support_user_refuses_a_taken_username(monkeypatch, make_user):
    customer = make_user()
    with pytest.raises(CommandError, match="taken"):
        _run(
            monkeypatch,
            io.StringIO(STAFF_PASSWORD + "\n"),
            customer.username.upper(),
            "--role",
            "agent",
        )
    customer.refresh_from_db()
    assert not customer.is_staff


def test_create_support_user_needs_a_known_role(monkeypatch, db):
    with pytest.raises(CommandError):
        _run(monkeypatch, io.StringIO(STAFF_PASSWORD + "\n"), "dale", "--role", "admin")


def test_purge_removes_only_rows_older_than_the_retention(make_user, make_staff, settings):
    settings.PORTAL_EVENT_RETENTION_DAYS = 30
    customer, staff = make_user(), make_staff("agent")
    now = timezone.now()
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    for when in (old, old, recent):
        SecurityEvent.objects.create(user=customer, kind="login_failed", created_at=when)
    for when in (old, recent, recent):
        StaffAuditEntry.objects.create(
            staff=staff,
            staff_username=staff.username,
            customer=customer,
            customer_username=customer.username,
            action="viewed",
            created_at=when,
        )
    out = io.StringIO()
    call_command("purge_expired", stdout=out)
    assert (
        "Deleted 2 security events and 1 staff audit entries older than 30 days." in out.getvalue()
    )
    assert list(SecurityEvent.objects.values_list("created_at", flat=True)) == [recent]
    assert set(StaffAuditEntry.objects.values_list("created_at", flat=True)) == {recent}
