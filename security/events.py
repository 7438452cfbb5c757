"""Recording security events. Callers pass only what is safe to keep: no secrets, no identity."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from security.metrics import code_sent_counted, event_counted
from security.models import SecurityEvent
from security.user_agents import device_name


def record_event(
    kind: str,
    *,
    user: Any = None,
    request: HttpRequest | None = None,
    detail: str = "",
    channel: str = "",
) -> SecurityEvent:
    """Writes the event in the caller's transaction; its metrics count once that commits.
    `channel`: for CODE_SENT, how the code went (email, sms)."""
    ip = getattr(request, "client_ip", None) if request is not None else None
    agent = request.META.get("HTTP_USER_AGENT", "") if request is not None else ""
    event = SecurityEvent.objects.create(
        kind=kind,
        user=user if user is not None and getattr(user, "pk", None) else None,
        ip=ip,
        device=device_name(agent) if request is not None else "",
        detail=detail[:200],
    )
    transaction.on_commit(partial(event_counted, kind))
    if kind == SecurityEvent.Kind.CODE_SENT and channel:
        transaction.on_commit(partial(code_sent_counted, channel))
    return event


def record_loans_unlinked(*, unlinked: list[tuple[int, str]], **kwargs: Any) -> None:
    """accounts.signals.loan_accounts_unlinked: one event per online account that lost a loan
    (written in the import's transaction, so both happen or neither)."""
    SecurityEvent.objects.bulk_create(
        SecurityEvent(
            kind=SecurityEvent.Kind.VEHICLE_REMOVED,
            user_id=user_id,
            detail=f"Account ending {last4} moved to another customer by the loan servicer",
        )
        for user_id, last4 in unlinked
    )
