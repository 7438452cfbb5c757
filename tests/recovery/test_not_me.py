"""The single-use "This wasn't me" link: GET only asks, POST locks online access, ends every
session, revokes every device; once; expired and unknown links refused with a clear page."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from recovery.flow import not_me_report, not_me_token_check
from security.lockout import attempt_reserve, counter_for, hold_active, lock_status, lockout_clear
from security.models import ActionToken, RegisteredDevice, SecurityCode, SecurityEvent
from security.notifications import not_me_token_create
from tests.conftest import DEMO_PASSWORD, HttpsClient

pytestmark = pytest.mark.django_db


def _url(token: str) -> str:
    return f"/not-me/{token}/"


def _signed_in_client(user) -> HttpsClient:
    other = HttpsClient()
    other.force_login(user)
    assert other.get("/").wsgi_request.user.is_authenticated
    return other


def _device(user) -> RegisteredDevice:
    return RegisteredDevice.objects.create(user=user, token_hash="a" * 64, name="Safari on iPhone")


def test_get_only_asks_for_confirmation_and_changes_nothing(client, make_user):
    user = make_user()
    other = _signed_in_client(user)
    _device(user)
    token = not_me_token_create(user=user)

    response = client.get(_url(token))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<form method="post">' in html and "Lock my online access" in html
    assert ActionToken.objects.get(user=user).used_at is None
    assert lock_status(user=user) == (False, None)
    assert RegisteredDevice.objects.filter(user=user).exists()
    assert other.get("/").wsgi_request.user.is_authenticated
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.NOT_ME).exists()


def test_confirmation_page_is_not_cached_and_never_sends_its_url_as_referer(client, make_user):
    response = client.get(_url(not_me_token_create(user=make_user())))
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "strict-origin"  # the origin only, never the path


def test_post_locks_access_ends_sessions_revokes_devices_and_says_call_support(
    client, make_user, settings
):
    user = make_user()
    other = _signed_in_client(user)
    _device(user)
    token = not_me_token_create(user=user)

    response = client.post(_url(token))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Online access is locked" in html
    assert settings.PORTAL_SUPPORT_PHONE in html and settings.PORTAL_SUPPORT_HOURS in html
    # Locked for unregistered clients, until support unlocks (not a 30-minute lock): a hold,
    # which has no end date at all.
    locked, until = lock_status(user=user)
    assert locked and until is None
    assert hold_active(user=user)
    # The correct password would not even be checked: no attempt slot is given.
    assert attempt_reserve(counter_for(username=user.username)) is False
    # Every session ends at its next request; every device is forgotten.
    assert not other.get("/").wsgi_request.user.is_authenticated
    assert not RegisteredDevice.objects.filter(user=user).exists()
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.NOT_ME).count() == 1
    assert ActionToken.objects.get(user=user).used_at is not None


def test_the_account_stays_active_so_support_can_unlock_it(client, make_user):
    user = make_user()
    client.post(_url(not_me_token_create(user=user)))
    user.refresh_from_db()
    assert user.is_active  # "disable" is support's separate action
    lockout_clear(user=user)
    assert lock_status(user=user) == (False, None)
    assert not hold_active(user=user)


def test_security_codes_in_flight_are_voided(client, make_user):
    from security.codes import code_send

    user = make_user()
    code_send(user=user, purpose="login", flow_id="attacker-attempt", channel="email")
    client.post(_url(not_me_token_create(user=user)))
    assert SecurityCode.objects.get(user=user).voided_at is not None


def test_the_browser_that_reports_is_signed_out_too(make_user):
    user = make_user()
    browser = _signed_in_client(user)
    browser.post(_url(not_me_token_create(user=user)))
    assert not browser.get("/").wsgi_request.user.is_authenticated


def test_second_use_is_refused_and_changes_nothing_more(client, make_user):
    user = make_user()
    token = not_me_token_create(user=user)
    client.post(_url(token))

    again = client.post(_url(token))
    assert again.status_code == 410
    assert "already been used" in again.content.decode()
    assert client.get(_url(token)).status_code == 410
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.NOT_ME).count() == 1


def test_a_token_claimed_in_parallel_acts_only_once(make_user, monkeypatch):
    # Two submissions both pass the read-only check before either claims the token: the
    # conditional UPDATE lets only the first act.
    user = make_user()
    token = not_me_token_create(user=user)
    stale_check = not_me_token_check(token=token)
    assert not_me_report(token=token).status == "done"

    monkeypatch.setattr("recovery.flow.not_me_token_check", lambda token: stale_check)
    assert not_me_report(token=token).status == "used"
    assert SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.NOT_ME).count() == 1


def test_expired_link_is_refused_with_a_clear_page(client, make_user):
    user = make_user()
    token = not_me_token_create(user=user)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        get = client.get(_url(token))
        post = client.post(_url(token))
    assert get.status_code == 410 and post.status_code == 410
    assert "This link has expired" in post.content.decode()
    assert lock_status(user=user) == (False, None)
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.NOT_ME).exists()


def test_unknown_or_tampered_link_is_not_found(client, make_user):
    token = not_me_token_create(user=make_user())
    for bad in ("x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B")):
        response = client.post(_url(bad))
        assert response.status_code == 404
        assert "This link is not valid" in response.content.decode()
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.NOT_ME).exists()


def test_the_raw_token_is_not_a_lookup_key(client, make_user):
    # Someone who can read the table sees only hashes; the hash itself is no working link.
    user = make_user()
    not_me_token_create(user=user)
    stored = ActionToken.objects.get(user=user).token_hash
    assert client.post(_url(stored)).status_code == 404


def test_post_needs_csrf(make_user):
    token = not_me_token_create(user=make_user())
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(_url(token), secure=True)
    assert response.status_code == 403
    assert ActionToken.objects.get().used_at is None


def test_link_from_a_real_email_works_end_to_end(client, make_user, settings):
    from security.notifications import notify

    settings.ALLOWED_HOSTS = ["testserver"]
    user = make_user()
    notify(user=user, kind="password_changed")
    link = next(line for line in mail.outbox[0].body.split() if "/not-me/" in line)
    path = link.removeprefix("https://testserver")
    assert client.post(path).status_code == 200
    assert hold_active(user=user)


# --- The hold it places ---------------------------------------------------------------------------
def test_the_lock_is_a_hold_with_no_end_date_not_a_far_future_lock(client, make_user):
    from security.lockout import lock_state, username_key
    from security.models import HoldReason, SignInLock

    user = make_user()
    client.post(_url(not_me_token_create(user=user)))
    row = SignInLock.objects.get(username_key=username_key(user.username))
    assert row.locked_until is None
    assert row.held_at is not None and row.hold_reason == HoldReason.NOT_ME
    assert lock_state(user=user).hold_reason == HoldReason.NOT_ME


def test_the_hold_still_holds_after_the_lockout_period_and_ten_years(client, make_user):
    from tests.recovery.test_recovery import _verify

    user = make_user()
    client.post(_url(not_me_token_create(user=user)))
    for later in (timedelta(minutes=31), timedelta(days=10 * 366)):
        with time_machine.travel(timezone.now() + later):
            assert hold_active(user=user)
            assert lock_status(user=user) == (True, None)
            login = HttpsClient().post(
                "/login/", {"username": user.username, "password": DEMO_PASSWORD}
            )
            html = login.content.decode()
            # A hold is not a pause that ends by itself: the page says so.
            assert "Online access is locked" in html and "Only our support team" in html
            assert "paused for" not in html
            assert _verify(HttpsClient(), user).status_code == 403  # recovery refused too


def test_the_registered_device_of_a_held_customer_cannot_sign_in(make_user):
    from security.devices import DEVICE_COOKIE
    from tests.signin.test_login import register_device_for

    user = make_user()
    phone = HttpsClient()
    phone.cookies[DEVICE_COOKIE] = register_device_for(user)
    HttpsClient().post(_url(not_me_token_create(user=user)))

    response = phone.post("/login/", {"username": user.username, "password": DEMO_PASSWORD})

    assert response.status_code == 200
    assert "Online access is locked" in response.content.decode()
    assert not phone.get("/my/vehicles/").wsgi_request.user.is_authenticated


def test_password_recovery_refuses_while_held_and_changes_nothing(client, make_user):
    from recovery.flow import AccessHeld, password_reset_complete

    user = make_user()
    client.post(_url(not_me_token_create(user=user)))
    with pytest.raises(AccessHeld):
        password_reset_complete(user=user, password="a brand new passphrase 99")
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)
    assert hold_active(user=user)
    assert not SecurityEvent.objects.filter(
        user=user, kind=SecurityEvent.Kind.RECOVERY_COMPLETED
    ).exists()


def test_support_unlock_lifts_the_hold_and_recovery_works_again(client, make_user):
    from tests.recovery.test_recovery import _verify

    user = make_user()
    client.post(_url(not_me_token_create(user=user)))
    assert _verify(HttpsClient(), user).status_code == 403
    lockout_clear(user=user)
    assert not hold_active(user=user)
    assert _verify(HttpsClient(), user)["Location"] == "/forgot-password/send/"


def test_token_checks_answer_with_a_token_status(make_user):
    from recovery.flow import TokenStatus

    token = not_me_token_create(user=make_user())
    later = not_me_token_create(user=make_user())
    assert not_me_token_check(token=token).status is TokenStatus.VALID
    assert not_me_token_check(token="x" * 43).status is TokenStatus.INVALID
    assert not_me_report(token=token).status is TokenStatus.DONE
    assert not_me_report(token=token).status is TokenStatus.USED
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert not_me_token_check(token=later).status is TokenStatus.EXPIRED
