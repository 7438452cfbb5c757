"""Registered devices: browsers a customer chose to remember.

The browser keeps a random 256-bit token in the `__Host-device` cookie (Secure, HttpOnly,
SameSite=Lax, Path=/); the server keeps only its SHA-256, found by that hash and then compared
in constant time. A device is valid for PORTAL_DEVICE_LIFETIME_DAYS after registration, only for
the user who registered it, and independently of the password hash (a hasher upgrade or a
password change does not forget it; a password reset revokes devices explicitly). A user keeps at
most PORTAL_DEVICE_MAX_PER_USER devices; registering one more drops the oldest.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from portal.conf import portal
from security.events import record_event
from security.models import RegisteredDevice, SecurityEvent
from security.notifications import notify
from security.user_agents import device_name

if TYPE_CHECKING:
    from accounts.models import User

DEVICE_COOKIE = "__Host-device"
_TOKEN_BYTES = 32  # 256 bits
_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def _token_hash(token: str) -> str:
    # 256 random bits cannot be guessed, so a fast hash is enough (nothing to slow down).
    return hashlib.sha256(token.encode()).hexdigest()


def _lifetime() -> timedelta:
    return timedelta(days=portal.device_lifetime_days)


def device_from_cookie(request: HttpRequest) -> RegisteredDevice | None:
    """The valid device the request's cookie names, whoever it belongs to (or None).

    Login uses this before it knows whether the username exists, so known and unknown
    usernames cost the same; everyone else wants device_for_request().
    """
    token = request.COOKIES.get(DEVICE_COOKIE, "")
    if not _TOKEN_PATTERN.match(token):
        return None
    digest = _token_hash(token)
    device = (
        RegisteredDevice.objects.filter(
            token_hash=digest, created_at__gt=timezone.now() - _lifetime()
        )
        .select_related("user")
        .first()
    )
    if device is None or not hmac.compare_digest(device.token_hash, digest):
        return None
    return device


def device_for_request(request: HttpRequest, user: User) -> RegisteredDevice | None:
    """The request's registered device if it is valid and belongs to `user`."""
    if user is None or not user.pk:
        return None
    device = device_from_cookie(request)
    return device if device is not None and device.user_id == user.pk else None


def set_device_cookie(response: HttpResponse, token: str) -> None:
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=int(_lifetime().total_seconds()),
        path="/",
        secure=True,
        httponly=True,
        samesite="Lax",
    )


def device_register(
    *, user: User, request: HttpRequest, response: HttpResponse
) -> RegisteredDevice:
    """Remembers this browser for `user` and sets the cookie on `response`.

    A device of the same user already named by the request's cookie is replaced; beyond
    PORTAL_DEVICE_MAX_PER_USER the oldest devices drop out. Records DEVICE_REGISTERED in the
    same transaction, then emails the customer (kind "new_device").
    """
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    now = timezone.now()
    previous = device_for_request(request, user)
    with transaction.atomic():
        if previous is not None:
            RegisteredDevice.objects.filter(pk=previous.pk, user=user).delete()
        device = RegisteredDevice.objects.create(
            user=user,
            token_hash=_token_hash(token),
            name=device_name(request.META.get("HTTP_USER_AGENT", ""))[:100],
            created_at=now,
            last_used_at=now,
            ip=getattr(request, "client_ip", None),
        )
        keep = list(
            RegisteredDevice.objects.filter(user=user)
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)[: portal.device_max_per_user]
        )
        RegisteredDevice.objects.filter(user=user).exclude(pk__in=keep).delete()
        record_event(
            SecurityEvent.Kind.DEVICE_REGISTERED, user=user, request=request, detail=device.name
        )
    set_device_cookie(response, token)
    notify(user=user, kind="new_device", request=request, context={"device": device.name})
    return device


def device_remove(*, user: User, device_id: int, request: HttpRequest | None = None) -> None:
    """Forgets one of `user`'s devices. Raises RegisteredDevice.DoesNotExist for anyone else's."""
    with transaction.atomic():
        device = RegisteredDevice.objects.select_for_update().get(pk=device_id, user=user)
        name = device.name
        device.delete()
        record_event(SecurityEvent.Kind.DEVICE_REMOVED, user=user, request=request, detail=name)


def devices_revoke_all(*, user: User, request: HttpRequest | None = None) -> int:
    """Forgets every device of `user` (password reset, "This wasn't me"); returns how many."""
    with transaction.atomic():
        removed, _ = RegisteredDevice.objects.filter(user=user).delete()
        if removed:
            record_event(
                SecurityEvent.Kind.DEVICE_REMOVED,
                user=user,
                request=request,
                detail=f"All registered devices ({removed})",
            )
    return removed
