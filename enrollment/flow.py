"""The enrollment wizard as an explicit state machine kept server-side in the session.

The state lives under one session key and holds only what later steps need: after step 1 the
customer's pk, the pk of the loan account used to verify and a random flow id that binds the
confirmation codes to this enrollment, never the TIN digits or the birth date. It expires after
`portal.enrollment_idle_seconds` without a request, and each step is reachable only when the
steps before it are done.

The online account gets the email address and mobile number on the servicing record, never ones
typed during enrollment: knowing a customer's identity details must not be enough to take over
their access. Step 5 proves the enrollee can read that contact: a code goes to the email or the
mobile on record, and entering it creates the online account in one transaction
(`enrollment_complete`), signs the customer in and emails the contact on record that online
access was set up. A customer with no email and no mobile on record cannot enroll online.

While the loan's identity checks are paused (too many failures, perhaps someone else's), step 1
is answered by a code to the contact on record instead (security.identity_check): the customer
who enters it has proven that contact already, so step 5 does not send a second code.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language, gettext_lazy

from accounts.models import Customer, ElectronicConsent, LoanAccount, User
from portal.conf import portal
from security.challenge import check_full_set, hash_answer
from security.codes import (
    Channel,
    CodeDeliveryError,
    channels_on_file,
    code_check,
    code_cooldown_left,
    code_live,
    code_send,
)
from security.devices import device_register
from security.events import record_event
from security.flow_state import Expiry, FlowState
from security.identity_check import IdentityCheck, identity_check, identity_code_check
from security.identity_check import IdentityOutcome as CheckOutcome
from security.identity_check import identity_code_pending as identity_code_pending_for
from security.models import ChallengeAnswer, SecurityCode, SecurityEvent
from security.notifications import notify
from security.sessions import mark_password_verified

logger = logging.getLogger(__name__)

SESSION_KEY = "enrollment:wizard"
# Set when enrollment has just signed the customer in: Register this device? is offered once.
DEVICE_OFFER_KEY = "enrollment:device_offer"
PURPOSE = SecurityCode.Purpose.ENROLLMENT
# Per client IP, each counted on its own against portal.verify_ip_rate.
IP_LIMIT_GROUP = "enrollment:verify"  # identity checks (step 1)
IDENTITY_CODE_LIMIT_GROUP = "enrollment:identity-code"  # codes entered at step 1 (loan paused)
USERNAME_LIMIT_GROUP = "enrollment:username"  # "is this username taken?" checks (step 3)
SEND_LIMIT_GROUP = "enrollment:send"  # confirmation codes sent (step 5)
CODE_LIMIT_GROUP = "enrollment:code"  # confirmation codes entered (step 5)


class Step(StrEnum):
    IDENTITY = "start"
    VEHICLES = "vehicles"
    PROFILE = "profile"
    CONSENT = "consent"
    CONFIRM = "confirm"


STEP_TITLES = {
    Step.IDENTITY: gettext_lazy("Enter your account information"),
    Step.VEHICLES: gettext_lazy("Add your vehicle(s)"),
    Step.PROFILE: gettext_lazy("Create your username and password, and set up your profile"),
    Step.CONSENT: gettext_lazy("Authorize electronic communications"),
    Step.CONFIRM: gettext_lazy("Confirm it’s you"),  # noqa: RUF001
}
STEP_SHORT_TITLES = {
    Step.IDENTITY: gettext_lazy("Your account information"),
    Step.VEHICLES: gettext_lazy("Your vehicles"),
    Step.PROFILE: gettext_lazy("Username, password and profile"),
    Step.CONSENT: gettext_lazy("Electronic communications"),
    Step.CONFIRM: gettext_lazy("Confirm it’s you"),  # noqa: RUF001
}
STEP_ORDER = list(Step)


@dataclass
class Wizard(FlowState):
    """The enrollment in progress (stored in the session under SESSION_KEY). It ends after
    portal.enrollment_idle_seconds without a request to a step."""

    KEY = SESSION_KEY
    EXPIRES = Expiry.SINCE_LAST_ACTIVITY

    customer_id: int
    verified_account_id: int
    flow_id: str  # random; binds the confirmation codes to this enrollment
    account_ids: list[int] | None = None
    profile: dict[str, Any] | None = None  # EnrollmentProfile.to_dict(): hashes only
    consented: bool = False  # step 4: the E-SIGN disclosure was agreed to
    channel: str = ""  # step 5: where the newest code went ("" until one was sent)
    contact_proven: bool = False  # step 1 was passed with a code to the contact on record
    last_activity: float = 0.0

    @classmethod
    def lifetime_seconds(cls) -> float:
        return portal.enrollment_idle_seconds

    def next_step(self) -> Step:
        """The first step not yet done (the one the customer may be on at most)."""
        if self.account_ids is None:
            return Step.VEHICLES
        if self.profile is None:
            return Step.PROFILE
        if not self.consented:
            return Step.CONSENT
        return Step.CONFIRM

    def allows(self, step: Step) -> bool:
        return STEP_ORDER.index(step) <= STEP_ORDER.index(self.next_step())

    def customer(self) -> Customer:
        return Customer.objects.get(pk=self.customer_id)

    def verified_account(self) -> LoanAccount:
        return LoanAccount.objects.select_related("vehicle").get(
            pk=self.verified_account_id, customer_id=self.customer_id
        )


# --- Step 1 ---------------------------------------------------------------------------------------
class IdentityOutcome(StrEnum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    LIMITED = "limited"
    ALREADY_ENROLLED = "already_enrolled"
    NO_CONTACT = "no_contact"  # no email and no mobile on record: nowhere to send the code
    # The loan is paused: the page asks for the code that went to the contact on record, if the
    # details were right (and says nothing else, whatever they were).
    CONFIRM_BY_CODE = "confirm_by_code"


def identity_submit(
    request: HttpRequest, *, tin_last4: str, birth_date: date, reference: str
) -> IdentityOutcome:
    """Step 1: checks the identity (security.identity_check, with its limits) and, when it
    matches a customer not yet online who can be reached at a contact on record, starts a fresh
    wizard. CONFIRM_BY_CODE: the loan is paused; `identity_code_submit` takes the code."""
    Wizard.clear(request)
    check = identity_check(
        tin_last4=tin_last4,
        birth_date=birth_date,
        reference=reference,
        request=request,
        ip_group=IP_LIMIT_GROUP,
        confirm_purpose=PURPOSE,
    )
    if check.outcome == CheckOutcome.CONFIRM_BY_CODE:
        return IdentityOutcome.CONFIRM_BY_CODE
    return _wizard_start(request, check, contact_proven=False)


def identity_code_submit(request: HttpRequest, *, code: str) -> IdentityOutcome:
    """Step 1 while the loan is paused: the code sent to the contact on record. A right code
    continues exactly as right details would have, with the contact already proven; MISMATCH
    for a wrong code (see security.identity_check.identity_code_pending for whether another
    may be tried)."""
    check = identity_code_check(
        request, purpose=PURPOSE, code=code, ip_group=IDENTITY_CODE_LIMIT_GROUP
    )
    return _wizard_start(request, check, contact_proven=True)


def identity_code_pending(request: HttpRequest) -> bool:
    """True while step 1's code (loan paused) can still be entered in this session."""
    return identity_code_pending_for(request, purpose=PURPOSE)


