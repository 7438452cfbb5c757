"""Account recovery: "Forgot username?" and "Forgot password?".

Forgot username: the identity check of enrollment step 1; the username goes to the email on
file. Forgot password: username plus the identity check, then a security code to the email or
phone on file, then a new password. The password flow is a small state machine kept in the
session under one key; it holds only the user's pk, a random flow id (binding the security code
to this attempt), the stage reached and the code's channel, never identity data. A username that
does not exist or does not match the identity gets the same message as a failed identity check.

While the loan's identity checks are paused (too many failures, perhaps someone else's), both
pages answer right and wrong details alike with a code page (security.identity_check): the code
went to the contact on the servicing record if the details were right, and the right code goes
on exactly as right details would have.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Self

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Customer, new_security_stamp
from portal.conf import portal
from security.codes import Channel, code_check, code_live, code_send, mask_email
from security.devices import devices_revoke_all
from security.events import record_event
from security.flow_state import Expiry, FlowState
from security.identity_check import (
    IdentityCheck,
    IdentityOutcome,
    identity_check,
    identity_code_check,
    identity_code_pending,
)
from security.lockout import (
    Counter,
    LockNotice,
    attempt_failed,
    attempt_reserve,
    attempt_succeeded,
    counter_for,
    counter_locked,
    failures_clear,
    hold_active,
    hold_place,
    lock_notice,
    normalize_username,
)
from security.models import ActionToken, HoldReason, SecurityCode, SecurityEvent
from security.notifications import notify, token_hash
from security.passkeys import passkeys_remove_all
from security.ratelimits import ip_limit_reached

if TYPE_CHECKING:
    from accounts.models import User

SESSION_KEY = "recovery:password"
USERNAME_SENT_KEY = "recovery:username_sent_to"  # the masked address, for the "sent" page
IDENTITY_LIMIT_GROUP = "recovery:identity"
SEND_LIMIT_GROUP = "recovery:send"
CODE_LIMIT_GROUP = "recovery:code"
PASSWORD_LIMIT_GROUP = "recovery:password"  # noqa: S105 (a rate-limit group name)
PURPOSE = SecurityCode.Purpose.RECOVERY
# The pages that take the code of a paused identity check (security.identity_check).
USERNAME_STEP = "username"
PASSWORD_STEP = "password"  # noqa: S105 (a step name)
PAUSED_USERNAME_KEY = "recovery:paused_username"  # the username typed with a paused check
# Security codes one password recovery may send, first code and resends together. Each code
# allows PORTAL_CODE_MAX_ATTEMPTS wrong entries, so this also bounds the guesses one recovery can
# make; a customer who needs more starts again (with the identity check) or calls.
MAX_CODES_PER_RECOVERY = 5


class Outcome(StrEnum):
    DONE = "done"
    MISMATCH = "mismatch"
    LIMITED = "limited"
    NO_ACCOUNT = "no_account"
    HELD = "held"  # "This wasn't me" lock: only support can open access again
    LOCKED = "locked"  # the username's sign-in lock (security.lockout): no code is checked
    CODES_USED_UP = "codes_used_up"  # MAX_CODES_PER_RECOVERY codes were sent already
    CONFIRM_BY_CODE = "confirm_by_code"  # the loan is paused: ask for the code (same page always)


class Stage(StrEnum):
    VERIFIED = "verified"  # identity and username matched: choose where the code goes
    CODE_SENT = "code_sent"
    CODE_PASSED = "code_passed"  # may now choose a new password


class AccessHeld(Exception):
    """Online access is locked until support unlocks it; recovery must not reopen it."""


@dataclass
class Recovery(FlowState):
    """The password recovery in progress (stored in the session under SESSION_KEY). It ends after
    portal.session_idle_seconds without a step."""

    KEY = SESSION_KEY
    EXPIRES = Expiry.SINCE_LAST_ACTIVITY

    user_id: int
    flow_id: str
    stage: Stage
    channel: Channel | None = None
    last_activity: float = 0.0

    @classmethod
    def lifetime_seconds(cls) -> float:
        return portal.session_idle_seconds

    @classmethod
    def from_session(cls, data: Any) -> Self:
        state = super().from_session(data)
        state.stage = Stage(state.stage)
        state.channel = Channel(state.channel) if state.channel else None
        return state

    def user(self) -> User | None:
        return get_user_model().objects.filter(pk=self.user_id, is_active=True).first()


def _counter(user: User) -> Counter:
    """Recovery codes count on the username's sign-in counter, with passwords, challenge answers
    and step-up codes (recovery has no registered device to count on)."""
    return counter_for(username=user.get_username())


def recovery_lock_notice(user: User) -> LockNotice:
    """What recovery says when the username's lock refuses it (the lock page's wording)."""
    return lock_notice(_counter(user))


def _online_user(customer: Customer | None) -> User | None:
    if customer is None:
        return None
    return get_user_model().objects.filter(customer=customer).first()


# --- Forgot username ------------------------------------------------------------------------------
def username_recover(
    request: HttpRequest, *, tin_last4: str, birth_date: date, reference: str
) -> Outcome:
    """Checks the identity and, if it belongs to a customer with an online account, emails the
    username to the address on file (the masked address is kept for the "sent" page)."""
    request.session.pop(USERNAME_SENT_KEY, None)
    check = identity_check(
        tin_last4=tin_last4,
        birth_date=birth_date,
        reference=reference,
        request=request,
        ip_group=IDENTITY_LIMIT_GROUP,
        confirm_purpose=PURPOSE,
        confirm_step=USERNAME_STEP,
    )
    if check.outcome == IdentityOutcome.CONFIRM_BY_CODE:
        return Outcome.CONFIRM_BY_CODE
    return _username_send(request, check)


def username_code_submit(request: HttpRequest, *, code: str) -> Outcome:
    """Forgot username while the loan is paused: the code sent to the contact on record."""
    check = identity_code_check(
        request, purpose=PURPOSE, step=USERNAME_STEP, code=code, ip_group=CODE_LIMIT_GROUP
    )
    return _username_send(request, check)


def identity_code_waiting(request: HttpRequest, *, password: bool) -> bool:
    """True while the code of a paused check can still be entered on that page."""
    step = PASSWORD_STEP if password else USERNAME_STEP
    return identity_code_pending(request, purpose=PURPOSE, step=step)


def _username_send(request: HttpRequest, check: IdentityCheck) -> Outcome:
    if check.outcome == IdentityOutcome.LIMITED:
        return Outcome.LIMITED
    if not check.verified:
        return Outcome.MISMATCH
    user = _online_user(check.customer)
    if user is None:
        return Outcome.NO_ACCOUNT
    record_event(
        SecurityEvent.Kind.RECOVERY_REQUESTED, user=user, request=request, detail="Username"
    )
    notify(user=user, kind="username_reminder", request=request)
    request.session[USERNAME_SENT_KEY] = mask_email(user.email)
    return Outcome.DONE


# --- Forgot password ------------------------------------------------------------------------------
def password_recovery_start(
    request: HttpRequest, *, username: str, tin_last4: str, birth_date: date, reference: str
) -> Outcome:
    """Step 1: username plus identity. DONE starts a recovery state in a new session key."""
    Recovery.clear(request)
    request.session.pop(PAUSED_USERNAME_KEY, None)
    check = identity_check(
        tin_last4=tin_last4,
        birth_date=birth_date,
        reference=reference,
        request=request,
        ip_group=IDENTITY_LIMIT_GROUP,
        confirm_purpose=PURPOSE,
        confirm_step=PASSWORD_STEP,
    )
    if check.outcome == IdentityOutcome.CONFIRM_BY_CODE:
        request.session[PAUSED_USERNAME_KEY] = username
        return Outcome.CONFIRM_BY_CODE
    return _recovery_begin(request, check, username)


def password_code_submit(request: HttpRequest, *, code: str) -> Outcome:
    """Forgot password while the loan is paused: the code sent to the contact on record, then
    the username typed with the details is checked as it would have been at once."""
    check = identity_code_check(
        request, purpose=PURPOSE, step=PASSWORD_STEP, code=code, ip_group=CODE_LIMIT_GROUP
    )
    username = str(request.session.get(PAUSED_USERNAME_KEY, ""))
    if check.verified:
        request.session.pop(PAUSED_USERNAME_KEY, None)
    return _recovery_begin(request, check, username)


def _recovery_begin(request: HttpRequest, check: IdentityCheck, username: str) -> Outcome:
    if check.outcome == IdentityOutcome.LIMITED:
        return Outcome.LIMITED
    user = _online_user(check.customer) if check.verified else None
    # No account, another customer's username, or a disabled account: the same answer as a
    # failed identity check, so the page never tells which usernames exist.
    if (
        user is None
        or not user.is_active
        or normalize_username(username) != normalize_username(user.get_username())
    ):
        return Outcome.MISMATCH
    if hold_active(user=user):
        return Outcome.HELD
    record_event(
        SecurityEvent.Kind.RECOVERY_REQUESTED, user=user, request=request, detail="Password"
    )
    # A new session key from here on: whoever knew the old one (fixation) cannot ride along.
    request.session.cycle_key()
    Recovery(user_id=user.pk, flow_id=secrets.token_urlsafe(16), stage=Stage.VERIFIED).save(request)
    return Outcome.DONE


def recovery_code_send(
    request: HttpRequest, state: Recovery, *, user: User, channel: Channel
) -> Outcome:
    """Sends a security code for this recovery to the email or phone on file.

    LOCKED while the username is locked (a code could not be checked); CODES_USED_UP once this
    recovery has sent MAX_CODES_PER_RECOVERY codes. Raises CodeCooldown or CodeDeliveryError
    from security.codes (nothing changes then).
    """
    if ip_limit_reached(request, SEND_LIMIT_GROUP, portal.login_ip_rate):
        return Outcome.LIMITED
    if counter_locked(_counter(user)):
        return Outcome.LOCKED
    # Counted from the codes of this flow in the database, not from the session: a failed
    # delivery leaves no row behind (security.codes.code_send), so only codes sent count.
    sent = SecurityCode.objects.filter(user=user, purpose=PURPOSE, flow_id=state.flow_id).count()
    if sent >= MAX_CODES_PER_RECOVERY:
        return Outcome.CODES_USED_UP
    code_send(user=user, purpose=PURPOSE, flow_id=state.flow_id, channel=channel, request=request)
    state.stage = Stage.CODE_SENT
    state.channel = channel
    state.save(request)
    return Outcome.DONE


def recovery_code_check(request: HttpRequest, state: Recovery, *, user: User, code: str) -> Outcome:
    """The code from step 2. A code is void after PORTAL_CODE_MAX_ATTEMPTS wrong entries.

    Each entry of a live code is checked in an attempt slot of the username's sign-in counter,
    as a step-up code is: a wrong code counts toward the lock (the entry that reaches the
    threshold locks and emails the customer), and while locked nothing is checked (LOCKED).
    With no live code (expired, void or used) there is nothing to guess against: MISMATCH,
    without counting.
    """
    if ip_limit_reached(request, CODE_LIMIT_GROUP, portal.login_ip_rate):
        return Outcome.LIMITED
    if code_live(user=user, purpose=PURPOSE, flow_id=state.flow_id) is None:
        return Outcome.MISMATCH
    counter = _counter(user)
    if not attempt_reserve(counter):
        return Outcome.LOCKED
    if not code_check(user=user, purpose=PURPOSE, flow_id=state.flow_id, code=code):
        locked = attempt_failed(
            counter,
            user=user,
            request=request,
            event=SecurityEvent.Kind.STEP_UP_FAILED,
            detail="Wrong security code for a password reset",
        )
        return Outcome.LOCKED if locked else Outcome.MISMATCH
    if not attempt_succeeded(counter):
        return Outcome.LOCKED
    request.session.cycle_key()
    state.stage = Stage.CODE_PASSED
    state.save(request)
    return Outcome.DONE


def recovery_password_set(
    request: HttpRequest, state: Recovery, *, user: User, password: str
) -> Outcome:
    """Step 3: the new password. Ends the recovery whatever happens next."""
    if ip_limit_reached(request, PASSWORD_LIMIT_GROUP, portal.login_ip_rate):
        return Outcome.LIMITED
    try:
        password_reset_complete(user=user, password=password, request=request)
    except AccessHeld:
        Recovery.clear(request)
        return Outcome.HELD
    Recovery.clear(request)
    return Outcome.DONE


def password_reset_complete(
    *, user: User, password: str, request: HttpRequest | None = None
) -> None:
    """Sets a forgotten password anew and ends everything that relied on the old one.

    In one transaction: the new password hash (computed before the transaction: Argon2 must not
    hold the write lock), a new security stamp (every session of the user ends at its next
    request), every registered device revoked, the sign-in lock counts cleared, the recovery's
    codes voided, RECOVERY_COMPLETED recorded. Then the customer is emailed. Raises AccessHeld,
    changing nothing, while online access is held ("This wasn't me").
    """
    password_hash = make_password(password)
    with transaction.atomic():
        if hold_active(user=user):
            raise AccessHeld
        get_user_model().objects.filter(pk=user.pk).update(
            password=password_hash, security_stamp=new_security_stamp()
        )
        devices_revoke_all(user=user, request=request)
        failures_clear(user=user)  # never lifts a hold placed meanwhile
        SecurityCode.objects.filter(
            user=user, purpose=PURPOSE, used_at__isnull=True, voided_at__isnull=True
        ).update(voided_at=timezone.now())
        record_event(SecurityEvent.Kind.RECOVERY_COMPLETED, user=user, request=request)
    user.refresh_from_db(fields=["password", "security_stamp"])
    notify(user=user, kind="password_reset", request=request)


# --- "This wasn't me" -----------------------------------------------------------------------------
# The customer's single-use link from a security email. Following it (a POST from the confirmation
# page; mail scanners only GET) holds online access until support unlocks it, ends every session,
# revokes every registered device, removes every passkey, voids security codes in flight and
# records NOT_ME, all in one transaction. While held, password recovery is refused (Outcome.HELD,
# AccessHeld).
class TokenStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"
    DONE = "done"


@dataclass(frozen=True)
class TokenCheck:
    status: TokenStatus
    token: ActionToken | None = None


def not_me_token_check(*, token: str) -> TokenCheck:
    """Whether a "This wasn't me" link token can still be used. Read-only (safe for GET).

    Found by its SHA-256, never by the raw value, then compared in constant time.
    """
    digest = token_hash(token)
    row = (
        ActionToken.objects.filter(token_hash=digest, purpose=ActionToken.Purpose.NOT_ME)
        .select_related("user")
        .first()
    )
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return TokenCheck(TokenStatus.INVALID)
    if row.used_at is not None:
        return TokenCheck(TokenStatus.USED, row)
    if row.expires_at <= timezone.now():
        return TokenCheck(TokenStatus.EXPIRED, row)
    return TokenCheck(TokenStatus.VALID, row)


def not_me_report(*, token: str, request: HttpRequest | None = None) -> TokenCheck:
    """Uses the token and secures its user's online account; DONE, or why not.

    The token is claimed with a conditional UPDATE (used_at IS NULL and not expired), so of two
    parallel submissions exactly one acts. Then, in the same transaction: online access held
    until support unlocks it, the security stamp rotated (every session of the user ends at its
    next request), every registered device revoked, every passkey removed (the one an email was
    about included), live security codes voided, NOT_ME recorded.
    """
    check = not_me_token_check(token=token)
    if check.status != TokenStatus.VALID or check.token is None:
        return check
    now = timezone.now()
    with transaction.atomic():
        claimed = ActionToken.objects.filter(
            pk=check.token.pk, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if not claimed:
            return TokenCheck(TokenStatus.USED, check.token)
        user = check.token.user
        hold_place(user=user, reason=HoldReason.NOT_ME)
        get_user_model().objects.filter(pk=user.pk).update(security_stamp=new_security_stamp())
        devices_revoke_all(user=user, request=request)
        passkeys_remove_all(user=user, request=request)
        SecurityCode.objects.filter(user=user, used_at__isnull=True, voided_at__isnull=True).update(
            voided_at=now
        )
        record_event(SecurityEvent.Kind.NOT_ME, user=user, request=request)
    return TokenCheck(TokenStatus.DONE, check.token)
