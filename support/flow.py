"""What support staff can do to a customer's online account. Every function audits itself.

Each action runs in one transaction that also writes its StaffAuditEntry (and the customer's
SecurityEvent where the customer should see it), so no change happens without its record.
Slow hashing (passwords, challenge answers) always happens before a write transaction opens.

The customer's own records (security events, emails) get no `request`: they would otherwise
show the staff member's browser and IP address to the customer. The audit row keeps the IP.
"""

from __future__ import annotations

import base64
import hmac
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from urllib.parse import quote, urlencode

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_ratelimit.core import is_ratelimited

from accounts import fields
from accounts.identity import identity_digest
from accounts.models import User, new_security_stamp
from portal.conf import portal
from security.challenge import answer_matches, question_text
from security.devices import devices_revoke_all
from security.events import record_event
from security.lockout import (
    attempt_failed,
    attempt_reserve,
    attempts_reset,
    counter_for,
    lockout_clear,
)
from security.models import ChallengeAnswer, SecurityEvent
from security.notifications import notify
from security.passkeys import passkey_remove, passkeys_remove_all
from support.models import StaffAuditEntry

logger = logging.getLogger(__name__)

Action = StaffAuditEntry.Action

# Caller verification guesses allowed per staff member and customer. A supervisor's review of
# the audit trail is the real control; the limit stops a console from becoming a guessing oracle.
VERIFY_RATE = "5/h"

ROLE_GROUPS: dict[str, str] = {"agent": "Support agent", "supervisor": "Supervisor"}
STAFF_DEVICE_NAME = "Support console"
# What the customer's email says changed (in their language) when support removes every passkey.
PASSKEYS_REMOVED_CHANGE = gettext_lazy(
    "Our support team removed your registered devices and every passkey"
)


class VerifyOutcome(StrEnum):
    MATCH = "Match"
    NO_MATCH = "No match"
    LIMITED = "Refused: too many attempts"


def _audit(
    *,
    staff: User,
    user: User | None,
    action: str,
    request: HttpRequest | None,
    reason: str = "",
    outcome: str = "",
) -> StaffAuditEntry:
    """`user` None: the entry concerns every customer (a look at everyone's events)."""
    return StaffAuditEntry.objects.create(
        staff=staff,
        staff_username=staff.get_username(),
        customer=user,
        customer_username=user.get_username() if user is not None else "(all customers)",
        action=action,
        reason=reason[:500],
        outcome=outcome[:100],
        ip=getattr(request, "client_ip", None) if request is not None else None,
    )


def _require_customer(user: User) -> None:
    # The console acts on customers' online accounts only, never on staff accounts.
    if user.customer_id is None or user.is_staff or user.is_superuser:
        raise ValueError("support actions apply to customers' online accounts only")


# --- Looking and verifying ----------------------------------------------------------------------
def account_view_record(
    *,
    staff: User,
    user: User | None,
    request: HttpRequest | None = None,
    quiet_minutes: int = 30,
    action: str = Action.VIEWED,
) -> bool:
    """Records that `staff` looked at the customer's page (or, with Action.VIEWED_EVENTS, at
    their security events; `user` None: everyone's), once per `quiet_minutes` (a look at a
    customer's data is traceable without every page refresh filling the trail)."""
    since = timezone.now() - timedelta(minutes=quiet_minutes)
    if StaffAuditEntry.objects.filter(
        staff=staff, customer=user, action=action, created_at__gte=since
    ).exists():
        return False
    _audit(staff=staff, user=user, action=action, request=request)
    return True


def _verify_allowed(*, staff: User, user: User, request: HttpRequest) -> bool:
    """Counts this attempt on the shared cache (atomic increment); fails closed."""
    try:
        limited = is_ratelimited(
            request,
            group="support-verify-caller",
            key=lambda group, req: f"{staff.pk}:{user.pk}",
            rate=VERIFY_RATE,
            method=is_ratelimited.ALL,
            increment=True,
        )
    except Exception:  # the cache is unreachable: refuse rather than stop limiting
        logger.warning("rate limit store unavailable for caller verification; refusing")
        return False
    return not limited


def caller_verify_identity(
    *, staff: User, user: User, tin_last4: str, birth_date: date, request: HttpRequest
) -> VerifyOutcome:
    """Compares what the caller said (TIN last 4, birth date) with the customer's stored keyed
    hash, in constant time. Says only match or no match; the values typed are not kept."""
    _require_customer(user)
    if not _verify_allowed(staff=staff, user=user, request=request):
        outcome = VerifyOutcome.LIMITED
    else:
        stored = user.customer.identity_digest if user.customer else ""
        matched = hmac.compare_digest(stored, identity_digest(tin_last4, birth_date))
        outcome = VerifyOutcome.MATCH if matched else VerifyOutcome.NO_MATCH
    _audit(
        staff=staff,
        user=user,
        action=Action.VERIFY_LIMITED if outcome is VerifyOutcome.LIMITED else Action.VERIFY_CALLER,
        request=request,
        reason="Caller gave TIN last 4 and date of birth",
        outcome=outcome.value,
    )
    return outcome


