"""The enrollment wizard as an explicit state machine kept server-side in the session.

The state lives under one session key and holds only what later steps need: after step 1 the
customer's pk and the pk of the loan account used to verify, never the TIN digits or the birth
date. It expires after `portal.enrollment_idle_seconds` without a request, and each step is
reachable only when the steps before it are done.

Step 4 creates the online account in one transaction (`enrollment_complete`) and emails the
confirmation (`enrollment_confirmation_send`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string

from accounts.models import Customer, ElectronicConsent, LoanAccount, User
from portal.conf import portal
from security.challenge import check_full_set, hash_answer
from security.events import record_event
from security.flow_state import Expiry, FlowState
from security.identity_check import IdentityOutcome as CheckOutcome
from security.identity_check import identity_check
from security.models import ChallengeAnswer, SecurityEvent

logger = logging.getLogger(__name__)

SESSION_KEY = "enrollment:wizard"
COMPLETED_KEY = "enrollment:completed"
IP_LIMIT_GROUP = "enrollment:verify"


class Step(StrEnum):
    IDENTITY = "start"
    VEHICLES = "vehicles"
    PROFILE = "profile"
    CONSENT = "consent"


STEP_TITLES = {
    Step.IDENTITY: "Enter your account information",
    Step.VEHICLES: "Add your vehicle(s)",
    Step.PROFILE: "Create your username and password, and set up your profile",
    Step.CONSENT: "Authorize electronic communications",
}
STEP_SHORT_TITLES = {
    Step.IDENTITY: "Your account information",
    Step.VEHICLES: "Your vehicles",
    Step.PROFILE: "Username, password and profile",
    Step.CONSENT: "Electronic communications",
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
    account_ids: list[int] | None = None
    profile: dict[str, Any] | None = None  # EnrollmentProfile.to_dict(): hashes only
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
        return Step.CONSENT

    def allows(self, step: Step) -> bool:
        return STEP_ORDER.index(step) <= STEP_ORDER.index(self.next_step())

    def customer(self) -> Customer:
        return Customer.objects.get(pk=self.customer_id)

    def verified_account(self) -> LoanAccount:
        return LoanAccount.objects.select_related("vehicle").get(
            pk=self.verified_account_id, customer_id=self.customer_id
        )


def enrollment_just_completed(request: HttpRequest) -> bool:
    return bool(request.session.get(COMPLETED_KEY))


# --- Step 1 ---------------------------------------------------------------------------------------
class IdentityOutcome(StrEnum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    LIMITED = "limited"
    ALREADY_ENROLLED = "already_enrolled"


def identity_submit(
    request: HttpRequest, *, tin_last4: str, birth_date: date, reference: str
) -> IdentityOutcome:
    """Step 1: checks the identity (security.identity_check, with its limits) and, when it matches a customer not yet online, starts a fresh wizard."""
    Wizard.clear(request)
    request.session.pop(COMPLETED_KEY, None)
    check = identity_check(
        tin_last4=tin_last4,
        birth_date=birth_date,
        reference=reference,
        request=request,
        ip_group=IP_LIMIT_GROUP,
    )
    if check.outcome == CheckOutcome.LIMITED:
        return IdentityOutcome.LIMITED
    if not check.verified or check.customer is None or check.loan_account is None:
        return IdentityOutcome.MISMATCH
    if User.objects.filter(customer=check.customer).exists():
        return IdentityOutcome.ALREADY_ENROLLED
    # A new session key from here on: whoever knew the old one (fixation) cannot ride along.
    request.session.cycle_key()
    Wizard(customer_id=check.customer.pk, verified_account_id=check.loan_account.pk).save(request)
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
    email: str,
    mobile_phone: str,
    answers: list[tuple[str, str]],
) -> None:
    """Keeps step 3's choices with the password and answers slow-hashed right away, so the
    clear values never reach the session and no hash runs inside step 4's transaction."""
    profile = EnrollmentProfile(
        username=username,
        password_hash=make_password(password),
        email=email,
        mobile_phone=mobile_phone,
        answers=tuple((question, hash_answer(answer)) for question, answer in answers),
    )
    wizard.profile = profile.to_dict()
    wizard.save(request)


