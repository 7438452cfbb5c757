"""Registered devices: a 256-bit token in a __Host- cookie, only its hash stored, valid for its
own user for 180 days, at most 10 per user, independent of the password hash."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.http import HttpResponse
from django.utils import timezone

from security.devices import (
    DEVICE_COOKIE,
    device_for_request,
    device_register,
    device_remove,
    devices_revoke_all,
)
from security.models import RegisteredDevice, SecurityEvent

pytestmark = pytest.mark.django_db

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def _register(rf, user, ua=CHROME_WINDOWS):
    request = rf.get("/", HTTP_USER_AGENT=ua, REMOTE_ADDR="203.0.113.7")
    request.client_ip = "203.0.113.7"
    response = HttpResponse()
    device = device_register(user=user, request=request, response=response)
    return device, response.cookies[DEVICE_COOKIE].value, response


def _request_with(rf, token):
    request = rf.get("/")
    request.COOKIES[DEVICE_COOKIE] = token
    return request


def test_cookie_is_host_prefixed_secure_httponly_lax_for_180_days(rf, make_user):
    _, _, response = _register(rf, make_user())
    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["domain"] == ""
    assert cookie["max-age"] == 180 * 24 * 60 * 60


def test_token_is_256_bits_and_only_its_sha256_is_stored(rf, make_user):
    device, token, _ = _register(rf, make_user())
    assert len(token) == 43  # 32 bytes, URL-safe base64
    assert device.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not RegisteredDevice.objects.filter(token_hash=token).exists()


def test_device_remembers_name_ip_and_times(rf, make_user):
    device, _, _ = _register(rf, make_user())
    assert device.name == "Chrome on Windows"
    assert device.ip == "203.0.113.7"
    assert device.created_at is not None and device.last_used_at is not None
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.DEVICE_REGISTERED).exists()


def test_cookie_identifies_the_device_of_its_own_user_only(rf, make_user):
    owner, other = make_user(), make_user()
    device, token, _ = _register(rf, owner)
    assert device_for_request(_request_with(rf, token), owner) == device
    assert device_for_request(_request_with(rf, token), other) is None


def test_a_forged_or_missing_cookie_is_no_device(rf, make_user):
    user = make_user()
    _register(rf, user)
    assert device_for_request(rf.get("/"), user) is None
    assert device_for_request(_request_with(rf, "A" * 43), user) is None
    stored_hash = RegisteredDevice.objects.get().token_hash
    assert device_for_request(_request_with(rf, stored_hash), user) is None


def test_device_expires_after_its_lifetime(rf, make_user, settings):
    user = make_user()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _, token, _ = _register(rf, user)
        clock.shift(timedelta(days=179))
        assert device_for_request(_request_with(rf, token), user) is not None
        clock.shift(timedelta(days=1, seconds=1))
        assert device_for_request(_request_with(rf, token), user) is None


def test_eleventh_device_drops_the_oldest(rf, make_user):
    user = make_user()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first, first_token, _ = _register(rf, user)
        for _ in range(10):
            clock.shift(timedelta(minutes=1))
            _register(rf, user)
    assert RegisteredDevice.objects.filter(user=user).count() == 10
    assert not RegisteredDevice.objects.filter(pk=first.pk).exists()
    assert device_for_request(_request_with(rf, first_token), user) is None


def test_device_survives_a_password_hash_change(rf, make_user):
    user = make_user()
    _, token, _ = _register(rf, user)
    user.set_password("an entirely different passphrase 77")
    user.save()
    assert device_for_request(_request_with(rf, token), user) is not None


def test_device_remove_only_removes_the_users_own_device(rf, make_user):
    owner, other = make_user(), make_user()
    device, _, _ = _register(rf, owner)
    with pytest.raises(RegisteredDevice.DoesNotExist):
        device_remove(user=other, device_id=device.pk)
    assert RegisteredDevice.objects.filter(pk=device.pk).exists()
    device_remove(user=owner, device_id=device.pk)
    assert not RegisteredDevice.objects.filter(pk=device.pk).exists()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.DEVICE_REMOVED).count() == 1


def test_revoke_all_forgets_every_device_of_the_user_only(rf, make_user):
    user, other = make_user(), make_user()
    _, token, _ = _register(rf, user)
    _register(rf, user)
    _register(rf, other)
    assert devices_revoke_all(user=user) == 2
    assert device_for_request(_request_with(rf, token), user) is None
    assert RegisteredDevice.objects.filter(user=other).count() == 1


def test_registering_again_replaces_the_same_browsers_device(rf, make_user):
    user = make_user()
    _, token, _ = _register(rf, user)
    request = _request_with(rf, token)
    request.META["HTTP_USER_AGENT"] = CHROME_WINDOWS
    device_register(user=user, request=request, response=HttpResponse())
    assert RegisteredDevice.objects.filter(user=user).count() == 1
    assert device_for_request(_request_with(rf, token), user) is None
