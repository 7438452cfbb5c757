"""Outgoing email and text messages: queued in the caller's transaction, sent by a worker.

Nothing is sent inside a request. Talking to a mail server or an SMS gateway takes tens or
hundreds of milliseconds, and a request that takes longer for a real customer than for an
unknown username tells an attacker which accounts exist. So a message is a row
(`OutgoingMessage`) written in the caller's transaction, and a task carrying only its id is
queued (django.tasks, the database backend) when that transaction commits: a change that rolls
back sends nothing. `manage.py deliver_messages` runs the tasks beside the web server.

Delivery happens at most once per claim: the task claims the row with a conditional UPDATE
(pending and due, or "sending" for longer than the lease, i.e. its worker died), so two workers
never send one message together. A failure is retried with growing waits (10 s, 30 s, 90 s,
270 s) and the message is marked failed after PORTAL_MESSAGE_MAX_ATTEMPTS; the support console
shows it. The worker's sweep re-queues what a stopped worker left behind.

The body may hold a security code: it is stored encrypted (Fernet, with a key derived from
SECRET_KEY) and dropped once the message is sent or given up on. Logs name a message by its id
only: never an address, a code or a body.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.tasks import task
from django.utils import timezone
from django.utils.encoding import force_bytes

from portal.conf import portal
from security.models import OutgoingMessage
from security.sms import send_sms

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

logger = logging.getLogger(__name__)

_KEY_INFO = b"security.outgoing.OutgoingMessage.body"
# Finished task rows are only the queue's bookkeeping (a message id and an outcome).
TASK_RESULT_RETENTION = timedelta(days=1)


# --- the body, encrypted at rest -----------------------------------------------------------------
def _fernet() -> MultiFernet:
    """Fernet keys derived (HKDF-SHA256) from SECRET_KEY and then SECRET_KEY_FALLBACKS, so a
    rotated key still opens the messages queued just before the rotation."""
    from cryptography.fernet import Fernet, MultiFernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    keys = []
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(
            force_bytes(secret)
        )
        keys.append(Fernet(base64.urlsafe_b64encode(derived)))
    return MultiFernet(keys)


def body_encrypt(body: str) -> bytes:
    return _fernet().encrypt(body.encode())


def body_decrypt(token: bytes | memoryview) -> str:
    """Raises cryptography.fernet.InvalidToken for a body no current key can open."""
    return _fernet().decrypt(bytes(token)).decode()


# --- queueing ----------------------------------------------------------------------------------
def _after_commit(callback: Callable[[], None]) -> None:
    """Runs `callback` once the caller's transaction commits (at once outside a transaction).
    Robust: a failure to enqueue is logged and leaves the message to the worker's sweep."""
    transaction.on_commit(callback, robust=True)


def email_queue(*, to: str, subject: str, body: str) -> OutgoingMessage:
    """Queues an email in the caller's transaction; it is sent after the commit."""
    return _queue(OutgoingMessage.Channel.EMAIL, to, subject, body)


def sms_queue(*, to: str, body: str) -> OutgoingMessage:
    """Queues a text message in the caller's transaction; it is sent after the commit."""
    return _queue(OutgoingMessage.Channel.SMS, to, "", body)


def _queue(channel: str, destination: str, subject: str, body: str) -> OutgoingMessage:
    message = OutgoingMessage.objects.create(
        channel=channel,
        destination=destination,
        subject=subject[:200],
        body=body_encrypt(body),
    )
    message_id = message.pk
    _after_commit(lambda: delivery_enqueue(message_id))
    return message


def delivery_enqueue(message_id: int, *, run_after: datetime | None = None) -> None:
    """Queues the task that delivers message `message_id` (not before `run_after`).

    A backend that cannot defer (the immediate one) does not get the deferred retries: the
    worker's sweep queues them once they are due.
    """
    deliver = deliver_message
    if run_after is not None:
        if not deliver.get_backend().supports_defer:
            return
        deliver = deliver.using(run_after=run_after)
    deliver.enqueue(message_id)


