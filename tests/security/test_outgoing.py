"""The outgoing-message queue for real (tests marked message_queue: the database task backend
and the enqueue on commit, not the immediate delivery every other test gets).

A message is a row written in the caller's transaction and a task queued when it commits; the
body is encrypted at rest; the task claims the row so several workers send it once; failures
are retried with growing waits and end as "failed"; the worker's sweep finds what a killed
worker left behind; and nothing is sent inside a request, so a lock email no longer makes the
fifth wrong password of a real username slower than of an unknown one.
"""

from __future__ import annotations

import logging
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from cryptography.fernet import InvalidToken
from django.core import mail
from django.db import connection, transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from security.codes import code_send
from security.models import OutgoingMessage, SecurityCode
from security.outgoing import (
    body_decrypt,
    deliver_message,
    email_queue,
    sms_queue,
    sweep,
)
from tests.security import message_backends
from tests.security.concurrency import concurrent_db, run_at_once

pytestmark = pytest.mark.message_queue
concurrent_db = concurrent_db  # the fixture, for the test below that uses it

ROOT = Path(__file__).resolve().parents[2]
CODE = "482913"


def _tasks_for(message: OutgoingMessage) -> list[DBTaskResult]:
    return [
        t
        for t in DBTaskResult.objects.filter(task_path=deliver_message.module_path)
        if t.args_kwargs["args"] == [message.pk]
    ]


# --- queued with the caller's transaction ---------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing(make_user):
    user = make_user()
    with pytest.raises(RuntimeError), transaction.atomic():
        email_queue(to="dana@example.com", subject="Hello", body="Body")
        code_send(user=user, purpose="login", flow_id="f", channel="sms")
        raise RuntimeError("the caller's change fails")
    assert not OutgoingMessage.objects.exists()
    assert not SecurityCode.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_committed_message_is_queued_at_the_commit_and_sent_by_the_task():
    with transaction.atomic():
        message = email_queue(to="dana@example.com", subject="Hello", body=f"Code {CODE}")
        assert not DBTaskResult.objects.exists()  # not before the commit
    (queued,) = _tasks_for(message)
    assert queued.status == TaskResultStatus.READY
    assert mail.outbox == []  # the request sent nothing
    assert deliver_message.call(message.pk) == "sent"
    assert [(m.to, m.subject, m.body) for m in mail.outbox] == [
        (["dana@example.com"], "Hello", f"Code {CODE}")
    ]
    message.refresh_from_db()
    assert (message.status, message.attempts, bytes(message.body)) == ("sent", 1, b"")
    assert message.sent_at is not None
    assert deliver_message.call(message.pk) == "skipped"  # a second task sends nothing
    assert len(mail.outbox) == 1


# --- encrypted at rest ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_body_is_stored_encrypted(settings):
    message = sms_queue(to="+12015550123", body=f"Your security code is {CODE}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM security_outgoingmessage WHERE id = %s", [message.pk])
        stored = cursor.fetchone()
    raw = b"".join(
        bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        for value in stored
    )
    assert CODE.encode() not in raw and b"security code" not in raw
    row = OutgoingMessage.objects.get(pk=message.pk)
    assert body_decrypt(row.body) == f"Your security code is {CODE}"
    # A rotated SECRET_KEY still opens it through SECRET_KEY_FALLBACKS; another key does not.
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "n" * 50, [old_key]
    assert body_decrypt(row.body).endswith(CODE)
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(InvalidToken):
        body_decrypt(row.body)


@pytest.mark.django_db
def test_a_body_no_key_opens_fails_at_once(settings):
    message = sms_queue(to="+12015550123", body="Hello")
    settings.SECRET_KEY = "k" * 50
    assert deliver_message.call(message.pk) == "failed"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("failed", 1, "InvalidToken")


# --- retries, then failed --------------------------------------------------------------------------
@pytest.mark.django_db
def test_failures_are_retried_after_10_30_90_270_seconds_then_failed(settings, caplog):
    settings.PORTAL_SMS_BACKEND = "tests.security.test_codes.BrokenSms"
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        message = sms_queue(to="+12015550123", body=f"Your code is {CODE}")
        waits = []
        with caplog.at_level(logging.INFO):
            for attempt in range(1, 6):
                outcome = deliver_message.call(message.pk)
                message.refresh_from_db()
                assert message.attempts == attempt
                assert message.last_error == "SmsDeliveryError"
                if attempt == 5:
                    assert outcome == "failed"
                    break
                assert (outcome, message.status) == ("retry", "pending")
                wait = message.next_attempt_at - timezone.now()
                waits.append(wait.total_seconds())
                # The retry is queued for then (the database backend defers it)...
                retry = [t for t in _tasks_for(message) if t.run_after == message.next_attempt_at]
                assert len(retry) == 1
                # ...and an early task does not jump the wait.
                assert deliver_message.call(message.pk) == "skipped"
                clock.shift(wait)
    assert waits == [10, 30, 90, 270]
    assert message.status == "failed" and bytes(message.body) == b""
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "failed for good after 5 attempts (SmsDeliveryError)" in logged
    assert CODE not in logged and "5550123" not in logged and "gateway down" not in logged


