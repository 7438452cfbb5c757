"""The identity check: TIN last 4, date of birth and an account number or VIN, against the
servicing records, behind the limits that keep it from being guessed.

Enrollment step 1, Forgot username?, Forgot password? and Add a vehicle all go through
`identity_check`, so they share one order of checks (per-IP rate limit, then the per-loan
failure limit), one outcome type and the same security events.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from accounts.identity import identity_digest, loan_accounts_matching, reference_key
from accounts.models import Customer, LoanAccount
from portal.conf import portal
from security.events import record_event
from security.models import IdentityVerificationThrottle, SecurityEvent
from security.ratelimits import ip_limit_reached

if TYPE_CHECKING:
    from accounts.models import User


class IdentityOutcome(StrEnum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"  # never says which of the three values was wrong
    LIMITED = "limited"  # too many attempts from this IP, or on this loan


@dataclass(frozen=True)
class IdentityCheck:
    outcome: IdentityOutcome
    customer: Customer | None = None
    loan_account: LoanAccount | None = None

    @property
    def verified(self) -> bool:
        return self.outcome == IdentityOutcome.VERIFIED


def identity_check(
    *,
    tin_last4: str,
    birth_date: date,
    reference: str,
    request: HttpRequest | None = None,
    ip_group: str = "",
    user: User | None = None,
) -> IdentityCheck:
    """Checks that TIN last 4, birth date and an account number or VIN belong to one customer.

    With `ip_group`, the client IP's budget for that group (portal.verify_ip_rate) is spent
    first. Then at most `verify_max_failures` failed checks per loan (its account number and
    VIN together) in the window; the counter row is locked for the whole check, so parallel
    attempts cannot exceed it. `user`: the signed-in customer asking, recorded with the events.
    """
    if (
        request is not None
        and ip_group
        and ip_limit_reached(request, ip_group, portal.verify_ip_rate)
    ):
        if user is not None:
            record_event(SecurityEvent.Kind.VERIFY_LIMITED, user=user, request=request)
        return IdentityCheck(IdentityOutcome.LIMITED)
    digest = identity_digest(tin_last4, birth_date)
    candidates = list(loan_accounts_matching(reference))
    # Failures count per loan: its account number and its VIN share one budget, so trying both
    # does not double the guesses. A reference that matches no loan counts on itself.
    counted_as = candidates[0].account_number if candidates else reference
    now = timezone.now()
    with transaction.atomic():
        throttle, _ = IdentityVerificationThrottle.objects.select_for_update().get_or_create(
            reference_key=reference_key(counted_as)
        )
        if throttle.window_started_at <= now - timedelta(seconds=portal.verify_window_seconds):
            throttle.failures = 0
            throttle.window_started_at = now
            throttle.save(update_fields=["failures", "window_started_at"])
        if throttle.failures >= portal.verify_max_failures:
            record_event(SecurityEvent.Kind.VERIFY_LIMITED, user=user, request=request)
            return IdentityCheck(IdentityOutcome.LIMITED)
        for account in candidates:
            # Constant-time: the comparison must not leak how much of the digest matched.
            if hmac.compare_digest(account.customer.identity_digest, digest):
                return IdentityCheck(IdentityOutcome.VERIFIED, account.customer, account)
        IdentityVerificationThrottle.objects.filter(pk=throttle.pk).update(
            failures=F("failures") + 1
        )
        record_event(SecurityEvent.Kind.VERIFY_FAILED, user=user, request=request)
        return IdentityCheck(IdentityOutcome.MISMATCH)
