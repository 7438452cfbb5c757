"""`manage.py deliver_messages`: the worker that sends queued emails and text messages.

django-tasks-db's worker loop (`db_worker`) runs the delivery tasks; beside it a thread sweeps at
start and then every PORTAL_MESSAGE_SWEEP_SECONDS, re-queuing messages that are due or were left
"sending" by a worker that stopped (security.outgoing.sweep), so nothing is lost to a killed
worker. A database that goes away (a restart) pauses the worker until it is back. SIGTERM or
Ctrl-C stops it cleanly: a delivery in progress is finished first.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, close_old_connections, connections
from django.tasks import task_backends
from django.utils.crypto import get_random_string
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker

from portal.conf import portal
from security.outgoing import deliver_message, sweep

logger = logging.getLogger("security.outgoing")
DATABASE_RETRY_SECONDS = 5


def _sweep_safely() -> None:
    try:
        queued = sweep()
        if queued:
            logger.info("sweep: %s message deliveries queued", queued)
    except Exception as exc:  # the database restarting, say: the next sweep tries again
        logger.warning("sweep failed (%s)", exc.__class__.__name__)


def _sweep_loop(stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        close_old_connections()
        _sweep_safely()
        connections.close_all()  # this thread's own: nothing held open between sweeps


class Command(BaseCommand):
    help = "Send queued emails and text messages (run beside the web server; stop with SIGTERM)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="seconds between looks for work when idle (default PORTAL_MESSAGE_POLL_SECONDS)",
        )
        parser.add_argument(
            "--sweep-every",
            type=float,
            default=None,
            help="seconds between sweeps (default PORTAL_MESSAGE_SWEEP_SECONDS)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        backend = task_backends[deliver_message.backend]
        if not isinstance(backend, DatabaseBackend):
            raise CommandError(
                f"TASKS[{deliver_message.backend!r}] is {type(backend).__name__}, "
                "not django_tasks_db.DatabaseBackend: there is nothing to work on"
            )
        interval = options["interval"]
        if interval is None:
            interval = portal.message_poll_seconds
        every = options["sweep_every"] or portal.message_sweep_seconds
        worker = Worker(
            queue_names=[deliver_message.queue_name],
            interval=interval,
            batch=False,
            backend_name=deliver_message.backend,
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        _sweep_safely()  # what a previous worker left behind, before anything new
        stop = threading.Event()
        sweeper = threading.Thread(
            target=_sweep_loop, args=(stop, every), name="deliver_messages-sweep", daemon=True
        )
        sweeper.start()
        logger.info("delivering messages (poll every %s s, sweep every %s s)", interval, every)
        worker.configure_signals()
        try:
            while True:
                try:
                    worker.run()
                    return
                except DatabaseError as exc:  # the database restarting: wait, then carry on
                    logger.warning(
                        "database unavailable (%s); trying again in %s s",
                        exc.__class__.__name__,
                        DATABASE_RETRY_SECONDS,
                    )
                    time.sleep(DATABASE_RETRY_SECONDS)  # then run() drops the broken connection
        finally:
            stop.set()
