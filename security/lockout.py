"""Consecutive sign-in failures and the temporary lock they cause.

Failures of the password, a challenge answer and a security code count together. Two kinds of
counter exist (the OWASP device-cookie defence):

- a request carrying a valid registered-device cookie of the user counts on that device only,
  and is not stopped by the username's lock, so an attacker guessing passwords elsewhere cannot
  lock the customer out of their own phone;
- every other request counts on the SignInLock of the username, keyed by an HMAC of the
  normalised username, which exists for unknown usernames too, so the lock reveals nothing
  about which usernames exist.

Exact under concurrency: before a password, answer or code is checked, `attempt_reserve` takes
an attempt slot by counting the attempt as a failure in a short transaction with the counter row
locked; an attempt that turns out right gives its slot back (`attempt_succeeded`). At most
PORTAL_LOCKOUT_THRESHOLD attempts can hold or have used slots, so parallel attempts can never
get more than the threshold past to the (slow) hasher, and no transaction stays open while it
runs. While the counter is locked nothing is checked, and attempts neither count nor extend it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from portal.conf import portal
from security.events import record_event
from security.models import RegisteredDevice, SecurityEvent, SignInLock
from security.notifications import notify

if TYPE_CHECKING:
    from accounts.models import User

_KEY_SALT = "security.lockout.username_key"
# A password check takes well under a second; a slot held far longer was never given back.
STALE_SLOTS = timedelta(minutes=2)


def normalize_username(username: str) -> str:
    return unicodedata.normalize("NFKC", username or "").casefold().strip()


def username_key(username: str) -> str:
    """HMAC of the normalised (NFKC, casefold, strip) username; stored instead of the name."""
    return salted_hmac(_KEY_SALT, normalize_username(username), algorithm="sha256").hexdigest()


@dataclass(frozen=True)
class Counter:
    """Which counter an attempt counts on: a username's SignInLock or one registered device."""

    username_key: str
    device_id: int | None = None

    @property
    def is_device(self) -> bool:
        return self.device_id is not None


def counter_for(*, username: str, device: RegisteredDevice | None = None) -> Counter:
    key = username_key(username)
    return Counter(username_key=key, device_id=device.pk if device is not None else None)


def _update(counter: Counter, **changes: object) -> int:
    return _filter_update(counter, Q(), **changes)


def attempt_reserve(counter: Counter) -> bool:
    """Takes an attempt slot (counts the attempt as a failure up front). False: locked.

    False when the counter is locked, or when every slot up to the threshold is taken by
    attempts still being checked; the caller then answers with the lock message and checks
    nothing. An expired lock starts a fresh count.
    """
    now = timezone.now()
    threshold = portal.lockout_threshold
    # The usual case in one statement (a login is a few of them, so each counts): an unlocked
    # counter below the threshold. The conditions and the increment are one atomic UPDATE, so
    # parallel attempts still cannot take more than the threshold.
    if _filter_update(
        counter,
        Q(locked_until__isnull=True, failure_count__lt=threshold),
        failure_count=F("failure_count") + 1,
    ):
        return True
    with transaction.atomic():
        if counter.device_id is not None:
            row: SignInLock | RegisteredDevice | None = (
                RegisteredDevice.objects.select_for_update().filter(pk=counter.device_id).first()
            )
            if row is None:  # removed meanwhile: nothing to count on, nothing to let through
                return False
        else:
            row, _ = SignInLock.objects.select_for_update().get_or_create(
                username_key=counter.username_key
            )
        if row.locked_until is not None and row.locked_until > now:
            return False
        if row.locked_until is not None:  # the lock has ended: a fresh count
            return bool(_update(counter, failure_count=1, locked_until=None))
        if row.failure_count >= threshold:
            changed_at = (
                row.failures_updated_at if isinstance(row, RegisteredDevice) else row.updated_at
            )
            if changed_at is None or now - changed_at > STALE_SLOTS:
                # Slots held this long belong to attempts that died mid-check (a killed worker):
                # count them as the failures they may have been.
                _update(counter, locked_until=now + timedelta(seconds=portal.lockout_seconds))
            return False
        return bool(_update(counter, failure_count=F("failure_count") + 1))