# --- delivery ----------------------------------------------------------------------------------
def _claimable(now: datetime) -> Q:
    """Due and waiting, or taken by a worker that has not finished within the lease."""
    lease_start = now - timedelta(seconds=portal.message_lease_seconds)
    return Q(status=OutgoingMessage.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=OutgoingMessage.Status.SENDING, claimed_at__lt=lease_start
    )


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 10 s, 30 s, 90 s, 270 s, ..."""
    return timedelta(seconds=portal.message_first_retry_seconds * 3 ** max(0, attempts - 1))


def _send(message: OutgoingMessage) -> None:
    body = body_decrypt(message.body)
    if message.channel == OutgoingMessage.Channel.EMAIL:
        send_mail(message.subject, body, None, [message.destination])
    else:
        send_sms(message.destination, body)


@task()
def deliver_message(message_id: int) -> str:
    """Sends message `message_id` if it is still to be sent and no other worker has it.

    Returns what happened ("sent", "retry", "failed", or "skipped" when it was not claimable:
    already sent, not yet due, or being sent elsewhere).
    """
    from cryptography.fernet import InvalidToken

    now = timezone.now()
    claimed = (
        OutgoingMessage.objects.filter(pk=message_id)
        .filter(_claimable(now))
        .update(
            status=OutgoingMessage.Status.SENDING,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )
    )
    if not claimed:
        return "skipped"
    message = OutgoingMessage.objects.get(pk=message_id)
    mine = OutgoingMessage.objects.filter(
        pk=message_id, status=OutgoingMessage.Status.SENDING, claimed_at=now
    )
    try:
        _send(message)
    except Exception as exc:  # SMTP, DNS, the gateway, a body no key opens: retry or give up
        error = exc.__class__.__name__
        if message.attempts >= portal.message_max_attempts or isinstance(exc, InvalidToken):
            mine.update(status=OutgoingMessage.Status.FAILED, last_error=error, body=b"")
            logger.error(
                "outgoing message %s failed for good after %s attempts (%s)",
                message_id,
                message.attempts,
                error,
            )
            return "failed"
        next_attempt_at = timezone.now() + retry_delay(message.attempts)
        mine.update(
            status=OutgoingMessage.Status.PENDING,
            next_attempt_at=next_attempt_at,
            last_error=error,
        )
        logger.warning(
            "outgoing message %s: attempt %s failed (%s); next attempt at %s",
            message_id,
            message.attempts,
            error,
            next_attempt_at.isoformat(timespec="seconds"),
        )
        delivery_enqueue(message_id, run_after=next_attempt_at)
        return "retry"
    mine.update(status=OutgoingMessage.Status.SENT, sent_at=timezone.now(), body=b"")
    return "sent"


def sweep() -> int:
    """Queues a delivery for every message that is due or was left "sending" by a worker that
    stopped (killed, or its machine lost), and deletes what is past its retention. Returns how
    many deliveries were queued.

    A message whose task is already waiting in the queue is left to it. (Should a second task
    slip in beside one, the claim makes it a no-op.)
    """
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    ours = DBTaskResult.objects.filter(task_path=deliver_message.module_path)
    ready = ours.filter(status=TaskResultStatus.READY).values_list("args_kwargs", flat=True)
    waiting = {call["args"][0] for call in ready if call.get("args")}
    due = [
        message_id
        for message_id in OutgoingMessage.objects.filter(_claimable(now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)
        if message_id not in waiting
    ]
    for message_id in due:
        delivery_enqueue(message_id)
    OutgoingMessage.objects.filter(
        status__in=[OutgoingMessage.Status.SENT, OutgoingMessage.Status.FAILED],
        created_at__lt=now - timedelta(days=portal.message_retention_days),
    ).delete()
    ours.filter(enqueued_at__lt=now - TASK_RESULT_RETENTION).exclude(
        status=TaskResultStatus.READY
    ).delete()
    return len(due)
