"""Logging in: the password, then (on a device the portal does not recognise) step-up, then the
offer to register the device, and only then the session.

The login in progress is a small state object kept in the session under one key (`FLOW_KEY`):
the user's pk and security stamp, a random flow id that binds security codes to this attempt,
the stages required and passed, the challenge question asked, the code channel chosen and when it
started. It expires after `FLOW_SECONDS`, and ends as soon as the user's security stamp is no
longer the one seen at the password step (a password change or reset, "This wasn't me", support
turning access off): a login begun before such a change never finishes after it. `request.user`
stays anonymous and no authenticated session exists until every required stage has passed: only
`login_finish` calls `auth.login()` (which rotates the session key) and `mark_password_verified`.

Every password, answer, code and passkey is checked inside an attempt slot of security.lockout,
so failures of all of them count together and parallel attempts cannot get past the threshold.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Self

from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from portal.conf import portal
from security import two_step
from security.challenge import answer_matches, question_text
from security.codes import (
    Channel,
    CodeCooldown,
    CodeDeliveryError,
    channels_on_file,
    code_check,
    code_send,
)
from security.devices import device_from_cookie, device_register
from security.events import record_event
from security.flow_state import Expiry, FlowState, now
from security.lockout import (
    Counter,
    LockNotice,
    attempt_failed,
    attempt_reserve,
    attempt_succeeded,
    attempts_reset,
    counter_for,
    lock_notice,
)
from security.models import (
    ChallengeAnswer,
    Passkey,
    RegisteredDevice,
    SecurityCode,
    SecurityEvent,
)
from security.passkeys import (
    CEREMONY_SECONDS,
    AssertionOutcome,
    assertion_challenge,
    assertion_passkey,
    assertion_verify,
    authentication_options_for,
)
from security.sessions import mark_password_verified

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

FLOW_KEY = "signin:login"
FLOW_SECONDS = 10 * 60
PURPOSE = SecurityCode.Purpose.LOGIN
LIMIT_GROUP = "login"  # password, answer and code attempts per client IP
SEND_LIMIT_GROUP = "login:send"  # code sends per client IP
# The question asked stays the same for a while, so someone holding the password cannot start
# over and over until a question they can guess comes up.
QUESTION_PIN_SECONDS = 24 * 60 * 60

__all__ = [
    "CodeCooldown",
    "CodeDeliveryError",
    "FinishOutcome",
    "LoginFlow",
    "PasswordOutcome",
    "Stage",
    "StepUpResult",
    "login_finish",
    "passkey_login",
    "password_lock_notice",
    "password_submit",
    "step_up_passkey",
    "step_up_passkey_offered",
    "step_up_passkey_options",
    "step_up_send_code",
    "step_up_submit",
]


class Stage(StrEnum):
    QUESTION = "question"
    CODE = "code"


class StepUpPolicy(StrEnum):
    """PORTAL_STEP_UP_POLICY: what an unregistered device must pass."""

    QUESTION_AND_CODE = "question+code"
    CODE = "code"
    QUESTION = "question"


class PasswordOutcome(StrEnum):
    SIGNED_IN = "signed_in"  # registered device: the session exists
    STEP_UP = "step_up"  # unregistered device: a login flow has started
    WRONG = "wrong"  # wrong password or unknown username (indistinguishable)
    LOCKED = "locked"
    DISABLED = "disabled"  # right password, but support turned online access off


class FinishOutcome(StrEnum):
    SIGNED_IN = "signed_in"
    LOCKED = "locked"  # locked or held while the login went on: no session
    ENDED = "ended"  # the login in progress is void (security stamp changed): no session


@dataclass
class LoginFlow(FlowState):
    """The login in progress (stored in the session under FLOW_KEY). It ends FLOW_SECONDS after
    it started, however busy the customer is."""

    KEY = FLOW_KEY
    EXPIRES = Expiry.SINCE_CREATED

    user_id: int
    flow_id: str
    required: list[str]
    # accounts.User.security_stamp when the password was checked; every later step needs it
    # unchanged (an exact match: it is not a secret, so no constant-time compare is needed).
    stamp: str = ""
    question: str = ""
    passed: list[str] = field(default_factory=list)
    channel: Channel | None = None
    next_url: str = ""
    created: float = 0.0
    # "Use a passkey instead": the challenge of this login's passkey ceremony (used once) and
    # when it was made; then the name of the passkey that passed, for the log-in activity.
    passkey_challenge: str = ""
    passkey_challenge_at: float = 0.0
    passkey_name: str = ""

    @classmethod
    def lifetime_seconds(cls) -> float:
        return FLOW_SECONDS

    @classmethod
    def from_session(cls, data: Any) -> Self:
        flow = super().from_session(data)
        flow.channel = Channel(flow.channel) if flow.channel else None
        return flow

    # --- state ---------------------------------------------------------------------------------
    @property
    def pending(self) -> list[str]:
        return [stage for stage in self.required if stage not in self.passed]

    @property
    def verified(self) -> bool:
        return not self.pending

    def user(self) -> User | None:
        """The user, while this login may go on: still active, with the same security stamp."""
        if not self.stamp:  # a flow stored before stamps were kept: start again
            return None
        return (
            get_user_model()
            .objects.filter(pk=self.user_id, is_active=True, security_stamp=self.stamp)
            .first()
        )

    def counter(self, user: User) -> Counter:
        # Step-up happens only on unregistered devices, so it counts on the username.
        return counter_for(username=user.get_username())


# --- Password ------------------------------------------------------------------------------------
def _find_user(username: str, cookie_device: RegisteredDevice | None) -> User | None:
    # Only customers sign in here; a staff account (no customer) is treated as unknown, so the
    # customer login can neither reach staff accounts nor tell that they exist.
    if cookie_device is not None:
        owner = cookie_device.user
        # The registered device's own customer typing their username (usernames are ASCII, so
        # this is the same match as iexact): the device's lookup already fetched them.
        if (
            owner.customer_id is not None
            and username.isascii()
            and owner.username.lower() == username.lower()
        ):
            return owner
    return (
        get_user_model().objects.filter(username__iexact=username, customer__isnull=False).first()
    )


def _password_counter(
    request: HttpRequest, username: str
) -> tuple[User | None, RegisteredDevice | None, Counter]:
    """The user a password attempt is for (None: unknown), the registered device it comes from
    (a valid cookie of that user) and the counter it counts on."""
    cookie_device = device_from_cookie(request)  # looked up for everyone: same cost
    user = _find_user(username, cookie_device)
    device = (
        cookie_device
        if user is not None and cookie_device is not None and cookie_device.user_id == user.pk
        else None
    )
    counter = counter_for(username=user.get_username() if user else username, device=device)
    return user, device, counter


def password_lock_notice(*, request: HttpRequest, username: str) -> LockNotice:
    """What the Log In page says about the lock that refused a password for `username`: the
    lock of the same counter password_submit counted on (an unknown username's too)."""
    return lock_notice(_password_counter(request, username.strip())[2])


def password_submit(
    *, request: HttpRequest, username: str, password: str, next_url: str = ""
) -> PasswordOutcome:
    """Checks the username and password.

    Unknown usernames take the same path as known ones (a lock row, a dummy hash of the same
    cost, the same outcome), so status, message, lock behaviour and timing do not tell them
    apart. During a lock nothing is hashed. A request carrying a valid registered-device cookie
    of this user counts on that device and is not stopped by the username's lock.
    """
    username = username.strip()
    LoginFlow.clear(request)
    user, device, counter = _password_counter(request, username)
    if not attempt_reserve(counter):
        return PasswordOutcome.LOCKED
    if user is None:
        # As Django's ModelBackend does (ticket #20760): spend one hash so the answer takes
        # as long as for a real username.
        make_password(password)
        right = False
    else:
        right = user.check_password(password)
    if not right or user is None:
        locked = attempt_failed(
            counter,
            user=user,
            request=request,
            event=SecurityEvent.Kind.LOGIN_FAILED,
            detail="Registered device" if device is not None else "",
        )
        return PasswordOutcome.LOCKED if locked else PasswordOutcome.WRONG
    if not user.is_active:
        if not attempt_succeeded(counter):
            return PasswordOutcome.LOCKED
        record_event(
            SecurityEvent.Kind.LOGIN_FAILED,
            user=user,
            request=request,
            detail="Online access is turned off",
        )
        return PasswordOutcome.DISABLED
    if device is not None:
        # login_finish gives the slot back with the reset of the count, in the same statement.
        # One request from the password to the session: no login in progress to compare a
        # stamp for (a reset committed during the password check leaves this session's auth
        # hash stale, so it ends at its next request).
        finished = login_finish(request=request, user=user, counter=counter, device=device)
        if finished is not FinishOutcome.SIGNED_IN:
            return PasswordOutcome.LOCKED
        return PasswordOutcome.SIGNED_IN
    if not attempt_succeeded(counter):
        return PasswordOutcome.LOCKED
    _start_step_up(request=request, user=user, next_url=next_url)
    return PasswordOutcome.STEP_UP


def _start_step_up(*, request: HttpRequest, user: User, next_url: str) -> LoginFlow:
    question = _pick_question(user)
    policy = portal.step_up_policy
    required: list[str]
    if policy == StepUpPolicy.CODE or not question:
        required = [Stage.CODE]
    elif policy == StepUpPolicy.QUESTION:
        required = [Stage.QUESTION]
    else:
        required = [Stage.QUESTION, Stage.CODE]
    flow = LoginFlow(
        user_id=user.pk,
        flow_id=secrets.token_urlsafe(24),
        stamp=user.security_stamp,
        required=[str(stage) for stage in required],
        question=question if Stage.QUESTION in required else "",
        channel=Channel.APP if two_step.totp_device_for(user) else None,
        next_url=next_url,
    )
    # A new session key for the login in progress: a session planted before the password was
    # typed cannot ride along.
    request.session.cycle_key()
    flow.save(request)
    record_event(
        SecurityEvent.Kind.STEP_UP_SHOWN,
        user=user,
        request=request,
        detail="Unrecognized device: " + " and ".join(flow.required),
    )
    return flow


def _pick_question(user: User) -> str:
    """One of the user's challenge questions, chosen at random and kept for a while."""
    if user.must_reset_challenge_questions:
        return ""  # support reset them: they prove nothing until the customer sets new ones
    keys = list(ChallengeAnswer.objects.filter(user=user).values_list("question", flat=True))
    if not keys:
        return ""
    pin = f"signin:login-question:{user.pk}"
    try:
        pinned = cache.get(pin)
    except Exception:  # the cache is down: a fresh random question is still a question
        pinned = None
    if pinned in keys:
        return str(pinned)
    chosen = secrets.choice(keys)
    try:
        cache.set(pin, chosen, QUESTION_PIN_SECONDS)
    except Exception:
        logger.warning("could not pin the challenge question (cache unavailable)")
    return chosen


def _unpin_question(user: User) -> None:
    try:
        cache.delete(f"signin:login-question:{user.pk}")
    except Exception:
        logger.warning("could not unpin the challenge question (cache unavailable)")


# --- Step-up -------------------------------------------------------------------------------------
def step_up_send_code(
    *, request: HttpRequest, flow: LoginFlow, user: User, channel: Channel
) -> SecurityCode | None:
    """Sends a code by email or text message (or, for the app, just notes the choice).

    Raises CodeCooldown or CodeDeliveryError from security.codes.
    """
    if channel not in available_channels(user):
        raise CodeDeliveryError("channel not available")
    flow.channel = channel
    flow.save(request)
    if not channel.sends_code:
        return None
    return code_send(
        user=user, purpose=PURPOSE, flow_id=flow.flow_id, channel=channel, request=request
    )


def available_channels(user: User) -> list[Channel]:
    channels = channels_on_file(user)
    if two_step.totp_device_for(user) is not None:
        channels.append(Channel.APP)
    return channels


@dataclass
class StepUpResult:
    locked: bool = False
    lock: LockNotice = field(default_factory=LockNotice)  # when locked: what to tell
    wrong: list[str] = field(default_factory=list)  # stages answered wrongly
    code_wait: int = 0  # the app's code was not checked: django-otp's throttle, seconds left
    verified: bool = False


def _typed_code(code: str) -> str:
    return "".join(code.split()).replace("-", "")


def _app_code_wait(*, user: User, flow: LoginFlow, code: str) -> int:
    """Seconds django-otp still refuses every code of the customer's app (0: none), when `code`
    would be checked as the app's. Such a code is not checked, so it is not a wrong code: it
    neither counts toward the lock nor is called wrong."""
    if flow.channel != Channel.APP or len(_typed_code(code)) > 6:
        return 0
    return two_step.totp_wait_seconds(user=user)


def _check_code(*, user: User, flow: LoginFlow, code: str) -> bool:
    typed = _typed_code(code)
    if len(typed) > 6:  # 28 characters: a backup code
        return two_step.backup_code_use(user=user, code=typed)
    if flow.channel == Channel.APP:
        return two_step.totp_verify(user=user, code=typed)
    return code_check(user=user, purpose=PURPOSE, flow_id=flow.flow_id, code=typed)


def step_up_submit(
    *,
    request: HttpRequest,
    flow: LoginFlow,
    user: User,
    answer: str = "",
    code: str = "",
) -> StepUpResult:
    """Checks what the customer entered for the pending stages, each in its own attempt slot.

    A wrong answer or code counts toward the lock like a wrong password. Under the "question"
    policy a wrong answer adds a security code to what is required.
    """
    counter = flow.counter(user)
    result = StepUpResult()
    checks: list[tuple[str, str]] = []
    if Stage.QUESTION in flow.pending and answer:
        checks.append((Stage.QUESTION, answer))
    if Stage.CODE in flow.pending and code:
        result.code_wait = _app_code_wait(user=user, flow=flow, code=code)
        if not result.code_wait:
            checks.append((Stage.CODE, code))
    for stage, value in checks:
        if not attempt_reserve(counter):
            result.locked = True
            break
        if stage == Stage.QUESTION:
            row = ChallengeAnswer.objects.filter(user=user, question=flow.question).first()
            right = row is not None and answer_matches(value, row.answer_hash)
        else:
            right = _check_code(user=user, flow=flow, code=value)
        if right:
            if not attempt_succeeded(counter):
                result.locked = True
                break
            flow.passed.append(stage)
            if stage == Stage.QUESTION:
                _unpin_question(user)
            continue
        result.wrong.append(stage)
        if stage == Stage.QUESTION and Stage.CODE not in flow.required:
            flow.required.append(Stage.CODE)  # the "question" policy escalates to a code
        if attempt_failed(
            counter,
            user=user,
            request=request,
            event=SecurityEvent.Kind.STEP_UP_FAILED,
            detail="Wrong challenge answer" if stage == Stage.QUESTION else "Wrong security code",
        ):
            result.locked = True
            break
    if result.locked:
        LoginFlow.clear(request)
        result.lock = lock_notice(counter)
        return result
    flow.save(request)
    if flow.verified:
        record_event(SecurityEvent.Kind.STEP_UP_PASSED, user=user, request=request)
        result.verified = True
    return result


def _passkey_refused(
    counter: Counter,
    *,
    user: User,
    request: HttpRequest,
    name: str,
    regressed: bool,
    otherwise: SecurityEvent.Kind,
) -> bool:
    """A refused passkey as a failed attempt (True if that locked the account). A signature
    counter gone backwards, the sign of a cloned authenticator, is recorded as such; `name` is
    "" for a passkey that is not this customer's, which their activity must not name."""
    if regressed:
        event, detail = (
            SecurityEvent.Kind.PASSKEY_REFUSED,
            f"{name}: its signature counter went backwards",
        )
    else:
        event = otherwise
        detail = f"Passkey not accepted: {name}" if name else "Passkey not accepted"
    return attempt_failed(counter, user=user, request=request, event=event, detail=detail[:200])


# --- Step-up with a passkey -----------------------------------------------------------------------
def step_up_passkey_offered(user: User) -> bool:
    """Whether the step-up page offers "Use a passkey instead": the policy allows it and the
    customer has added a passkey."""
    return portal.step_up_passkey and Passkey.objects.filter(user=user).exists()


def step_up_passkey_options(*, request: HttpRequest, flow: LoginFlow, user: User) -> str | None:
    """The options for navigator.credentials.get() listing only this customer's passkeys (JSON),
    or None when a passkey is not offered. The challenge is kept in the login in progress,
    replacing any earlier one."""
    if not step_up_passkey_offered(user):
        return None
    options, flow.passkey_challenge = authentication_options_for(user)
    flow.passkey_challenge_at = now()
    flow.save(request)
    return options


def _take_passkey_challenge(request: HttpRequest, flow: LoginFlow) -> str:
    """The flow's passkey challenge, taken out of it whatever happens next ("" when there is
    none or it is older than a passkey ceremony may last)."""
    challenge, made = flow.passkey_challenge, flow.passkey_challenge_at
    flow.passkey_challenge, flow.passkey_challenge_at = "", 0.0
    flow.save(request)
    if not challenge or now() - made > CEREMONY_SECONDS:
        return ""
    return challenge


def step_up_passkey(
    *, request: HttpRequest, flow: LoginFlow, user: User, response: str
) -> StepUpResult:
    """Step-up with a passkey: the browser's signed answer to step_up_passkey_options.

    A verified passkey of this customer, with user verification, passes every pending stage at
    once; Register this device? and login_finish follow as after the question and code. Any
    other answer (no live challenge, an unknown passkey, another customer's, a bad signature, a
    counter gone backwards) is a failed step-up attempt: it counts toward the lock in the same
    attempt slots as a wrong answer or code.
    """
    counter = flow.counter(user)
    result = StepUpResult()
    challenge = _take_passkey_challenge(request, flow)
    if not portal.step_up_passkey:
        return result  # the policy changed since the page was shown: nothing to check
    if not attempt_reserve(counter):
        result.locked = True
    else:
        passkey = assertion_passkey(response)
        own = passkey is not None and passkey.user_id == user.pk
        checked = (
            assertion_verify(challenge=challenge, passkey=passkey, response=response)
            if challenge and own and passkey is not None
            else None
        )
        if checked is not None and checked.outcome is AssertionOutcome.VERIFIED and checked.passkey:
            if not attempt_succeeded(counter):
                result.locked = True
            else:
                flow.passed = list(flow.required)
                flow.passkey_name = checked.passkey.name
                flow.save(request)
                record_event(
                    SecurityEvent.Kind.STEP_UP_PASSED,
                    user=user,
                    request=request,
                    detail=f"Passkey: {checked.passkey.name}"[:200],
                )
                result.verified = True
                return result
        else:
            regressed = (
                checked is not None and checked.outcome is AssertionOutcome.COUNTER_REGRESSED
            )
            result.wrong.append("passkey")
            # Another customer's passkey is not named in this customer's activity.
            named = passkey.name if own and passkey is not None else ""
            result.locked = _passkey_refused(
                counter,
                user=user,
                request=request,
                name=named,
                regressed=regressed,
                otherwise=SecurityEvent.Kind.STEP_UP_FAILED,
            )
    if result.locked:
        LoginFlow.clear(request)
        result.lock = lock_notice(counter)
    return result


# --- Passkey ---------------------------------------------------------------------------------------
@dataclass
class PasskeyLogin:
    outcome: PasswordOutcome  # SIGNED_IN, WRONG (not accepted), LOCKED or DISABLED
    lock: LockNotice | None = None  # when LOCKED: what to tell


def passkey_login(*, request: HttpRequest, response: str) -> PasskeyLogin:
    """Logs in with a passkey: the browser's signed answer to the Log In page's challenge.

    A verified passkey (with user verification: something the customer has and knows or is)
    replaces the password and step-up, nothing else: the username's lock and holds, and online
    access being turned off, refuse it exactly as they refuse a password, in the same attempt
    slots, and the session is created by login_finish. An answer that does not verify, or whose
    signature counter went backwards (a copied authenticator?), counts as a failed attempt.
    """
    LoginFlow.clear(request)
    challenge = assertion_challenge(request)  # taken out of the session whatever happens next
    passkey = assertion_passkey(response)
    if passkey is None or challenge is None or passkey.user.customer_id is None:
        return PasskeyLogin(PasswordOutcome.WRONG)
    user = passkey.user
    counter = counter_for(username=user.get_username())
    if not attempt_reserve(counter):
        return PasskeyLogin(PasswordOutcome.LOCKED, lock_notice(counter))
    checked = assertion_verify(challenge=challenge, passkey=passkey, response=response)
    if checked.outcome is not AssertionOutcome.VERIFIED or checked.passkey is None:
        regressed = checked.outcome is AssertionOutcome.COUNTER_REGRESSED
        locked = _passkey_refused(
            counter,
            user=user,
            request=request,
            name=passkey.name,
            regressed=regressed,
            otherwise=SecurityEvent.Kind.LOGIN_FAILED,
        )
        if locked:
            return PasskeyLogin(PasswordOutcome.LOCKED, lock_notice(counter))
        return PasskeyLogin(PasswordOutcome.WRONG)
    if not user.is_active:
        if not attempt_succeeded(counter):
            return PasskeyLogin(PasswordOutcome.LOCKED, lock_notice(counter))
        record_event(
            SecurityEvent.Kind.LOGIN_FAILED,
            user=user,
            request=request,
            detail="Online access is turned off",
        )
        return PasskeyLogin(PasswordOutcome.DISABLED)
    # The stamp read with the passkey: a reset or "This wasn't me" committed since then ends
    # this login (login_finish compares it on the locked row).
    finished = login_finish(
        request=request,
        user=user,
        counter=counter,
        stamp=user.security_stamp,
        passkey_name=checked.passkey.name,
        password=False,
    )
    if finished is FinishOutcome.ENDED:
        return PasskeyLogin(PasswordOutcome.WRONG)
    if finished is FinishOutcome.LOCKED:
        return PasskeyLogin(PasswordOutcome.LOCKED, lock_notice(counter))
    return PasskeyLogin(PasswordOutcome.SIGNED_IN)


# --- The end of the login ------------------------------------------------------------------------
def login_finish(
    *,
    request: HttpRequest,
    user: User,
    counter: Counter,
    stamp: str | None = None,
    device: RegisteredDevice | None = None,
    register_response: HttpResponse | None = None,
    passkey_name: str = "",
    password: bool = True,
) -> FinishOutcome:
    """Creates the authenticated session (new session key), unless the account got locked
    meanwhile (LOCKED) or its security stamp is no longer `stamp` (ENDED): nothing is created
    then.

    `stamp`: for a login in progress (LoginFlow), the user's security stamp when the password was
    checked. It is compared with the user's row, locked for the rest of the transaction, so a
    password reset or "This wasn't me" committed since the flow was loaded ends the login
    instead of opening a session or registering a device. None for a login that went from the
    password to here in one request (a registered device), which costs no extra statement.
    `device`: the registered device the login came from; `counter` is then that device's
    counter, and the device's last use is noted with the reset of its count. With
    `register_response`, registers this browser afterwards and sets its cookie there.
    `passkey_name`: a passkey took part (instead of the password, or of the step-up): the event
    names it. `password`: False when no password was typed (a passkey instead): the session then
    does not count as a password just typed (changing security settings asks for it).
    """
    LoginFlow.clear(request)
    # One write transaction for the whole end of the login: the check of the stamp, the reset of
    # the count (with the device's last use), the session (Django's login also notes last_login)
    # and the event.
    with transaction.atomic():
        if stamp is not None and not _stamp_unchanged(user, stamp):
            return FinishOutcome.ENDED
        device_changes = (
            {"last_used_at": timezone.now(), "ip": getattr(request, "client_ip", None)}
            if device is not None
            else {}
        )
        if not attempts_reset(counter, **device_changes):
            return FinishOutcome.LOCKED
        auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if password:
            mark_password_verified(request)
        record_event(
            SecurityEvent.Kind.LOGIN_SUCCEEDED,
            user=user,
            request=request,
            detail=passkey_name or ("Registered device" if device else ""),
        )
    if register_response is not None:
        device_register(user=user, request=request, response=register_response)
    return FinishOutcome.SIGNED_IN


def _stamp_unchanged(user: User, stamp: str) -> bool:
    """The user is still active with security stamp `stamp` (exactly); their row stays locked
    until the caller's transaction ends, so a rotation waits for the login to finish."""
    current = (
        get_user_model()
        .objects.select_for_update()
        .filter(pk=user.pk, is_active=True)
        .values_list("security_stamp", flat=True)
        .first()
    )
    return bool(stamp) and current == stamp


def flow_user(request: HttpRequest) -> tuple[LoginFlow, User] | None:
    """The login in progress and its user, or None (and the flow ended) when the user is no
    longer active or their security stamp has changed since the password step."""
    flow = LoginFlow.load(request)
    if flow is None:
        return None
    user = flow.user()
    if user is None:
        LoginFlow.clear(request)
        return None
    return flow, user


def summary(flow: LoginFlow) -> dict[str, Any]:
    return {
        "question": question_text(flow.question) if Stage.QUESTION in flow.pending else "",
        "needs_answer": Stage.QUESTION in flow.pending,
        "needs_code": Stage.CODE in flow.pending,
    }