def attempt_succeeded(counter: Counter) -> bool:
    """Gives back the slot of an attempt that turned out right. False if the counter got
    locked while it was being checked (the caller must then refuse as if locked)."""
    now = timezone.now()
    with transaction.atomic():
        _filter_update(counter, Q(failure_count__gt=0), failure_count=F("failure_count") - 1)
        return not _is_locked(counter, now)


def attempt_failed(
    counter: Counter,
    *,
    user: User | None,
    request: HttpRequest | None,
    event: str,
    detail: str = "",
) -> bool:
    """Records a wrong password, answer or code (its slot stays used). True when the counter
    is now locked; the attempt that locks it records LOCKED and emails the customer."""
    now = timezone.now()
    until = now + timedelta(seconds=portal.lockout_seconds)
    with transaction.atomic():
        record_event(event, user=user, request=request, detail=detail)
        locked_now = bool(
            _filter_update(
                counter,
                Q(failure_count__gte=portal.lockout_threshold)
                & (Q(locked_until__isnull=True) | Q(locked_until__lte=now)),
                locked_until=until,
            )
        )
        if locked_now:
            record_event(
                SecurityEvent.Kind.LOCKED,
                user=user,
                request=request,
                detail=(
                    "Registered device locked" if counter.is_device else "Locked for new devices"
                ),
            )
        locked = locked_now or _is_locked(counter, now)
    if locked_now and user is not None:
        notify(user=user, kind="lockout", request=request, context={"until": until})
    return locked


def attempts_reset(counter: Counter, **device_changes: object) -> bool:
    """A full successful login: the count of consecutive failures starts again from zero (the
    slot of the attempt that got in with it), in one statement. False if the counter got locked
    while that attempt was being checked: the caller must then refuse as if locked.

    `device_changes` are further columns of a device counter's row to set in the same
    statement (the login's last use and IP).
    """
    now = timezone.now()
    if _filter_update(
        counter,
        Q(locked_until__isnull=True) | Q(locked_until__lte=now),
        failure_count=0,
        locked_until=None,
        **device_changes,
    ):
        return True
    # No row changed: locked, or (a username's counter) no row at all, which is not a lock.
    return not _is_locked(counter, now)


def counter_locked(counter: Counter) -> bool:
    return _is_locked(counter, timezone.now())


def lock_status(*, user: User) -> tuple[bool, datetime | None]:
    """(locked for unregistered clients?, until when) for the user's username."""
    until = (
        SignInLock.objects.filter(
            username_key=username_key(user.get_username()), locked_until__gt=timezone.now()
        )
        .values_list("locked_until", flat=True)
        .first()
    )
    return (until is not None, until)


def lockout_clear(*, user: User, request: HttpRequest | None = None) -> None:
    """Clears the username's lock and every registered device's count and lock, in one
    transaction (support's unlock; the caller records its own event)."""
    with transaction.atomic():
        SignInLock.objects.filter(username_key=username_key(user.get_username())).update(
            failure_count=0, locked_until=None, updated_at=timezone.now()
        )
        RegisteredDevice.objects.filter(user=user).update(failure_count=0, locked_until=None)


def _filter_update(counter: Counter, condition: Q, **changes: object) -> int:
    if counter.device_id is not None:
        return RegisteredDevice.objects.filter(condition, pk=counter.device_id).update(
            failures_updated_at=timezone.now(), **changes
        )
    return SignInLock.objects.filter(condition, username_key=counter.username_key).update(
        updated_at=timezone.now(), **changes
    )


def _is_locked(counter: Counter, now: datetime) -> bool:
    if counter.device_id is not None:
        return RegisteredDevice.objects.filter(pk=counter.device_id, locked_until__gt=now).exists()
    return SignInLock.objects.filter(
        username_key=counter.username_key, locked_until__gt=now
    ).exists()
