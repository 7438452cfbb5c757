"""The identity check: TIN last 4, date of birth and an account number or VIN, against the
servicing records, behind the limits that keep it from being guessed.

Enrollment step 1, Forgot username?, Forgot password? and Add a vehicle all go through
`identity_check`, so they share one order of checks (per-IP rate limit, then the per-loan
failure limit), one outcome type and the same security events.

The per-loan limit must not let whoever knows an account number lock its customer out. A caller
that passes `confirm_purpose` gets, while the loan is paused, CONFIRM_BY_CODE for every attempt
the client IP may make, whether the details are right or wrong: for right ones a code goes to
the contact on record (the email address, else the mobile number), for wrong ones nothing does,
and the page says the same thing either way ("if these details match, we sent a code").
`identity_code_check` then passes the customer through as a verified check would, only with
the code that went to their contact on record; any code entered after wrong details fails like
a wrong code.
"""

from __future__ import annotations

import hmac
import secrets
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
from security.codes import (
    CodeDeliveryError,
    CodeSendRefused,
    channels_on_file,
    code_check,
    code_live,
    code_send,
)
from security.events import record_event
from security.flow_state import Expiry, FlowState
from security.models import IdentityVerificationThrottle, SecurityEvent
from security.ratelimits import ip_limit_reached

if TYPE_CHECKING:
    from accounts.models import User


