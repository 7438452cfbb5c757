"""The Log In page, the password step, registered devices, logout and session limits."""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache.backends.base import BaseCache
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from security.devices import DEVICE_COOKIE, device_register
from security.models import SecurityEvent
from security.sessions import PASSWORD_VERIFIED_AT
from tests.conftest import DEMO_PASSWORD
from tests.portal.test_https import ERROR_SUMMARY_SCRIPT, PASSKEYS_SCRIPT

pytestmark = pytest.mark.django_db

CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def log_in(client, username, password=DEMO_PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def body_without_csrf(response) -> bytes:
    return CSRF_INPUT.sub(b"", response.content)


def register_device_for(user) -> str:
    """A registered-device token for `user`, as a browser would hold it."""
    request = RequestFactory().get("/", HTTP_USER_AGENT="Mozilla/5.0 (iPhone) Safari/605.1")
    response = HttpResponse()
    device_register(user=user, request=request, response=response)
    return response.cookies[DEVICE_COOKIE].value


# --- The page --------------------------------------------------------------------------------------
def test_login_page_has_username_password_and_the_links(client):
    response = client.get("/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Log In</h1>" in html
    assert re.search(r'<label for="id_username">Username', html)
    assert re.search(r'<label for="id_password">Password', html)
    assert 'autocomplete="username webauthn"' in html
    assert 'autocomplete="current-password"' in html
    assert ">Log In</button>" in html
    assert ">Forgot username?</a>" in html and 'href="/forgot-username/"' in html
    assert ">Forgot password?</a>" in html and 'href="/forgot-password/"' in html
    assert ">Enroll Now</a>" in html
    assert "onpaste" not in html
    assert re.findall(r"<script\b[^>]*>", html) == [PASSKEYS_SCRIPT, ERROR_SUMMARY_SCRIPT]


def test_login_page_is_not_cached(client):
    assert "no-store" in client.get("/login/")["Cache-Control"]


def test_signed_in_visitor_is_sent_on_from_the_login_page(client, make_user):
    user = make_user()
    client.cookies[DEVICE_COOKIE] = register_device_for(user)
    log_in(client, user.username)
    response = client.get("/login/")
    assert response.status_code == 302 and response["Location"] == "/my/vehicles/"


def test_login_needs_csrf(make_user):
    from tests.conftest import HttpsClient

    strict = HttpsClient(enforce_csrf_checks=True)
    response = log_in(strict, make_user().username)
    assert response.status_code == 403


# --- Wrong credentials -----------------------------------------------------------------------------
def test_wrong_password_shows_a_message_and_records_a_failure(client, make_user):
    user = make_user()
    response = log_in(client, user.username, "not the password at all 1")
    assert response.status_code == 200
    assert "The username or password you entered is not right" in response.content.decode()
    assert SESSION_KEY not in client.session
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_FAILED)
    assert event.user == user


def test_unknown_username_and_wrong_password_look_the_same(client, make_user):
    user = make_user()
    wrong = log_in(client, user.username, "not the password at all 1")
    # Same username length, so the echoed value cannot differ in length either.
    unknown = log_in(client, "x" * len(user.username), "not the password at all 1")
    assert wrong.status_code == unknown.status_code == 200
    assert body_without_csrf(wrong).replace(
        user.username.encode(), b"x" * len(user.username)
    ) == body_without_csrf(unknown)


def _timing_round(client, known_name: str, unknown_name: str, pairs: int) -> tuple[float, float]:
    """(median of unknown-minus-known per back-to-back pair, median duration)."""
    differences, durations = [], []
    for i in range(pairs):
        order = [known_name, unknown_name] if i % 2 else [unknown_name, known_name]
        took = {}
        for name in order:
            started = time.perf_counter()
            response = log_in(client, name, f"wrong password number {i}")
            took[name] = time.perf_counter() - started
            assert response.status_code == 200
        differences.append(took[unknown_name] - took[known_name])
        durations.extend(took.values())
    return statistics.median(differences), statistics.median(durations)


def test_unknown_username_and_wrong_password_take_the_same_time(client, make_user, settings):
    """Statistical: back-to-back pairs in alternating order, the median difference compared with
    the median duration (one timing proves nothing). Without the dummy hash the difference is a
    whole hash, half or more of a request; on a busy machine a round may be disturbed, so the
    property must hold in one of three rounds."""
    settings.PORTAL_LOCKOUT_THRESHOLD = 10_000
    settings.PORTAL_LOGIN_IP_RATE = "10000/m"
    user = make_user()
    unknown_name = "nobody" + user.username[6:]
    log_in(client, unknown_name, "warm-up attempt one two")  # first-use costs out of the way
    log_in(client, user.username, "warm-up attempt one two")
    rounds = []
    for _ in range(3):
        difference, duration = _timing_round(client, user.username, unknown_name, pairs=25)
        rounds.append((difference, duration))
        if abs(difference) < 0.2 * duration:
            break
    else:
        pytest.fail(f"unknown usernames answer at a different speed: {rounds}")


def test_events_never_hold_the_password(client, make_user):
    user = make_user()
    log_in(client, user.username, "my secret guess 123456")
    log_in(client, "someone-else", "another secret guess 98765")
    for event in SecurityEvent.objects.all():
        assert "secret guess" not in f"{event.detail}{event.device}"


def test_disabled_account_with_the_right_password_is_told_to_call(client, make_user):
    user = make_user()
    user.is_active = False
    user.save()
    right = log_in(client, user.username)
    assert "Online access is turned off" in right.content.decode()
    assert SESSION_KEY not in client.session
    wrong = log_in(client, user.username, "not the password at all 1")
    assert "Online access is turned off" not in wrong.content.decode()


# --- Right password --------------------------------------------------------------------------------
def test_right_password_on_an_unregistered_device_asks_for_step_up(client, make_user):
    user = make_user()
    client.get("/login/")
    before = client.session.session_key
    response = log_in(client, user.username)
    assert response.status_code == 302 and response["Location"] == "/login/verify/"
    assert SESSION_KEY not in client.session
    assert client.session.session_key != before  # a new key for the login in progress
    assert client.get("/my/vehicles/").status_code == 302
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.STEP_UP_SHOWN, user=user).exists()
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_SUCCEEDED).exists()


