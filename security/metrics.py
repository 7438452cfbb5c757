"""What an operator watches and alerts on, as Prometheus counters (prometheus_client).

Most counters follow the security events: `record_event` calls `event_counted` once the event's
transaction commits, so a rolled-back attempt counts nothing and every event kind is counted in
one place. Queued messages are counted in the database at each scrape (OutgoingMessagesCollector).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from security.models import SecurityEvent

Kind = SecurityEvent.Kind

SECURITY_EVENTS = Counter("portal_security_events", "Security events recorded, by kind", ["kind"])
LOGINS = Counter("portal_logins", "Password checks at Log In, by outcome", ["outcome"])
STEP_UPS = Counter(
    "portal_step_ups", "Additional verification on unregistered devices, by outcome", ["outcome"]
)
LOCKOUTS = Counter("portal_lockouts", "Times online access was locked after repeated failures")
ENROLLMENTS = Counter("portal_enrollments", "Customers who completed enrollment")
CODES_SENT = Counter("portal_codes_sent", "Security codes sent, by channel", ["channel"])

_BY_KIND = {
    Kind.LOGIN_SUCCEEDED: (LOGINS, {"outcome": "succeeded"}),
    Kind.LOGIN_FAILED: (LOGINS, {"outcome": "failed"}),
    Kind.STEP_UP_PASSED: (STEP_UPS, {"outcome": "passed"}),
    Kind.STEP_UP_FAILED: (STEP_UPS, {"outcome": "failed"}),
    Kind.LOCKED: (LOCKOUTS, {}),
    Kind.ENROLLED: (ENROLLMENTS, {}),
}


def event_counted(kind: str) -> None:
    SECURITY_EVENTS.labels(kind=kind).inc()
    counter, labels = _BY_KIND.get(kind, (None, {}))  # type: ignore[call-overload]
    if counter is not None:
        (counter.labels(**labels) if labels else counter).inc()


def code_sent_counted(channel: str) -> None:
    CODES_SENT.labels(channel=channel).inc()


class OutgoingMessagesCollector:
    """Queued emails and text messages by channel and status, counted in the database at each
    scrape: the worker that sends them is another process (often another host), and the
    table is what every instance shares. Failed ones stay for the retention period, so a rise
    in `status="failed"` is what to alert on."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count

        from security.models import OutgoingMessage

        family = GaugeMetricFamily(
            "portal_outgoing_messages",
            "Emails and text messages kept in the queue, by channel and status",
            labels=["channel", "status"],
        )
        rows = OutgoingMessage.objects.values_list("channel", "status").annotate(n=Count("id"))
        for channel, status, count in rows.order_by():
            family.add_metric([channel, status], count)
        yield family