def _wizard_start(
    request: HttpRequest, check: IdentityCheck, *, contact_proven: bool
) -> IdentityOutcome:
    if check.outcome == CheckOutcome.LIMITED:
        return IdentityOutcome.LIMITED
    if not check.verified or check.customer is None or check.loan_account is None:
        return IdentityOutcome.MISMATCH
    if User.objects.filter(customer=check.customer).exists():
        return IdentityOutcome.ALREADY_ENROLLED
    if not channels_on_file(check.customer):
        # Step 5 could send the code nowhere; support adds a contact to the record first.
        return IdentityOutcome.NO_CONTACT
    # A new session key from here on: whoever knew the old one (fixation) cannot ride along.
    request.session.cycle_key()
    Wizard(
        customer_id=check.customer.pk,
        verified_account_id=check.loan_account.pk,
        flow_id=secrets.token_urlsafe(24),
        contact_proven=contact_proven,
    ).save(request)
    return IdentityOutcome.VERIFIED


# --- Steps 2 and 3 --------------------------------------------------------------------------------
def vehicles_submit(request: HttpRequest, wizard: Wizard, *, account_ids: list[int]) -> None:
    wizard.account_ids = sorted({*account_ids, wizard.verified_account_id})
    wizard.save(request)


def profile_submit(
    request: HttpRequest,
    wizard: Wizard,
    *,
    username: str,
    password: str,
    answers: list[tuple[str, str]],
) -> None:
    """Keeps step 3's choices with the password and answers slow-hashed right away, so the
    clear values never reach the session and no hash runs inside step 5's transaction."""
    profile = EnrollmentProfile(
        username=username,
        password_hash=make_password(password),
        answers=tuple((question, hash_answer(answer)) for question, answer in answers),
    )
    wizard.profile = profile.to_dict()
    wizard.save(request)