# --- several workers, one message ------------------------------------------------------------------
@pytest.mark.usefixtures("concurrent_db")
def test_several_workers_claiming_one_message_send_it_once(settings):
    """Four workers run the delivery of one message at the same instant (on PostgreSQL when the
    suite runs there, else on a SQLite file): one sends, the others find it taken."""
    settings.MAILERS = {"default": {"BACKEND": "tests.security.message_backends.SlowEmailBackend"}}
    message = email_queue(to="dana@example.com", subject="Hello", body=f"Code {CODE}")
    before = message_backends.sends
    outcomes = run_at_once(4, lambda: deliver_message.call(message.pk))
    assert sorted(outcomes) == ["sent", "skipped", "skipped", "skipped"]
    assert message_backends.sends - before == 1
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)


@pytest.mark.django_db
def test_a_delivery_stuck_past_its_lease_is_taken_over_once(settings):
    message = email_queue(to="dana@example.com", subject="Hello", body="Body")
    stale = timezone.now() - timedelta(seconds=settings.PORTAL_MESSAGE_LEASE_SECONDS + 1)
    OutgoingMessage.objects.filter(pk=message.pk).update(
        status="sending", claimed_at=stale, attempts=1
    )
    assert deliver_message.call(message.pk) == "sent"
    assert deliver_message.call(message.pk) == "skipped"
    message.refresh_from_db()
    assert (message.status, message.attempts, len(mail.outbox)) == ("sent", 2, 1)


# --- the sweep ---------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_sweep_queues_what_is_due_or_abandoned_and_prunes_what_is_old(settings):
    now = timezone.now()
    lease = timedelta(seconds=settings.PORTAL_MESSAGE_LEASE_SECONDS)

    def make(**fields):
        message = sms_queue(to="+12015550123", body="Hello")
        OutgoingMessage.objects.filter(pk=message.pk).update(**fields)
        return message

    due = make(next_attempt_at=now - timedelta(seconds=1))
    later = make(next_attempt_at=now + timedelta(seconds=30))
    abandoned = make(status="sending", claimed_at=now - lease - timedelta(seconds=1))
    busy = make(status="sending", claimed_at=now - timedelta(seconds=5))
    sent = make(status="sent", sent_at=now)
    old = make(status="sent", created_at=now - timedelta(days=31))
    waiting = make(next_attempt_at=now - timedelta(seconds=1))
    deliver_message.enqueue(waiting.pk)  # its task is already in the queue
    finished = DBTaskResult.objects.create(
        args_kwargs={"args": [sent.pk], "kwargs": {}},
        task_path=deliver_message.module_path,
        backend_name="default",
        status=TaskResultStatus.SUCCESSFUL,
    )
    DBTaskResult.objects.filter(pk=finished.pk).update(enqueued_at=now - timedelta(days=2))

    assert sweep() == 2
    assert len(_tasks_for(due)) == 1 and len(_tasks_for(abandoned)) == 1
    assert len(_tasks_for(waiting)) == 1
    for message in (later, busy, sent):
        assert _tasks_for(message) == []
    assert not OutgoingMessage.objects.filter(pk=old.pk).exists()
    assert not DBTaskResult.objects.filter(pk=finished.pk).exists()


