"""Business steps on customers and online accounts."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from django.db import transaction
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone

from accounts.identity import identity_digest, normalize_reference, reference_key
from accounts.models import Customer, LoanAccount
from portal.conf import portal
from security.events import record_event
from security.models import IdentityVerificationThrottle, SecurityEvent


@dataclass(frozen=True)
class IdentityCheck:
    outcome: Literal["verified", "mismatch", "limited"]
    customer: Customer | None = None
    loan_account: LoanAccount | None = None

    @property
    def verified(self) -> bool:
        return self.outcome == "verified"


def identity_verify(
    *, tin_last4: str, birth_date: date, reference: str, request: HttpRequest | None = None
) -> IdentityCheck:
    """Checks that TIN last 4, birth date and an account number or VIN belong to one customer.

    At most `verify_max_failures` failed checks per account number or VIN in the window; the
    counter row is locked for the whole check, so parallel attempts cannot exceed it. The
    outcome never says which of the three values was wrong.
    """
    ref = normalize_reference(reference)
    digest = identity_digest(tin_last4, birth_date)
    now = timezone.now()
    with transaction.atomic():
        throttle, _ = IdentityVerificationThrottle.objects.select_for_update().get_or_create(
            reference_key=reference_key(ref)
        )
        if throttle.window_started_at <= now - timedelta(seconds=portal.verify_window_seconds):
            throttle.failures = 0
            throttle.window_started_at = now
            throttle.save(update_fields=["failures", "window_started_at"])
        if throttle.failures >= portal.verify_max_failures:
            record_event(SecurityEvent.Kind.VERIFY_LIMITED, request=request)
            return IdentityCheck("limited")
        candidates = LoanAccount.objects.select_related("customer", "vehicle").filter(
            Q(account_number=ref) | Q(vehicle__vin=ref)
        )
        for account in candidates:
            # Constant-time: the comparison must not leak how much of the digest matched.
            if hmac.compare_digest(account.customer.identity_digest, digest):
                return IdentityCheck("verified", account.customer, account)
        IdentityVerificationThrottle.objects.filter(pk=throttle.pk).update(
            failures=F("failures") + 1
        )
        record_event(SecurityEvent.Kind.VERIFY_FAILED, request=request)
        return IdentityCheck("mismatch")
