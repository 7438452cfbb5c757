"""The support console's own records: who on staff did what to which online account, and why."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import User
from security.models import AppendOnlyModel


class CustomerAccount(User):
    """A customer's online account as the support console sees it (a proxy: no table).

    Its permissions are the console's roles: support agents and supervisors get them through
    the groups the data migration creates. There is no add/change/delete permission: every
    change goes through one of the console's actions, which audit themselves.
    """

    class Meta:
        proxy = True
        verbose_name = "customer online account"
        verbose_name_plural = "customer online accounts"
        default_permissions = ("view",)
        permissions = [
            ("verify_caller", "Can verify a caller against the customer's records"),
            ("unlock_access", "Can unlock online access"),
            ("remove_devices", "Can remove registered devices"),
            ("remove_passkeys", "Can remove passkeys"),
            ("require_new_questions", "Can require new challenge questions"),
            ("disable_access", "Can disable and enable online access"),
        ]


class StaffAuditEntry(AppendOnlyModel):
    """One thing a staff member did in the support console. Append-only; purged only by age.

    Usernames are copied so the trail still reads correctly if an account is ever removed.
    Never holds what a caller said (identity data, answers): only the outcome.
    """

    class Action(models.TextChoices):
        VIEWED = "viewed", "Viewed online account"
        VIEWED_EVENTS = "viewed_events", "Viewed security events"
        VERIFY_CALLER = "verify_caller", "Verified caller"
        VERIFY_LIMITED = "verify_limited", "Caller verification refused (too many attempts)"
        UNLOCKED = "unlocked", "Unlocked online access"
        DEVICES_REMOVED = "devices_removed", "Removed registered devices"
        PASSKEY_REMOVED = "passkey_removed", "Removed a passkey"
        QUESTIONS_REQUIRED = "questions_required", "Required new challenge questions"
        DISABLED = "disabled", "Disabled online access"
        ENABLED = "enabled", "Enabled online access"

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="staff_audit_entries",
    )
    staff_username = models.CharField("staff member", max_length=150)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="support_audit_entries",
    )
    customer_username = models.CharField("customer", max_length=150)
    action = models.CharField(max_length=20, choices=Action.choices)
    reason = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField("time", default=timezone.now, db_index=True)
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        default_permissions = ("view",)
        verbose_name = "staff audit entry"
        verbose_name_plural = "staff audit trail"
        indexes = [models.Index(fields=["customer", "action", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.staff_username} at {self.created_at:%Y-%m-%d %H:%M}"