# --- Creating the online account ------------------------------------------------------------------
@dataclass(frozen=True)
class EnrollmentProfile:
    """What step 3 collected, with the password and answers already slow-hashed. No contact
    details: the online account gets the ones on the servicing record.

    Hashing happens when step 3 is submitted, outside any write transaction (SQLite serialises
    writers, and a 30 ms Argon2 hash must not hold the lock); the clear values are never kept.
    """

    username: str
    password_hash: str
    answers: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (question, answer_hash)

    def to_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "password_hash": self.password_hash,
            "answers": [list(pair) for pair in self.answers],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EnrollmentProfile:
        return cls(
            username=str(data["username"]),
            password_hash=str(data["password_hash"]),
            answers=tuple((str(q), str(h)) for q, h in data["answers"]),
        )


class ConflictReason(StrEnum):
    CUSTOMER_ENROLLED = "customer_enrolled"  # the customer has an online account already
    USERNAME_TAKEN = "username_taken"


class EnrollmentConflict(Exception):
    """The enrollment cannot finish; nothing was saved. `reason` says why."""

    def __init__(self, reason: ConflictReason) -> None:
        super().__init__(reason)
        self.reason = reason


def enrollment_complete(
    *,
    customer_id: int,
    verified_account_id: int,
    account_ids: list[int],
    profile: EnrollmentProfile,
    request: HttpRequest | None = None,
) -> User:
    """Creates the customer's online account in one transaction, or nothing at all.

    The user (with the email address and mobile number on the customer's record), its links to
    the chosen loan accounts (only the customer's own; the verifying account always included),
    its challenge answers, the E-SIGN consent and the ENROLLED event are written together. At
    most one online account per customer and one per username (in any case) exist even when two
    enrollments finish at the same moment: the loser gets EnrollmentConflict and leaves no rows
    behind.
    """
    # The answers are already hashed; the form checked them (security.challenge's set rules).
    check_full_set([question for question, _ in profile.answers])
    agent = request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""
    ip = getattr(request, "client_ip", None)
    try:
        with transaction.atomic():
            # Locking the customer row makes a second enrollment of the same customer wait here
            # and then see the first one's account (PostgreSQL); SQLite's IMMEDIATE transactions
            # already run one at a time. The unique constraints below are the last word anyway.
            customer = Customer.objects.select_for_update().get(pk=customer_id)
            if User.objects.filter(customer=customer).exists():
                raise EnrollmentConflict(ConflictReason.CUSTOMER_ENROLLED)
            accounts = list(
                LoanAccount.objects.filter(
                    customer=customer, pk__in={*account_ids, verified_account_id}
                )
            )
            if verified_account_id not in {account.pk for account in accounts}:
                raise ValueError("the verifying account does not belong to this customer")
            user = User(
                username=profile.username,
                password=profile.password_hash,
                email=customer.email,
                first_name=customer.first_name,
                last_name=customer.last_name,
                mobile_phone=customer.mobile_phone,
                customer=customer,
                # The language the customer enrolled in: once signed in, the record decides the
                # pages' language (portal.languages), and it decides their emails and texts.
                language=get_language() or settings.LANGUAGE_CODE,
            )
            user.save()
            user.loan_accounts.set(accounts)
            ChallengeAnswer.objects.bulk_create(
                ChallengeAnswer(user=user, question=question, answer_hash=answer_hash)
                for question, answer_hash in profile.answers
            )
            ElectronicConsent.objects.create(
                user=user, disclosure_version=portal.esign_version, ip=ip, user_agent=agent
            )
            record_event(
                SecurityEvent.Kind.ENROLLED,
                user=user,
                request=request,
                detail=f"{len(accounts)} vehicle(s) linked",
            )
    except IntegrityError:
        # Another enrollment committed first; the transaction above was rolled back whole.
        if User.objects.filter(customer_id=customer_id).exists():
            raise EnrollmentConflict(ConflictReason.CUSTOMER_ENROLLED) from None
        if User.objects.filter(username__iexact=profile.username).exists():
            raise EnrollmentConflict(ConflictReason.USERNAME_TAKEN) from None
        raise
    return user


# --- Step 4 ---------------------------------------------------------------------------------------
def consent_submit(request: HttpRequest, wizard: Wizard) -> None:
    """Step 4: the customer agreed to the E-SIGN disclosure (recorded when the account exists)."""
    wizard.consented = True
    wizard.save(request)


# --- Step 5 ---------------------------------------------------------------------------------------
def confirmation_channels(wizard: Wizard) -> tuple[Customer, list[Channel]]:
    """The customer and where their code can go: the email and the mobile on their record."""
    customer = wizard.customer()
    return customer, channels_on_file(customer)