# --- Creating the online account ------------------------------------------------------------------
@dataclass(frozen=True)
class EnrollmentProfile:
    """What step 3 collected, with the password and answers already slow-hashed.

    Hashing happens when step 3 is submitted, outside any write transaction (SQLite serialises
    writers, and a 30 ms Argon2 hash must not hold the lock); the clear values are never kept.
    """

    username: str
    password_hash: str
    email: str
    mobile_phone: str
    answers: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # (question, answer_hash)

    def to_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "password_hash": self.password_hash,
            "email": self.email,
            "mobile_phone": self.mobile_phone,
            "answers": [list(pair) for pair in self.answers],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EnrollmentProfile:
        return cls(
            username=str(data["username"]),
            password_hash=str(data["password_hash"]),
            email=str(data["email"]),
            mobile_phone=str(data["mobile_phone"]),
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

    The user, its links to the chosen loan accounts (only the customer's own; the verifying
    account always included), its challenge answers, the E-SIGN consent and the ENROLLED event
    are written together. At most one online account per customer and one per username (in any
    case) exist even when two enrollments finish at the same moment: the loser gets
    EnrollmentConflict and leaves no rows behind.
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
                email=profile.email,
                first_name=customer.first_name,
                last_name=customer.last_name,
                mobile_phone=profile.mobile_phone,
                customer=customer,
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


def enrollment_confirmation_send(*, user: User, request: HttpRequest | None = None) -> bool:
    """Emails the new customer that their online account exists. Never raises: the account is
    already saved, so a mail failure is logged (without personal data) and reported as False."""
    context = {
        "first_name": user.first_name,
        "lender_name": portal.lender_name,
        "support_phone": portal.support_phone,
        "support_hours": portal.support_hours,
        "vehicle_count": user.loan_accounts.count(),
    }
    subject = " ".join(render_to_string("enrollment/email/enrolled_subject.txt", context).split())
    body = render_to_string("enrollment/email/enrolled_body.txt", context)
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:
        logger.exception("enrollment confirmation email could not be sent (user id %s)", user.pk)
        return False
    return True


# --- Step 4 ---------------------------------------------------------------------------------------
class FinishOutcome(StrEnum):
    ENROLLED = "enrolled"
    ENROLLED_EMAIL_FAILED = "enrolled_email_failed"
    ALREADY_ENROLLED = "already_enrolled"
    USERNAME_TAKEN = "username_taken"


def finish(request: HttpRequest, wizard: Wizard) -> FinishOutcome:
    """Step 4: creates the online account, ends the wizard and sends the confirmation email."""
    if wizard.profile is None or wizard.account_ids is None:
        raise ValueError("finish() needs every earlier step done")
    profile = EnrollmentProfile.from_dict(wizard.profile)
    try:
        user = enrollment_complete(
            customer_id=wizard.customer_id,
            verified_account_id=wizard.verified_account_id,
            account_ids=wizard.account_ids,
            profile=profile,
            request=request,
        )
    except EnrollmentConflict as conflict:
        if conflict.reason is ConflictReason.USERNAME_TAKEN:
            # Back to step 3 for another username; the typed secrets were never kept.
            wizard.profile = None
            wizard.save(request)
            return FinishOutcome.USERNAME_TAKEN
        Wizard.clear(request)
        return FinishOutcome.ALREADY_ENROLLED
    Wizard.clear(request)
    request.session[COMPLETED_KEY] = True
    if not enrollment_confirmation_send(user=user, request=request):
        return FinishOutcome.ENROLLED_EMAIL_FAILED
    return FinishOutcome.ENROLLED
