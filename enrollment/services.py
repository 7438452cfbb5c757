"""Creating an online account from a finished enrollment, and its confirmation email."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string

from accounts.models import Customer, ElectronicConsent, LoanAccount, User
from portal.conf import portal
from security.challenge import check_full_set
from security.events import record_event
from security.models import ChallengeAnswer, SecurityEvent

logger = logging.getLogger(__name__)


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


class EnrollmentConflict(Exception):
    """The enrollment cannot finish; nothing was saved. `reason` says why."""

    CUSTOMER_ENROLLED = "customer_enrolled"
    USERNAME_TAKEN = "username_taken"

    def __init__(self, reason: str) -> None:
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
                raise EnrollmentConflict(EnrollmentConflict.CUSTOMER_ENROLLED)
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
            raise EnrollmentConflict(EnrollmentConflict.CUSTOMER_ENROLLED) from None
        if User.objects.filter(username__iexact=profile.username).exists():
            raise EnrollmentConflict(EnrollmentConflict.USERNAME_TAKEN) from None
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
