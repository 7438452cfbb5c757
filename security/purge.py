"""Deleting the security rows that have served their purpose.

Each kind of row has its own rule for when it is dead, so that nothing the portal still needs
is lost: a code and the record of the last code sent to an address are kept a day (the send limits
count recent ones), a link
token until it expires, an identity-check counter until its window ends, and a username's lock
row once it holds no lock, no hold and no failure newer than a day (which also forgets the rows
made-up usernames leave behind). Events and staff audit entries follow their own retention
period (support.flow.retention_purge).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from portal.conf import portal
from security.models import (
    ActionToken,
    CodeDestination,
    IdentityVerificationThrottle,
    SecurityCode,
    SignInLock,
)

# Long enough for every limit that counts recent sends (the longest counts one hour).
CODE_KEPT_FOR = timedelta(days=1)
# Consecutive failures older than this no longer count toward a lock.
FAILURES_KEPT_FOR = timedelta(days=1)


def expired_rows_purge(*, now: datetime | None = None) -> dict[str, int]:
    """Deletes expired codes, link tokens, identity-check counters, idle lock rows and expired
    database sessions. Returns how many rows of each kind went. Safe to run at any time and in
    parallel with traffic: every rule only matches rows no flow can use any more."""
    now = now or timezone.now()
    codes, _ = SecurityCode.objects.filter(
        created_at__lt=now - CODE_KEPT_FOR, expires_at__lt=now
    ).delete()
    # An address's last send matters only for the resend interval (seconds); keep a day.
    destinations, _ = CodeDestination.objects.filter(last_sent_at__lt=now - CODE_KEPT_FOR).delete()
    tokens, _ = ActionToken.objects.filter(expires_at__lt=now).delete()
    throttles, _ = IdentityVerificationThrottle.objects.filter(
        window_started_at__lt=now - timedelta(seconds=portal.verify_window_seconds)
    ).delete()
    locks, _ = (
        SignInLock.objects.filter(held_at__isnull=True, updated_at__lt=now - FAILURES_KEPT_FOR)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .delete()
    )
    return {
        "security codes": codes,
        "code addresses": destinations,
        "link tokens": tokens,
        "identity-check counters": throttles,
        "idle lock rows": locks,
        "sessions": _expired_sessions_purge(now),
    }


def _expired_sessions_purge(now: datetime) -> int:
    """Database sessions past their expiry (sessions in Redis expire there by themselves)."""
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return 0
    from django.contrib.sessions.models import Session

    deleted, _ = Session.objects.filter(expire_date__lt=now).delete()
    return deleted
