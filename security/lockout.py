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

A hold ("This wasn't me") is the username's other state: it has no end date and refuses every
attempt, on the username's counter and on every registered device's, until support's unlock
(`lockout_clear`) lifts it. It lives on the username's SignInLock row (`held_at`, `hold_reason`);
a device counter sees it through a subquery on that row inside its own conditional UPDATE, so a
registered-device login checks the hold without a statement of its own. This module is the only
code that writes SignInLock or a device's counter columns.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Exists, F, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from portal.conf import portal
from security.events import record_event
from security.models import HoldReason, RegisteredDevice, SecurityEvent, SignInLock
from security.notifications import notify

if TYPE_CHECKING:
    from django.db.models import QuerySet

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


def _held_rows(key: str) -> QuerySet[SignInLock]:
    return SignInLock.objects.filter(username_key=key, held_at__isnull=False)


def _not_held(counter: Counter) -> Q:
    """The condition "the counter's username is not held", for a counter's own row: a column of
    the username's row, or for a device a NOT EXISTS on it (part of the same statement)."""
    if counter.device_id is not None:
        return Q(~Exists(_held_rows(counter.username_key)))
    return Q(held_at__isnull=True)


def attempt_reserve(counter: Counter) -> bool:
    """Takes an attempt slot (counts the attempt as a failure up front). False: locked.

    False when the counter is locked, its username is held, or every slot up to the threshold
    is taken by attempts still being checked; the caller then answers with the lock message and
    checks nothing. An expired lock starts a fresh count.
    """
    now = timezone.now()
    threshold = portal.lockout_threshold
    # The usual case in one statement (a login is a few of them, so each counts): an unlocked,
    # unheld counter below the threshold. The conditions and the increment are one atomic
    # UPDATE, so parallel attempts still cannot take more than the threshold.
    if _filter_update(
        counter,
        Q(locked_until__isnull=True, failure_count__lt=threshold) & _not_held(counter),
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
            if _held_rows(counter.username_key).exists():
                return False
        else:
            row, _ = SignInLock.objects.select_for_update().get_or_create(
                username_key=counter.username_key
            )
            if row.held_at is not None:
                return False
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
    locked (or its username held) while it was being checked (the caller must then refuse as
    if locked)."""
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
        notify(
            user=user, kind="lockout", request=request, context={"lock": LockNotice(until=until)}
        )
    return locked


def attempts_reset(counter: Counter, **device_changes: object) -> bool:
    """A full successful login: the count of consecutive failures starts again from zero (the
    slot of the attempt that got in with it), in one statement. False if the counter got locked,
    or its username held, while that attempt was being checked: the caller must then refuse as
    if locked.

    `device_changes` are further columns of a device counter's row to set in the same
    statement (the login's last use and IP).
    """
    now = timezone.now()
    if _filter_update(
        counter,
        (Q(locked_until__isnull=True) | Q(locked_until__lte=now)) & _not_held(counter),
        failure_count=0,
        locked_until=None,
        **device_changes,
    ):
        return True
    # No row changed: locked or held, or (a username's counter) no row at all, which is not a
    # lock; or (a device's) the device was removed meanwhile, which refuses only during a hold.
    return not _is_locked(counter, now)


def counter_locked(counter: Counter) -> bool:
    return _is_locked(counter, timezone.now())


# --- What the customer is told --------------------------------------------------------------------
# Every sentence below is read in the active language when it is shown: the page's, or the
# customer's own for the lock email (security.notifications renders it in their language).
def lock_duration_text() -> str:
    """PORTAL_LOCKOUT_SECONDS in words: "30 minutes", "1 hour", "90 minutes"."""
    minutes = max(1, round(portal.lockout_seconds / 60))
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def local_time_text(moment: datetime, *, now: datetime | None = None) -> str:
    """A moment as the customer reads it, in the portal's time zone (TIME_ZONE) with the zone's
    abbreviation: "3:45 PM EST", with the day when it is not today there ("3:45 PM EST on
    Tuesday, December 1"), in the active language's formats."""
    zone = timezone.get_default_timezone()
    local = timezone.localtime(moment, zone)
    today = timezone.localtime(now or timezone.now(), zone).date()
    text = f"{date_format(local, 'TIME_FORMAT')} {date_format(local, 'T')}"
    if local.date() == today:
        return text
    day = f"{date_format(local, 'l')}, {date_format(local, 'MONTH_DAY_FORMAT')}"
    return _("%(time)s on %(day)s") % {"time": text, "day": day}


_HEADLINE = gettext_lazy("Online access is temporarily locked")
_HEADLINE_HELD = gettext_lazy("Online access is locked")
_HELD = gettext_lazy(
    "Online access to this account is locked. Only our support team can open it again."
)
_HELD_NEXT_STEPS = gettext_lazy("Please call us at %(phone)s, %(hours)s.")


@dataclass(frozen=True)
class LockNotice:
    """The one wording of a sign-in lock, for the Log In page, the lock email, recovery and
    Contact Us: how long online access is paused (PORTAL_LOCKOUT_SECONDS), until when in the
    portal's time zone, and what to do. `until` None: a lock in general (Contact Us), or a hold
    when `held`. Each text is made when read, in the language active then."""

    until: datetime | None = None
    held: bool = False

    @property
    def headline(self) -> str:
        return str(_HEADLINE_HELD if self.held else _HEADLINE)

    @property
    def paused(self) -> str:
        if self.held:
            return str(_HELD)
        values = {
            "duration": lock_duration_text(),
            "attempts": portal.lockout_threshold,
        }
        if self.until is None:
            return (
                _(
                    "For your security, online access to this account is paused for %(duration)s "
                    "after %(attempts)d unsuccessful attempts in a row (a wrong password, challenge "
                    "answer or security code)."
                )
                % values
            )
        return _(
            "For your security, online access to this account is paused for %(duration)s after "
            "%(attempts)d unsuccessful attempts in a row (a wrong password, challenge answer or "
            "security code), until %(end)s."
        ) % {**values, "end": local_time_text(self.until)}

    def _next_steps_text(self) -> str:
        """What to do, with %(phone)s and %(hours)s still to fill in."""
        if self.held:
            return str(_HELD_NEXT_STEPS)
        if self.until is not None:
            return _(
                "Wait until then and log in again; if you don't remember your password, use "
                "\"Forgot password?\" once the pause has ended. If you can't wait, or you didn't "
                "make those attempts, call us at %(phone)s, %(hours)s: once we have confirmed who "
                "you are, we can unlock your online access."
            )
        return _(
            "Wait until the pause ends and log in again; if you don't remember your password, "
            "use \"Forgot password?\" once the pause has ended. If you can't wait, or you didn't "
            "make those attempts, call us at %(phone)s, %(hours)s: once we have confirmed who "
            "you are, we can unlock your online access."
        )

    @property
    def next_steps(self) -> str:
        """What to do, as plain text (email, form errors)."""
        return self._next_steps_text() % {
            "phone": portal.support_phone,
            "hours": portal.support_hours,
        }

    @property
    def next_steps_html(self) -> SafeString:
        """What to do, with the support number as a tel: link (pages)."""
        link = format_html('<a href="tel:{0}">{0}</a>', portal.support_phone)
        # The sentence escaped, then its two placeholders filled by format_html (which escapes
        # the hours and keeps the link).
        sentence = conditional_escape(self._next_steps_text()).replace("{", "{{").replace("}", "}}")
        sentence = sentence.replace("%(phone)s", "{phone}").replace("%(hours)s", "{hours}")
        return format_html(sentence, phone=link, hours=portal.support_hours)

    def __str__(self) -> str:
        return f"{self.headline}. {self.paused} {self.next_steps}"


def lock_notice(counter: Counter) -> LockNotice:
    """What the customer is told about the lock on `counter` now: its end, or a hold."""
    now = timezone.now()
    if _held_rows(counter.username_key).exists():
        return LockNotice(held=True)
    if counter.device_id is not None:
        until = (
            RegisteredDevice.objects.filter(pk=counter.device_id, locked_until__gt=now)
            .values_list("locked_until", flat=True)
            .first()
        )
    else:
        until = (
            SignInLock.objects.filter(username_key=counter.username_key, locked_until__gt=now)
            .values_list("locked_until", flat=True)
            .first()
        )
    return LockNotice(until=until)


@dataclass(frozen=True)
class LockState:
    """The sign-in lock state of a user's username, for support's console."""

    locked: bool  # refused for unregistered clients now (a temporary lock or a hold)
    until: datetime | None  # when a temporary lock ends; None for a hold or no lock
    hold_reason: HoldReason | None  # None unless held
    held_at: datetime | None
    failure_count: int

    @property
    def held(self) -> bool:
        return self.hold_reason is not None


def lock_state(*, user: User) -> LockState:
    """The username's temporary lock, hold and failure count, in one query."""
    now = timezone.now()
    row = (
        SignInLock.objects.filter(username_key=username_key(user.get_username()))
        .values("failure_count", "locked_until", "held_at", "hold_reason")
        .first()
    )
    if row is None:
        return LockState(locked=False, until=None, hold_reason=None, held_at=None, failure_count=0)
    if row["held_at"] is not None:
        return LockState(
            locked=True,
            until=None,
            hold_reason=HoldReason(row["hold_reason"]),
            held_at=row["held_at"],
            failure_count=row["failure_count"],
        )
    until = row["locked_until"] if row["locked_until"] and row["locked_until"] > now else None
    return LockState(
        locked=until is not None,
        until=until,
        hold_reason=None,
        held_at=None,
        failure_count=row["failure_count"],
    )


def lock_status(*, user: User) -> tuple[bool, datetime | None]:
    """(locked for unregistered clients?, until when) for the user's username; a hold is
    locked with no end: (True, None)."""
    state = lock_state(user=user)
    return (state.locked, state.until)


def hold_place(*, user: User, reason: HoldReason) -> bool:
    """Holds the user's online access until support's unlock (`lockout_clear`): every attempt
    is refused, on the username and on every registered device, with no end date. True if this
    placed it; False if it was held already (the first hold and its reason stay).

    The caller decides what else the hold means (ending sessions, revoking devices) and records
    its own event.
    """
    key = username_key(user.get_username())
    now = timezone.now()
    with transaction.atomic():
        SignInLock.objects.get_or_create(username_key=key)
        return bool(
            SignInLock.objects.filter(username_key=key, held_at__isnull=True).update(
                held_at=now, hold_reason=reason, updated_at=now
            )
        )


def hold_active(*, user: User) -> bool:
    """True while the user's online access is held (only support's unlock ends it)."""
    return _held_rows(username_key(user.get_username())).exists()


def failures_clear(*, user: User) -> None:
    """Clears the failure counts and temporary locks of the username and of every registered
    device, in one transaction (a password reset). Never lifts a hold: the columns of a hold,
    even one placed meanwhile, are not written."""
    _clear(user=user)


def lockout_clear(*, user: User, request: HttpRequest | None = None) -> None:
    """Support's unlock: lifts a hold and clears the username's lock and every registered
    device's count and lock, in one transaction (the caller records its own event)."""
    _clear(user=user, held_at=None, hold_reason="")


def _clear(*, user: User, **hold_changes: object) -> None:
    with transaction.atomic():
        SignInLock.objects.filter(username_key=username_key(user.get_username())).update(
            failure_count=0, locked_until=None, updated_at=timezone.now(), **hold_changes
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
    """Locked or held now (a device: its own lock, or its username's hold)."""
    if counter.device_id is not None:
        return (
            RegisteredDevice.objects.filter(pk=counter.device_id, locked_until__gt=now).exists()
            or _held_rows(counter.username_key).exists()
        )
    return SignInLock.objects.filter(
        Q(locked_until__gt=now) | Q(held_at__isnull=False), username_key=counter.username_key
    ).exists()
