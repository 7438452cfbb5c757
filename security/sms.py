"""A small gateway interface for text messages.

`send_sms()` hands a message to the backend named by the SMS_BACKEND setting: any class with a
`send(to, body)` method. Providers raise `SmsDeliveryError` so callers can tell the customer.
"""

from __future__ import annotations

from typing import Protocol

from django.utils.module_loading import import_string

from portal.conf import portal


class SmsDeliveryError(Exception):
    pass


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> None: ...


class LocmemSmsBackend:
    """Keeps messages in `outbox` (for tests), like Django's locmem email backend."""

    outbox: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> None:
        LocmemSmsBackend.outbox.append((to, body))


def send_sms(to: str, body: str) -> None:
    backend: SmsBackend = import_string(portal.sms_backend)()
    try:
        backend.send(to, body)
    except SmsDeliveryError:
        raise
    except Exception as exc:  # a provider's own failure becomes one kind the callers handle
        raise SmsDeliveryError(str(exc)) from exc
