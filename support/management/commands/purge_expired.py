"""Deletes every kind of row that has served its purpose: run daily (deploy/ has a timer)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portal.conf import portal
from security.purge import expired_rows_purge
from support.flow import retention_purge


class Command(BaseCommand):
    help = (
        "Delete expired security codes, link tokens, identity-check counters, idle lock rows and "
        "database sessions, and security events and staff audit entries older than "
        "PORTAL_EVENT_RETENTION_DAYS. Run daily."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for kind, count in expired_rows_purge().items():
            self.stdout.write(f"Deleted {count} expired {kind}.")
        events, audit = retention_purge()
        self.stdout.write(
            f"Deleted {events} security events and {audit} staff audit entries older than "
            f"{portal.event_retention_days} days."
        )