def caller_verify_answer(
    *, staff: User, user: User, question: str, answer: str, request: HttpRequest
) -> VerifyOutcome:
    """Checks the caller's answer to one of the customer's challenge questions (slow hash,
    outside any transaction). Says only match or no match; the answer is not kept."""
    _require_customer(user)
    if not _verify_allowed(staff=staff, user=user, request=request):
        outcome = VerifyOutcome.LIMITED
    else:
        stored = (
            ChallengeAnswer.objects.filter(user=user, question=question)
            .values_list("answer_hash", flat=True)
            .first()
        )
        matched = stored is not None and answer_matches(answer, stored)
        outcome = VerifyOutcome.MATCH if matched else VerifyOutcome.NO_MATCH
    _audit(
        staff=staff,
        user=user,
        action=Action.VERIFY_LIMITED if outcome is VerifyOutcome.LIMITED else Action.VERIFY_CALLER,
        request=request,
        reason=f"Caller answered: {question_text(question) or question}",
        outcome=outcome.value,
    )
    return outcome


# --- Changing the online account ----------------------------------------------------------------
def access_unlock(*, staff: User, user: User, reason: str, request: HttpRequest) -> None:
    """Lifts a hold ("This wasn't me"), clears the sign-in lock and every failure count
    (username and registered devices) in one transaction with the audit row and the customer's
    UNLOCKED event, then emails the customer that access was restored (a failed email never
    undoes the unlock)."""
    _require_customer(user)
    with transaction.atomic():
        lockout_clear(user=user)
        record_event(SecurityEvent.Kind.UNLOCKED, user=user)
        _audit(staff=staff, user=user, action=Action.UNLOCKED, request=request, reason=reason)
    notify(user=user, kind="access_restored")


@dataclass(frozen=True)
class Removed:
    devices: int
    passkeys: int


def access_devices_remove(*, staff: User, user: User, reason: str, request: HttpRequest) -> Removed:
    """Revokes every registered device and removes every passkey of the customer; returns how
    many of each there were. The customer is emailed when passkeys were removed (as when they
    remove one themselves): a passkey logs in on its own, so its loss must not go unnoticed."""
    _require_customer(user)
    with transaction.atomic():
        removed = Removed(
            devices=devices_revoke_all(user=user), passkeys=passkeys_remove_all(user=user)
        )
        _audit(
            staff=staff,
            user=user,
            action=Action.DEVICES_REMOVED,
            request=request,
            reason=reason,
            outcome=f"{removed.devices} devices and {removed.passkeys} passkeys removed",
        )
    if removed.passkeys:
        notify(
            user=user,
            kind="security_change",
            context={"change": PASSKEYS_REMOVED_CHANGE, "by_support": True},
        )
    return removed


def access_passkey_remove(
    *, staff: User, user: User, passkey_id: int, reason: str, request: HttpRequest
) -> str:
    """Removes one of the customer's passkeys and emails the customer; returns its name. Raises
    Passkey.DoesNotExist for a passkey that is not this customer's (changing nothing)."""
    _require_customer(user)
    with transaction.atomic():
        name = passkey_remove(request=None, user=user, passkey_id=passkey_id)
        _audit(
            staff=staff,
            user=user,
            action=Action.PASSKEY_REMOVED,
            request=request,
            reason=reason,
            outcome=f"Removed: {name}",
        )
    notify(user=user, kind="passkey_removed", context={"name": name, "by_support": True})
    return name


def access_questions_require(*, staff: User, user: User, reason: str, request: HttpRequest) -> None:
    """After their next password login the customer must choose new challenge questions
    before anything else."""
    _require_customer(user)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(must_reset_challenge_questions=True)
        _audit(
            staff=staff, user=user, action=Action.QUESTIONS_REQUIRED, request=request, reason=reason
        )
    user.must_reset_challenge_questions = True


def access_disable(*, staff: User, user: User, reason: str, request: HttpRequest) -> None:
    """Turns online access off. Rotating the security stamp ends every session of the customer
    at their next request, whatever the session backend."""
    _require_customer(user)
    stamp = new_security_stamp()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False, security_stamp=stamp)
        record_event(SecurityEvent.Kind.DISABLED, user=user)
        _audit(staff=staff, user=user, action=Action.DISABLED, request=request, reason=reason)
    user.is_active, user.security_stamp = False, stamp


def access_enable(*, staff: User, user: User, reason: str, request: HttpRequest) -> None:
    _require_customer(user)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=True)
        record_event(SecurityEvent.Kind.ENABLED, user=user)
        _audit(staff=staff, user=user, action=Action.ENABLED, request=request, reason=reason)
    user.is_active = True


# --- Staff accounts and retention ---------------------------------------------------------------
class SupportUserError(Exception):
    pass


