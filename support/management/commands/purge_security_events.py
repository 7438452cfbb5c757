"""Deletes security events and staff audit entries older than the retention period."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portal.conf import portal
from support.flow import retention_purge


class Command(BaseCommand):
    help = (
        "Delete security events and staff audit entries older than PORTAL_EVENT_RETENTION_DAYS "
        "(run daily)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        events, audit = retention_purge()
        self.stdout.write(
            f"Deleted {events} security events and {audit} staff audit entries older than "
            f"{portal.event_retention_days} days."
        )
