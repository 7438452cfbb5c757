"""Email and SMS backends for the queue's tests: slow ones (a provider answering late) and one
that never returns (a worker to kill mid-delivery). Importable by a `manage.py` subprocess."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from django.core.mail.backends.locmem import EmailBackend

SLOW_SECONDS = 0.2
sends = 0  # deliveries handed to SlowEmailBackend in this process
_lock = threading.Lock()


class SlowEmailBackend(EmailBackend):
    """Django's test outbox behind a mail server that takes 200 ms to answer."""

    def send_messages(self, messages: Any) -> int:
        global sends
        time.sleep(SLOW_SECONDS)
        with _lock:
            sends += len(messages)
        return int(super().send_messages(messages))


class BlockingSmsBackend:
    """Writes the file named by BLOCKING_SMS_STARTED, then hangs (until the worker is killed)."""

    def send(self, to: str, body: str) -> None:
        Path(os.environ["BLOCKING_SMS_STARTED"]).write_text("sending\n")
        time.sleep(600)
