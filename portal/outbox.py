"""Local delivery: every outgoing email or text message becomes one file under var/outbox/.

The file name says when, what kind and to whom, so a developer (or a browser test) can find the
security code that was just sent. Production replaces both with real providers via settings.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

from portal.conf import portal

_lock = threading.Lock()


def _outbox_file(kind: str, recipient: str, suffix: str) -> Path:
    directory = portal.outbox_dir
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f")
    safe = re.sub(r"[^A-Za-z0-9@.+_-]", "_", recipient)[:80]
    return directory / f"{stamp}-{kind}-to-{safe}-{secrets.token_hex(3)}.{suffix}"


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            recipients = ", ".join(message.recipients())
            path = _outbox_file("email", recipients, "eml")
            with _lock:
                path.write_bytes(message.message().as_bytes())
            sent += 1
        return sent


class OutboxSmsBackend:
    def send(self, to: str, body: str) -> None:
        path = _outbox_file("sms", to, "txt")
        path.write_text(f"To: {to}\n\n{body}\n", encoding="utf-8")
