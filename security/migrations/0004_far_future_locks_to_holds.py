"""Turns the old "This wasn't me" holds into real ones.

Before SignInLock.held_at existed, "This wasn't me" set the username's locked_until 100 years
(36,500 days) ahead, and anything more than 365 days ahead counted as that hold. Such a row
becomes a hold (reason NOT_ME, held since the lock was set) with no locked_until, so a customer
held before the upgrade stays held after it.

Registered devices need nothing: the old hold deleted every device of the customer in the same
transaction as it locked them, and a hold now refuses registered devices through the username's
row. A device row that somehow kept a far-future lock keeps it (it stays locked until support's
unlock clears it), which is the safe side.

The reverse writes the old far-future lock back for every hold, so code from before this change
still recognises them.
"""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

OLD_HOLD = timedelta(days=100 * 365)
OLD_HOLD_THRESHOLD = timedelta(days=365)


def far_future_locks_to_holds(apps, schema_editor):
    SignInLock = apps.get_model("security", "SignInLock")
    now = timezone.now()
    for lock in SignInLock.objects.filter(
        locked_until__gt=now + OLD_HOLD_THRESHOLD, held_at__isnull=True
    ).only("pk", "locked_until"):
        SignInLock.objects.filter(pk=lock.pk).update(
            held_at=min(lock.locked_until - OLD_HOLD, now),
            hold_reason="not_me",
            locked_until=None,
            updated_at=now,
        )


def holds_to_far_future_locks(apps, schema_editor):
    SignInLock = apps.get_model("security", "SignInLock")
    now = timezone.now()
    SignInLock.objects.filter(held_at__isnull=False).update(
        locked_until=now + OLD_HOLD, held_at=None, hold_reason="", updated_at=now
    )


class Migration(migrations.Migration):
    dependencies = [
        ("security", "0003_sign_in_hold"),
    ]

    operations = [
        migrations.RunPython(far_future_locks_to_holds, holds_to_far_future_locks),
    ]
