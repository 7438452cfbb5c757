"""What the support console reads: customer search and the customer's page.

Only the fields listed here ever reach a template: no password, answer, token or code hashes,
no identity digest, and contact details only masked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from security.challenge import question_text
from security.codes import mask_email, mask_phone
from security.lockout import lock_state
from security.models import ChallengeAnswer, Passkey, RegisteredDevice, SecurityEvent

RECENT_EVENTS = 20


def customer_search(queryset: QuerySet[Any], term: str) -> QuerySet[Any]:
    """Customers matching a name, username, email, or the last 4 of an account number or VIN."""
    term = " ".join(term.split())
    if not term:
        return queryset
    matches = (
        Q(username__icontains=term) | Q(email__icontains=term) | Q(customer__email__icontains=term)
    )
    name = Q()
    for word in term.split(" "):
        name &= (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(customer__first_name__icontains=word)
            | Q(customer__last_name__icontains=word)
        )
    matches |= name
    if len(term) == 4 and term.isalnum():
        matches |= (
            Q(customer__loan_accounts__account_number__endswith=term)
            | Q(customer__loan_accounts__vehicle__vin__iendswith=term)
            | Q(loan_accounts__account_number__endswith=term)
            | Q(loan_accounts__vehicle__vin__iendswith=term)
        )
    return queryset.filter(matches).distinct()


def masked_email(email: str) -> str:
    return mask_email(email) if email else ""


def masked_phone(phone: str) -> str:
    return mask_phone(phone) if phone else ""


@dataclass(frozen=True)
class CustomerOverview:
    username: str
    full_name: str
    customer_number: str
    active: bool
    locked: bool
    locked_until: datetime | None
    hold_reason: str  # "" unless held: why ("This wasn't me"); only support's unlock ends it
    failure_count: int
    email: str
    phone: str
    language: str  # the language of the customer's pages, emails and texts, by its own name
    must_reset_challenge_questions: bool
    authenticator_app: bool
    date_joined: datetime
    last_login: datetime | None
    devices: Sequence[Mapping[str, Any]] = field(default_factory=list)
    # Name, added and last used only (and the row's id, for the remove form): never the
    # credential id, public key or user handle.
    passkeys: Sequence[Mapping[str, Any]] = field(default_factory=list)
    vehicles: Sequence[Mapping[str, Any]] = field(default_factory=list)
    events: Sequence[Mapping[str, Any]] = field(default_factory=list)
    questions: list[tuple[str, str]] = field(default_factory=list)


def customer_overview(user: User) -> CustomerOverview:
    """Everything the customer's page shows, as plain values (never model instances whose
    secret fields a template could reach)."""
    lock = lock_state(user=user)
    devices = list(
        RegisteredDevice.objects.filter(user=user).values(
            "name", "created_at", "last_used_at", "failure_count", "locked_until"
        )
    )
    passkeys = list(
        Passkey.objects.filter(user=user)
        .order_by("-created_at", "-id")
        .values("id", "name", "created_at", "last_used_at")
    )
    vehicles = [
        {
            "description": f"{year} {make} {model}",
            "vin_last4": vin[-4:],
            "account_last4": account_number[-4:],
        }
        for year, make, model, vin, account_number in user.loan_accounts.order_by(
            "account_number"
        ).values_list(
            "vehicle__year", "vehicle__make", "vehicle__model", "vehicle__vin", "account_number"
        )
    ]
    kinds = dict(SecurityEvent.Kind.choices)
    events = [
        {**event, "kind": kinds.get(event["kind"], event["kind"])}
        for event in SecurityEvent.objects.filter(user=user).values(
            "created_at", "kind", "ip", "device", "detail"
        )[:RECENT_EVENTS]
    ]
    questions = [
        (key, question_text(key))
        for key in ChallengeAnswer.objects.filter(user=user).values_list("question", flat=True)
    ]
    customer = user.customer
    return CustomerOverview(
        username=user.get_username(),
        full_name=customer.full_name if customer else user.get_full_name(),
        customer_number=customer.customer_number if customer else "",
        active=user.is_active,
        locked=lock.locked,
        locked_until=lock.until,
        hold_reason=lock.hold_reason.label if lock.hold_reason is not None else "",
        failure_count=lock.failure_count,
        email=masked_email(user.email or (customer.email if customer else "")),
        phone=masked_phone(user.mobile_phone or (customer.mobile_phone if customer else "")),
        language=dict(settings.LANGUAGES).get(user.language, user.language),
        must_reset_challenge_questions=user.must_reset_challenge_questions,
        authenticator_app=TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        date_joined=user.date_joined,
        last_login=user.last_login,
        devices=devices,
        passkeys=passkeys,
        vehicles=vehicles,
        events=events,
        questions=questions,
    )
