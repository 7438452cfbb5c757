""" "This wasn't me": the customer's single-use link from a security email.

Following it (a POST from the confirmation page; mail scanners only GET) holds online access
until support unlocks it, ends every session, revokes every registered device, voids security
codes in flight and records NOT_ME, all in one transaction.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Literal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import new_security_stamp
from security.devices import devices_revoke_all
from security.events import record_event
from security.lockout import hold_place
from security.models import ActionToken, HoldReason, SecurityCode, SecurityEvent
from security.notifications import token_hash

Status = Literal["valid", "invalid", "expired", "used", "done"]


@dataclass(frozen=True)
class TokenCheck:
    status: Status
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
        return TokenCheck("invalid")
    if row.used_at is not None:
        return TokenCheck("used", row)
    if row.expires_at <= timezone.now():
        return TokenCheck("expired", row)
    return TokenCheck("valid", row)


def not_me_report(*, token: str, request: HttpRequest | None = None) -> TokenCheck:
    """Uses the token and secures its user's online account; "done", or why not.

    The token is claimed with a conditional UPDATE (used_at IS NULL and not expired), so of two
    parallel submissions exactly one acts. Then, in the same transaction: online access held
    until support unlocks it, the security stamp rotated (every session of the user ends at its
    next request), every registered device revoked, live security codes voided, NOT_ME recorded.
    """
    check = not_me_token_check(token=token)
    if check.status != "valid" or check.token is None:
        return check
    now = timezone.now()
    with transaction.atomic():
        claimed = ActionToken.objects.filter(
            pk=check.token.pk, used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
        if not claimed:
            return TokenCheck("used", check.token)
        user = check.token.user
        hold_place(user=user, reason=HoldReason.NOT_ME)
        get_user_model().objects.filter(pk=user.pk).update(security_stamp=new_security_stamp())
        devices_revoke_all(user=user, request=request)
        SecurityCode.objects.filter(user=user, used_at__isnull=True, voided_at__isnull=True).update(
            voided_at=now
        )
        record_event(SecurityEvent.Kind.NOT_ME, user=user, request=request)
    return TokenCheck("done", check.token)