def confirmation_send(request: HttpRequest, wizard: Wizard, *, channel: Channel) -> SecurityCode:
    """Sends a code to the contact on the customer's record by `channel`, never to an address
    typed during enrollment. Raises CodeCooldown (a code went out moments ago) or
    CodeDeliveryError (not on record, or could not be handed over) from security.codes."""
    customer, channels = confirmation_channels(wizard)
    if channel not in channels:
        raise CodeDeliveryError("no such contact on record")
    row = code_send(
        customer=customer,
        purpose=PURPOSE,
        flow_id=wizard.flow_id,
        channel=channel,
        request=request,
    )
    wizard.channel = channel.value
    wizard.save(request)
    return row


def confirmation_cooldown(wizard: Wizard, customer: Customer) -> int:
    """Seconds until another code may be sent (for the page's wording)."""
    return code_cooldown_left(customer=customer, purpose=PURPOSE, flow_id=wizard.flow_id)


class ConfirmOutcome(StrEnum):
    ENROLLED = "enrolled"  # the account exists and the customer is signed in
    WRONG_CODE = "wrong_code"
    CODE_VOID = "code_void"  # expired, entered wrong too often, or never sent: send a new one
    ALREADY_ENROLLED = "already_enrolled"
    USERNAME_TAKEN = "username_taken"


def confirm_submit(request: HttpRequest, wizard: Wizard, *, code: str = "") -> ConfirmOutcome:
    """Step 5: the code sent to the contact on record completes the enrollment (no code when
    step 1 was passed with one: `wizard.contact_proven`).

    Claiming the code and creating the account share one transaction: a conflict (the customer
    enrolled meanwhile, the username was taken) leaves the code unused and nothing saved, and two
    submissions of one code create one account. Then the customer is signed in (new session
    key), the contact on record is told that online access was set up, and Register this device?
    is offered once.
    """
    if wizard.profile is None or wizard.account_ids is None or not wizard.consented:
        raise ValueError("confirm_submit() needs every earlier step done")
    profile = EnrollmentProfile.from_dict(wizard.profile)
    customer = wizard.customer()
    try:
        with transaction.atomic():
            right = wizard.contact_proven or code_check(
                customer=customer, purpose=PURPOSE, flow_id=wizard.flow_id, code=code
            )
            user = (
                enrollment_complete(
                    customer_id=wizard.customer_id,
                    verified_account_id=wizard.verified_account_id,
                    account_ids=wizard.account_ids,
                    profile=profile,
                    request=request,
                )
                if right
                else None
            )
    except EnrollmentConflict as conflict:
        if conflict.reason is ConflictReason.USERNAME_TAKEN:
            # Back to step 3 for another username; the typed secrets were never kept, and the
            # code, unused, still works when the customer comes back here.
            wizard.profile = None
            wizard.save(request)
            return ConfirmOutcome.USERNAME_TAKEN
        _wizard_over(request)
        return ConfirmOutcome.ALREADY_ENROLLED
    if user is None:
        if User.objects.filter(customer_id=wizard.customer_id).exists():
            # The same code was entered a moment ago (a second click, another window).
            _wizard_over(request)
            return ConfirmOutcome.ALREADY_ENROLLED
        if code_live(customer=customer, purpose=PURPOSE, flow_id=wizard.flow_id) is None:
            return ConfirmOutcome.CODE_VOID
        return ConfirmOutcome.WRONG_CODE
    Wizard.clear(request)
    _sign_in(request, user)
    request.session[DEVICE_OFFER_KEY] = user.pk
    # After the commit: sending must not hold the write transaction, and never undoes it.
    notify(user=user, kind="access_set_up", request=request)
    return ConfirmOutcome.ENROLLED


def _wizard_over(request: HttpRequest) -> None:
    """Ends the wizard of a customer who is enrolled already. A new session key too: another
    request of this browser may have finished the enrollment, signed in and retired this key,
    and the session could not be saved under it."""
    Wizard.clear(request)
    request.session.cycle_key()


def _sign_in(request: HttpRequest, user: User) -> None:
    """The session of the new online account: identity details and possession of the contact on
    record are what step-up asks of an unrecognised device, and the password was typed at step
    3. auth.login rotates the session key."""
    with transaction.atomic():
        auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        mark_password_verified(request)
        record_event(
            SecurityEvent.Kind.LOGIN_SUCCEEDED,
            user=user,
            request=request,
            detail="Enrollment completed",
        )


# --- Register this device? ------------------------------------------------------------------------
def device_offer_pending(request: HttpRequest) -> bool:
    """True right after enrollment signed this customer in, until they answer the offer."""
    user = request.user
    return bool(user.is_authenticated and request.session.get(DEVICE_OFFER_KEY) == user.pk)


def device_offer_answer(
    request: HttpRequest, *, user: User, register: bool, response: HttpResponse
) -> None:
    """Register this device? answered: registers this browser (cookie set on `response`, the
    customer emailed) or not; either way the offer ends."""
    request.session.pop(DEVICE_OFFER_KEY, None)
    if register:
        device_register(user=user, request=request, response=response)