# --- a worker killed mid-delivery --------------------------------------------------------------------
QUEUE_SCRIPT = """
from security.outgoing import sms_queue
print("MESSAGE=%s" % sms_queue(to="+12015550123", body="Your security code is 482913").pk)
"""
STATE_SCRIPT = """
from security.models import OutgoingMessage
m = OutgoingMessage.objects.get()
print("STATE=%s %s" % (m.status, m.attempts))
"""
LEASE_SCRIPT = """
from datetime import timedelta
from django.utils import timezone
from security.models import OutgoingMessage
OutgoingMessage.objects.update(claimed_at=timezone.now() - timedelta(minutes=2))
"""


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_message_whose_worker_was_killed_is_delivered_once_after_a_restart(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
        and not k.startswith("PORTAL_")
    }
    outbox = tmp_path / "outbox"
    started = tmp_path / "started"
    env.update(
        PORTAL_VAR_DIR=str(tmp_path / "var"),
        PORTAL_OUTBOX_DIR=str(outbox),
        DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        BLOCKING_SMS_STARTED=str(started),
        SMS_BACKEND="tests.security.message_backends.BlockingSmsBackend",
    )

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def state() -> str:
        return manage("shell", "-c", STATE_SCRIPT).split("STATE=", 1)[1].strip()

    def worker(log: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "manage.py", "deliver_messages"],
            cwd=ROOT,
            env=env,
            stdout=(tmp_path / log).open("w"),
            stderr=subprocess.STDOUT,
        )

    manage("migrate", "--noinput", "-v0")
    manage("shell", "-c", QUEUE_SCRIPT)
    first = worker("worker-1.log")
    try:
        _wait_for(started.exists, 60, "the first worker to start sending")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert state() == "sending 1"
    assert not outbox.exists() or not list(outbox.iterdir())

    # The lease runs out (as it would a minute later); a worker with a working gateway starts.
    manage("shell", "-c", LEASE_SCRIPT)
    env["SMS_BACKEND"] = "portal.outbox.OutboxSmsBackend"
    second = worker("worker-2.log")
    try:
        _wait_for(lambda: outbox.exists() and any(outbox.iterdir()), 60, "the delivery")
        time.sleep(1.5)  # any second delivery would have happened by now
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0, (tmp_path / "worker-2.log").read_text()[-2000:]
    (delivered,) = outbox.iterdir()
    assert "482913" in delivered.read_text()
    assert state() == "sent 2"


# --- equal timing ---------------------------------------------------------------------------------
def _fifth_wrong_password_seconds(client, username: str) -> float:
    for _ in range(4):
        client.post("/login/", {"username": username, "password": "not the password"})
    began = time.perf_counter()
    response = client.post("/login/", {"username": username, "password": "not the password"})
    elapsed = time.perf_counter() - began
    assert "temporarily locked" in response.content.decode()
    return elapsed


@pytest.mark.django_db(transaction=True)
def test_the_lock_email_does_not_make_a_real_username_slower(client, make_user, settings):
    """With a mail server that takes 200 ms, the fifth wrong password (the one that locks and,
    for a real account, emails the customer) takes as long for a real username as for an
    unknown one: the email is queued on commit, not sent."""
    settings.MAILERS = {"default": {"BACKEND": "tests.security.message_backends.SlowEmailBackend"}}
    settings.PORTAL_LOGIN_IP_RATE = "1000/m"
    rounds = 7
    real = [make_user().username for _ in range(rounds)]
    unknown = [f"nobody.{n}.here" for n in range(rounds)]
    for warm_up in (make_user().username, "nobody.warm.up"):
        _fifth_wrong_password_seconds(client, warm_up)
    # Real and unknown usernames take turns, so a busy moment of the machine falls on both.
    real_times, unknown_times = [], []
    for real_name, unknown_name in zip(real, unknown, strict=True):
        real_times.append(_fifth_wrong_password_seconds(client, real_name))
        unknown_times.append(_fifth_wrong_password_seconds(client, unknown_name))
    real_median = statistics.median(real_times)
    unknown_median = statistics.median(unknown_times)
    assert real_median < unknown_median + 0.1, (real_median, unknown_median)
    # Both fast: ~0.1 s here (one Argon2 hash), the bound leaves room for a busy machine.
    assert real_median < 0.5 and unknown_median < 0.5, (real_median, unknown_median)
    # Every lock email was queued, none sent in the request; sending one takes the 200 ms.
    queued = OutgoingMessage.objects.filter(status="pending", channel="email")
    assert queued.count() == rounds + 1 and mail.outbox == []
    began = time.perf_counter()
    assert deliver_message.call(queued.first().pk) == "sent"
    assert time.perf_counter() - began >= message_backends.SLOW_SECONDS


# --- the worker command -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_worker_waits_out_a_database_outage(monkeypatch):
    from django.core.management import call_command
    from django.db import OperationalError

    from security.management.commands import deliver_messages

    runs = []

    def run(worker):
        runs.append(worker.interval)
        if len(runs) == 1:
            raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(deliver_messages.Worker, "run", run)
    monkeypatch.setattr(deliver_messages.Worker, "configure_signals", lambda worker: None)
    monkeypatch.setattr(deliver_messages, "DATABASE_RETRY_SECONDS", 0)
    call_command("deliver_messages", "--sweep-every", "3600")
    assert runs == [0.5, 0.5]


def test_the_worker_refuses_a_backend_it_cannot_work_on(settings):
    from django.core.management import CommandError, call_command

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    with pytest.raises(CommandError, match="ImmediateBackend"):
        call_command("deliver_messages")
