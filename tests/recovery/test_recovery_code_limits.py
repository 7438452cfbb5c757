"""Forgot password: wrong security codes count toward the sign-in lock like wrong step-up codes,
nothing is checked while locked, and one recovery sends a bounded number of codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from recovery.flow import MAX_CODES_PER_RECOVERY
from security.lockout import attempt_failed, attempt_reserve, counter_for, lock_status
from security.models import SecurityCode, SecurityEvent, SignInLock
from tests.conftest import DEMO_PASSWORD
from tests.recovery.test_recovery import _code, _reach_code

pytestmark = pytest.mark.django_db

LOCKED = "Online access is temporarily locked"
USED_UP = "We have sent as many security codes as we can for this request"


def _wrong(right: str) -> str:
    return "000000" if right != "000000" else "111111"


def _lock(user, settings) -> None:
    counter = counter_for(username=user.username)
    for _ in range(settings.PORTAL_LOCKOUT_THRESHOLD):
        assert attempt_reserve(counter)
        attempt_failed(counter, user=user, request=None, event=SecurityEvent.Kind.LOGIN_FAILED)
    assert lock_status(user=user)[0]


def test_a_wrong_recovery_code_counts_as_a_failure_of_the_username(client, make_user):
    user = make_user()
    _reach_code(client, user)
    client.post("/forgot-password/code/", {"code": _wrong(_code(mail.outbox[-1].body))})

    row = SignInLock.objects.get(username_key=counter_for(username=user.username).username_key)
    assert row.failure_count == 1
    event = SecurityEvent.objects.get(user=user, kind=SecurityEvent.Kind.STEP_UP_FAILED)
    assert "security code" in event.detail


def test_a_right_recovery_code_gives_its_slot_back(client, make_user, settings):
    user = make_user()
    for _ in range(settings.PORTAL_LOCKOUT_THRESHOLD - 1):
        client.post("/login/", {"username": user.username, "password": "not it at all 123"})
    _reach_code(client, user)
    response = client.post("/forgot-password/code/", {"code": _code(mail.outbox[-1].body)})
    assert response["Location"] == "/forgot-password/new/"
    row = SignInLock.objects.get(username_key=counter_for(username=user.username).username_key)
    assert row.failure_count == settings.PORTAL_LOCKOUT_THRESHOLD - 1
    assert not lock_status(user=user)[0]


def test_wrong_recovery_codes_lock_the_username_and_email_the_customer(client, make_user, settings):
    user = make_user()
    _reach_code(client, user)
    wrong = _wrong(_code(mail.outbox[-1].body))
    for _ in range(settings.PORTAL_LOCKOUT_THRESHOLD - 1):
        response = client.post("/forgot-password/code/", {"code": wrong})
        assert "That security code is not right" in response.content.decode()
    response = client.post("/forgot-password/code/", {"code": wrong})

    assert response.status_code == 200
    assert LOCKED in response.content.decode()
    assert lock_status(user=user)[0]
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.LOCKED).count() == 1
    assert any(user.email in m.to and "locked" in m.subject.lower() for m in mail.outbox)
    # The password is refused now too: the failures counted together.
    login = client.post("/login/", {"username": user.username, "password": DEMO_PASSWORD})
    assert LOCKED in login.content.decode()


def test_wrong_codes_count_with_wrong_passwords(client, make_user, settings):
    user = make_user()
    for _ in range(settings.PORTAL_LOCKOUT_THRESHOLD - 1):
        client.post("/login/", {"username": user.username, "password": "not it at all 123"})
    _reach_code(client, user)
    response = client.post("/forgot-password/code/", {"code": _wrong(_code(mail.outbox[-1].body))})
    assert LOCKED in response.content.decode()
    assert lock_status(user=user)[0]


def test_while_locked_the_code_is_not_checked(client, make_user, settings):
    user = make_user()
    _reach_code(client, user)
    right = _code(mail.outbox[-1].body)
    _lock(user, settings)

    response = client.post("/forgot-password/code/", {"code": right})

    assert response.status_code == 200
    html = response.content.decode()
    assert LOCKED in html and settings.PORTAL_SUPPORT_PHONE in html
    assert client.get("/forgot-password/new/")["Location"] == "/forgot-password/"
    live = SecurityCode.objects.get(user=user, purpose=SecurityCode.Purpose.RECOVERY)
    assert live.used_at is None and live.wrong_attempts == 0  # never looked at


def test_while_locked_no_code_is_sent(client, make_user, settings):
    user = make_user()
    _reach_code(client, user)
    _lock(user, settings)
    sent = len(mail.outbox)

    later = timezone.now() + timedelta(seconds=settings.PORTAL_CODE_RESEND_SECONDS + 1)
    with time_machine.travel(later):
        response = client.post("/forgot-password/code/resend/", follow=True)
    assert LOCKED in response.content.decode()
    assert [m for m in mail.outbox[sent:] if "security code" in m.subject.lower()] == []


def test_one_recovery_sends_at_most_the_cap_of_codes(client, make_user, settings):
    settings.PORTAL_CODE_RESEND_SECONDS = 0
    user = make_user()
    _reach_code(client, user)  # the first code
    for _ in range(MAX_CODES_PER_RECOVERY - 1):
        client.post("/forgot-password/code/resend/")
    codes = SecurityCode.objects.filter(user=user, purpose=SecurityCode.Purpose.RECOVERY)
    assert codes.count() == MAX_CODES_PER_RECOVERY
    last = _code(mail.outbox[-1].body)

    resend = client.post("/forgot-password/code/resend/", follow=True)
    assert USED_UP in resend.content.decode()
    assert settings.PORTAL_SUPPORT_PHONE in resend.content.decode()
    other_way = client.post("/forgot-password/send/", {"channel": "sms"})
    assert other_way.status_code == 200 and USED_UP in other_way.content.decode()
    assert codes.count() == MAX_CODES_PER_RECOVERY

    # The last code sent still works.
    response = client.post("/forgot-password/code/", {"code": last})
    assert response["Location"] == "/forgot-password/new/"
