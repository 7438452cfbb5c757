"""Reads for My Vehicles and My Online Profile. Every query starts from the signed-in user, so
nothing of another customer can come back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from accounts.models import ElectronicConsent, LoanAccount
from security.models import ChallengeAnswer, RegisteredDevice, SecurityEvent

if TYPE_CHECKING:
    from accounts.models import User

ACTIVITY_LIMIT = 20


def vehicle_accounts_for(user: User) -> QuerySet[LoanAccount]:
    """The loans linked to this online account, with their vehicles."""
    return user.loan_accounts.select_related("vehicle").order_by("account_number")


def challenge_questions_for(user: User) -> list[str]:
    """The keys of the customer's challenge questions (never the answers), in a stable order."""
    return list(
        ChallengeAnswer.objects.filter(user=user).order_by("id").values_list("question", flat=True)
    )


def registered_devices_for(user: User) -> QuerySet[RegisteredDevice]:
    return RegisteredDevice.objects.filter(user=user).order_by("-last_used_at", "-id")


def security_events_for(user: User, limit: int = ACTIVITY_LIMIT) -> list[SecurityEvent]:
    """The customer's latest security events, newest first, failed attempts included."""
    return list(SecurityEvent.objects.filter(user=user).order_by("-created_at", "-id")[:limit])


def esign_consent_for(user: User) -> ElectronicConsent | None:
    """The customer's latest acceptance of the electronic communications disclosure."""
    return ElectronicConsent.objects.filter(user=user).order_by("-accepted_at", "-id").first()