def test_username_is_not_case_sensitive(client, make_user):
    user = make_user()
    client.cookies[DEVICE_COOKIE] = register_device_for(user)
    response = log_in(client, f"  {user.username.upper()} ")
    assert response["Location"] == "/my/vehicles/"


def test_registered_device_goes_straight_to_my_vehicles(client, make_user):
    user = make_user()
    client.cookies[DEVICE_COOKIE] = register_device_for(user)
    client.get("/login/")
    before = client.session.session_key
    response = log_in(client, user.username)
    assert response.status_code == 302 and response["Location"] == "/my/vehicles/"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.session.session_key != before  # the session key changes at login
    assert PASSWORD_VERIFIED_AT in client.session
    page = client.get("/my/vehicles/")
    assert page.status_code == 200 and "My Vehicles" in page.content.decode()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_SUCCEEDED)
    assert event.user == user and event.detail == "Registered device"


def test_registered_device_use_is_noted(client, make_user):
    user = make_user()
    client.cookies[DEVICE_COOKIE] = register_device_for(user)
    device = user.registered_devices.get()
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        log_in(client, user.username, REMOTE_ADDR="198.51.100.4")
    device.refresh_from_db()
    assert device.last_used_at > device.created_at + timedelta(days=2)
    assert device.ip == "198.51.100.4"


def test_a_device_locked_while_its_password_was_checked_gets_no_session(
    client, make_user, monkeypatch
):
    # Wrong guesses racing on the same device lock it while this (right) password is hashed:
    # the right password must then be refused too, with no session and no success recorded.
    from accounts.models import User
    from security.models import RegisteredDevice

    user = make_user()
    client.cookies[DEVICE_COOKIE] = register_device_for(user)
    check = User.check_password

    def check_while_locked_elsewhere(self, raw_password):
        RegisteredDevice.objects.filter(user=user).update(
            failure_count=5, locked_until=timezone.now() + timedelta(minutes=15)
        )
        return check(self, raw_password)

    monkeypatch.setattr(User, "check_password", check_while_locked_elsewhere)
    response = log_in(client, user.username)
    assert response.status_code == 200
    assert "temporarily locked" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_SUCCEEDED).exists()
    device = user.registered_devices.get()
    assert device.failure_count == 5 and device.locked_until is not None  # the lock stands


def test_another_users_device_cookie_does_not_skip_step_up(client, make_user):
    owner, other = make_user(), make_user()
    client.cookies[DEVICE_COOKIE] = register_device_for(owner)
    response = log_in(client, other.username)
    assert response["Location"] == "/login/verify/"


def test_next_page_is_kept_but_only_on_this_site(client, make_user):
    user = make_user()
    client.cookies[DEVICE_COOKIE] = register_device_for(user)
    ok = client.post(
        "/login/?next=/my/vehicles/%3Fsort%3Dyear",
        {"username": user.username, "password": DEMO_PASSWORD},
    )
    assert ok["Location"] == "/my/vehicles/?sort=year"
    client.post("/logout/")
    evil = client.post(
        "/login/?next=https://evil.example/", {"username": user.username, "password": DEMO_PASSWORD}
    )
    assert evil["Location"] == "/my/vehicles/"


# --- Limits ----------------------------------------------------------------------------------------
def test_too_many_login_attempts_from_one_ip_get_the_too_many_attempts_page(client, settings):
    settings.PORTAL_LOGIN_IP_RATE = "3/m"
    for i in range(3):
        assert log_in(client, f"nobody{i}", "wrong password 1234").status_code == 200
    response = log_in(client, "nobody9", "wrong password 1234")
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


def test_another_ip_is_not_limited_by_the_first(client, settings):
    settings.PORTAL_LOGIN_IP_RATE = "1/m"
    log_in(client, "nobody1", "wrong password 1234", REMOTE_ADDR="192.0.2.1")
    assert log_in(client, "nobody2", "wrong", REMOTE_ADDR="192.0.2.1").status_code == 429
    assert log_in(client, "nobody3", "wrong", REMOTE_ADDR="192.0.2.2").status_code == 200