class IdentityOutcome(StrEnum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"  # never says which of the three values was wrong
    LIMITED = "limited"  # too many attempts from this IP, or on this loan
    # The loan is paused; if the details were right, a code went to the contact on record.
    CONFIRM_BY_CODE = "confirm_by_code"


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
    confirm_purpose: str = "",
    confirm_step: str = "",
) -> IdentityCheck:
    """Checks that TIN last 4, birth date and an account number or VIN belong to one customer.

    With `ip_group`, the client IP's budget for that group (portal.verify_ip_rate) is spent
    first. Then at most `verify_max_failures` failed checks per loan (its account number and
    VIN together) in the window; the counter row is locked for the whole check, so parallel
    attempts cannot exceed it. `user`: the signed-in customer asking, recorded with the events.

    Once the loan's failures are used up the answer is LIMITED, or, with `confirm_purpose` (a
    SecurityCode purpose) and `request`, CONFIRM_BY_CODE for right and wrong details alike:
    see `identity_code_check`. `confirm_step` names the page that takes the code, when one
    purpose has several (Forgot username? and Forgot password?).
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
        paused = throttle.failures >= portal.verify_max_failures
        by_code = paused and bool(confirm_purpose) and request is not None
        if paused and not by_code:
            record_event(SecurityEvent.Kind.VERIFY_LIMITED, user=user, request=request)
            return IdentityCheck(IdentityOutcome.LIMITED)
        matched = next(
            (
                account
                for account in candidates
                # Constant-time: the comparison must not leak how much of the digest matched.
                if hmac.compare_digest(account.customer.identity_digest, digest)
            ),
            None,
        )
        if matched is not None and not paused:
            return IdentityCheck(IdentityOutcome.VERIFIED, matched.customer, matched)
        if matched is None:
            IdentityVerificationThrottle.objects.filter(pk=throttle.pk).update(
                failures=F("failures") + 1
            )
            record_event(
                SecurityEvent.Kind.VERIFY_FAILED,
                user=user,
                request=request,
                detail="While the loan was paused" if paused else "",
            )
            if not paused:
                return IdentityCheck(IdentityOutcome.MISMATCH)
        else:
            record_event(
                SecurityEvent.Kind.VERIFY_LIMITED,
                user=user,
                request=request,
                detail="Loan paused: the details matched; a code goes to the contact on record",
            )
    # Paused, answered by a code (after the throttle's transaction: sending waits for no lock).
    if request is None:  # cannot happen: without a request a paused check returned LIMITED
        return IdentityCheck(IdentityOutcome.LIMITED)
    _code_confirmation_start(request, confirm_purpose, confirm_step, matched)
    return IdentityCheck(IdentityOutcome.CONFIRM_BY_CODE)


# --- Confirming by a code while the loan is paused -------------------------------------------------
@dataclass
class CodeConfirmation(FlowState):
    """An identity check waiting for the code sent to the contact on record (in the session).

    After wrong details it has no customer and no code exists, but it lives, counts wrong
    entries and ends exactly like one that has: nothing tells the two apart from outside.
    """

    KEY = "identity:code_confirmation"
    EXPIRES = Expiry.SINCE_CREATED

    purpose: str  # the SecurityCode purpose of the asking flow; only that flow may use it
    step: str  # the page of that flow that takes the code ("" when the purpose has one)
    flow_id: str
    customer_id: int | None = None  # None: the details matched no one
    loan_account_id: int | None = None
    wrong_entries: int = 0
    created: float = 0.0

    @classmethod
    def lifetime_seconds(cls) -> float:
        return portal.code_ttl_seconds


def _code_confirmation_start(
    request: HttpRequest, purpose: str, step: str, account: LoanAccount | None
) -> None:
    """Sends the code for right details (to the email on record, else the mobile) and keeps the
    confirmation in the session either way. A send that a limit refuses, or that has nowhere to
    go, is not shown: saying so would tell that the details were right."""
    state = CodeConfirmation(purpose=purpose, step=step, flow_id=secrets.token_urlsafe(24))
    if account is not None:
        customer = account.customer
        state.customer_id, state.loan_account_id = customer.pk, account.pk
        channels = channels_on_file(customer)
        try:
            if not channels:
                raise CodeDeliveryError("no contact on record")
            code_send(
                customer=customer,
                purpose=purpose,
                flow_id=state.flow_id,
                channel=channels[0],
                request=request,
            )
        except (CodeSendRefused, CodeDeliveryError) as refused:
            record_event(
                SecurityEvent.Kind.VERIFY_LIMITED,
                request=request,
                detail=f"Loan paused: no code sent ({type(refused).__name__})",
            )
    state.save(request)


def _confirmation(request: HttpRequest, purpose: str, step: str) -> CodeConfirmation | None:
    state = CodeConfirmation.load(request)
    return state if state is not None and (state.purpose, state.step) == (purpose, step) else None


def identity_code_pending(request: HttpRequest, *, purpose: str, step: str = "") -> bool:
    """True while this session has a code confirmation of `purpose` (and `step`) that can
    still be used."""
    return _confirmation(request, purpose, step) is not None


def identity_code_check(
    request: HttpRequest, *, purpose: str, code: str, step: str = "", ip_group: str = ""
) -> IdentityCheck:
    """The code of a paused check: VERIFIED (with the customer and the loan, exactly as
    `identity_check` would have answered right details), MISMATCH for a wrong code, or LIMITED
    when the client IP has entered too many codes (`ip_group`, portal.verify_ip_rate).

    A wrong code counts against the code (void after PORTAL_CODE_MAX_ATTEMPTS entries, then the
    confirmation ends and `identity_code_pending` is False); after wrong details every code is
    wrong and ends the confirmation after the same number of entries.
    """
    if ip_group and ip_limit_reached(request, ip_group, portal.verify_ip_rate):
        return IdentityCheck(IdentityOutcome.LIMITED)
    state = _confirmation(request, purpose, step)
    if state is None:
        return IdentityCheck(IdentityOutcome.MISMATCH)
    account = None
    if state.loan_account_id is not None:
        account = (
            LoanAccount.objects.select_related("customer").filter(pk=state.loan_account_id).first()
        )
    # The loan still of the customer the code went to (an import may have moved it since).
    customer = account.customer if account and account.customer_id == state.customer_id else None
    if (
        account is not None
        and customer is not None
        and code_check(customer=customer, purpose=purpose, flow_id=state.flow_id, code=code)
    ):
        CodeConfirmation.clear(request)
        record_event(
            SecurityEvent.Kind.VERIFY_BY_CODE,
            request=request,
            detail=f"Account ending {account.account_last4}",
        )
        return IdentityCheck(IdentityOutcome.VERIFIED, customer, account)
    state.wrong_entries += 1
    record_event(
        SecurityEvent.Kind.VERIFY_FAILED, request=request, detail="Wrong code while paused"
    )
    live = customer is not None and (
        code_live(customer=customer, purpose=purpose, flow_id=state.flow_id) is not None
    )
    if state.wrong_entries >= portal.code_max_attempts or (customer is not None and not live):
        CodeConfirmation.clear(request)
    else:
        state.save(request)
    return IdentityCheck(IdentityOutcome.MISMATCH)