def support_user_create(*, username: str, role: str, password: str, email: str = "") -> TOTPDevice:
    """Creates a staff user in the role's group with a confirmed authenticator-app device.

    The username follows the customers' rule (accounts.fields.username) and the password must
    pass the project's validators. Raises SupportUserError (refused or taken username, unknown
    role or missing group) or django's ValidationError (weak password).
    """
    if role not in ROLE_GROUPS:
        raise SupportUserError(f"unknown role {role!r}; choose agent or supervisor")
    try:
        username = fields.username(username)
    except ValidationError as exc:
        raise SupportUserError("Username refused: " + " ".join(exc.messages)) from None
    user = User(username=username, email=email, is_staff=True)
    validate_password(password, user)
    user.password = make_password(password)  # hashed before the write transaction opens
    with transaction.atomic():
        group = Group.objects.filter(name=ROLE_GROUPS[role]).first()
        if group is None:
            raise SupportUserError(f"the group {ROLE_GROUPS[role]!r} is missing; run migrate")
        if User.objects.filter(username__iexact=username).exists():
            raise SupportUserError(f"the username {username!r} is taken")
        user.save()
        user.groups.add(group)
        return TOTPDevice.objects.create(user=user, name=STAFF_DEVICE_NAME, confirmed=True)


class StaffLoginOutcome(StrEnum):
    SIGNED_IN = "signed_in"
    WRONG = "wrong"  # any wrong combination, whatever was wrong (indistinguishable)
    LOCKED = "locked"


@dataclass(frozen=True)
class StaffLogin:
    outcome: StaffLoginOutcome
    user: User | None = None  # set when signed in
    device: TOTPDevice | None = None  # the app whose code was accepted, when signed in


def staff_login_check(
    *, request: HttpRequest | None, username: str, password: str, code: str
) -> StaffLogin:
    """Checks a console login: username, password and the authenticator-app code, together.

    Counts on the username's counter of security.lockout, as a customer's login on an
    unregistered device does: the attempt takes a slot before anything is checked, and while
    the username is locked (or held) nothing is checked at all. Every outcome but a full success
    counts as one failure (wrong username, password or code, no code, no confirmed app, a
    disabled or customer account), so neither the answer nor the lock tells them apart. The
    password is always checked (a dummy hash of the same cost for an unknown username, as
    Django's ModelBackend does); the code only for an active staff member whose password is
    right, so a guess without the password never uses up or throttles the staff member's codes.
    The attempt that locks records LOCKED and emails the user (if they have an email address).
    """
    counter = counter_for(username=username)
    if not attempt_reserve(counter):
        return StaffLogin(StaffLoginOutcome.LOCKED)
    user = User.objects.filter(username__iexact=username).first()
    if user is None:
        make_password(password)
        right = False
    else:
        right = user.check_password(password)
    staff = user is not None and user.is_staff and user.customer_id is None
    device: TOTPDevice | None = None
    problem = "wrong password"
    if user is not None and staff and right:
        if not user.is_active:
            problem = "staff account disabled"
        else:
            device, problem = _staff_code_check(user, code)
    if device is None or user is None:
        locked = attempt_failed(
            counter,
            user=user,
            request=request,
            event=SecurityEvent.Kind.LOGIN_FAILED,
            # What was wrong stays in a staff member's record (for supervisors), never in the
            # answer; a customer's record (which they can see) just names the console.
            detail=f"Support console: {problem}" if staff else "Support console",
        )
        return StaffLogin(StaffLoginOutcome.LOCKED if locked else StaffLoginOutcome.WRONG)
    if not attempts_reset(counter):  # locked (or held) while this attempt was being checked
        return StaffLogin(StaffLoginOutcome.LOCKED)
    return StaffLogin(StaffLoginOutcome.SIGNED_IN, user=user, device=device)


def _staff_code_check(user: User, code: str) -> tuple[TOTPDevice | None, str]:
    """(the staff member's app, "") if `code` is its current code, else (None, what was wrong).

    The device row is locked (select_for_update) while django-otp checks the code, so one code
    is accepted once even by parallel logins; django-otp's own throttle still applies.
    """
    if not code:
        return None, "no code"
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=True)
            .order_by("-id")
            .first()
        )
        if device is None:
            return None, "no authenticator app"
        if not device.verify_token(code):
            return None, "wrong code"
    return device, ""


def staff_totp_uri(device: TOTPDevice) -> str:
    """The otpauth:// URI (Key Uri Format) for the staff member's authenticator app. The issuer
    names the console, so it is not confused with a customer entry in the same app."""
    issuer = f"{portal.lender_name} support console".replace(":", "")
    label = quote(f"{issuer}:{device.user.get_username()}")
    params = urlencode(
        {
            "secret": base64.b32encode(device.bin_key).decode().rstrip("="),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{params}"


def retention_purge(*, now: datetime | None = None) -> tuple[int, int]:
    """Deletes security events and staff audit entries older than the retention period.
    Returns (events deleted, audit entries deleted)."""
    cutoff = (now or timezone.now()) - timedelta(days=portal.event_retention_days)
    events = SecurityEvent.objects.purge_before(cutoff)
    audit = StaffAuditEntry.objects.purge_before(cutoff)
    return events, audit