class BrokenCache(BaseCache):
    def __init__(self, *args, **kwargs):
        super().__init__({})

    def __getattribute__(self, name):
        if name in {"add", "get", "set", "incr", "get_many", "delete", "touch", "has_key"}:
            raise ConnectionError("cache down")
        return super().__getattribute__(name)


def test_login_fails_closed_when_the_rate_limit_store_is_down(client, settings, make_user):
    user = make_user()
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "tests.signin.test_login.BrokenCache"},
    }
    response = log_in(client, user.username)
    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.STEP_UP_SHOWN).exists()


# --- Logout and sessions ---------------------------------------------------------------------------
def _signed_in(client, make_user):
    user = make_user()
    client.cookies[DEVICE_COOKIE] = register_device_for(user)
    log_in(client, user.username)
    assert client.session[SESSION_KEY] == str(user.pk)
    return user


def test_logout_is_a_post(client, make_user):
    _signed_in(client, make_user)
    assert client.get("/logout/").status_code == 405


def test_logout_ends_the_session_on_the_server_and_says_so(client, make_user):
    user = _signed_in(client, make_user)
    session_key = client.session.session_key
    response = client.post("/logout/", follow=True)
    assert not Session.objects.filter(session_key=session_key).exists()
    assert "You have logged out." in response.content.decode()
    first = response.redirect_chain[0]
    assert first == ("/login/", 302)
    assert client.get("/my/vehicles/").status_code == 302
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGGED_OUT, user=user).exists()


def test_logout_sends_clear_site_data_but_keeps_the_device_cookie(client, make_user):
    _signed_in(client, make_user)
    response = client.post("/logout/")
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert DEVICE_COOKIE not in response.cookies  # not deleted: the device stays registered


def test_signed_in_pages_are_not_cached(client, make_user):
    _signed_in(client, make_user)
    assert "no-store" in client.get("/my/vehicles/")["Cache-Control"]


def test_session_ends_after_fifteen_minutes_idle(client, make_user):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _signed_in(client, make_user)
        assert client.get("/my/vehicles/").status_code == 200
        clock.shift(timedelta(minutes=14))
        assert client.get("/my/vehicles/").status_code == 200
        clock.shift(timedelta(minutes=15, seconds=1))
        response = client.get("/my/vehicles/")
        assert response.status_code == 302 and response["Location"] == "/login/"
        assert SESSION_KEY not in client.session
        assert "you were logged out" in client.get("/login/").content.decode()


def test_session_ends_after_twelve_hours_however_active(client, make_user):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _signed_in(client, make_user)
        assert client.get("/my/vehicles/").status_code == 200
        for _ in range(71):  # active every 10 minutes for 11 h 50 min
            clock.shift(timedelta(minutes=10))
            assert client.get("/my/vehicles/").status_code == 200
        clock.shift(timedelta(minutes=11))
        response = client.get("/my/vehicles/")
        assert response.status_code == 302 and response["Location"] == "/login/"
        assert "you were logged out" in client.get("/login/").content.decode()


def test_lockout_email_is_not_sent_for_a_single_failure(client, make_user):
    user = make_user()
    log_in(client, user.username, "wrong password 1234")
    assert mail.outbox == []


def test_staff_accounts_cannot_sign_in_to_the_customer_portal(client, db):
    from accounts.models import User

    User.objects.create_user(username="agent.alex", password=DEMO_PASSWORD, is_staff=True)
    response = log_in(client, "agent.alex")
    assert response.status_code == 200
    assert "The username or password you entered is not right" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.STEP_UP_SHOWN).exists()


def test_the_lock_page_says_how_long_until_when_and_what_to_do(client, make_user, settings):
    settings.PORTAL_LOCKOUT_SECONDS = 20 * 60
    user = make_user()
    with time_machine.travel("2026-11-30 20:25:00+00:00", tick=False):
        for _ in range(5):
            client.post("/login/", {"username": user.username, "password": "not the password 1"})
        html = client.post(
            "/login/", {"username": user.username, "password": DEMO_PASSWORD}
        ).content.decode()
    assert "Online access is temporarily locked" in html
    assert "paused for 20 minutes" in html and "until 3:45 PM EST" in html
    assert "Forgot password?" in html and 'href="tel:1-800-555-0142"' in html
    assert "for a while" not in html
    body = next(m.body for m in mail.outbox if "locked" in m.subject)
    assert "paused for 20 minutes" in body and "until 3:45 PM EST" in body


def test_an_unknown_username_is_locked_with_the_same_wording(client, settings):
    with time_machine.travel("2026-11-30 20:25:00+00:00", tick=False):
        for _ in range(6):
            response = client.post("/login/", {"username": "nobody-here", "password": "x" * 12})
    html = response.content.decode()
    assert "paused for 30 minutes" in html and "until 3:55 PM EST" in html
