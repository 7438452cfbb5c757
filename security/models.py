"""What sign-in security remembers: challenge answers, devices, counters, codes and events."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop
from django.utils.translation import gettext_lazy as _


class ChallengeAnswer(models.Model):
    """One of a customer's challenge questions; the answer only as a slow salted hash."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="challenge_answers"
    )
    question = models.CharField(max_length=40)  # a key of security.challenge.QUESTIONS
    answer_hash = models.CharField(max_length=255)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "question"], name="one_answer_per_question")
        ]
        ordering = ["id"]


class RegisteredDevice(models.Model):
    """A browser the customer chose to remember. The cookie holds a random token; only its
    SHA-256 is stored, so a copy of the database cannot be replayed as a cookie."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registered_devices"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # A registered device keeps its own failure count, so failures elsewhere cannot lock it.
    failure_count = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    failures_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_used_at"]

    def __str__(self) -> str:
        return self.name


class Passkey(models.Model):
    """A passkey (a discoverable WebAuthn credential) the customer can log in with.

    Only the public key is stored: a copy of the database cannot sign a login. `sign_count` is
    the authenticator's signature counter at its last use (0 for authenticators that keep none).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys"
    )
    # base64url of the credential id (at most 1023 bytes, so at most 1364 characters)
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()  # COSE-encoded
    # The random WebAuthn user handle the passkey was made for (never the username or the pk).
    user_handle = models.CharField(max_length=100)
    sign_count = models.PositiveBigIntegerField(default=0)
    backup_eligible = models.BooleanField(default=False)
    backed_up = models.BooleanField(default=False)
    aaguid = models.CharField(max_length=36, blank=True)
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class HoldReason(models.TextChoices):
    """Why online access is held (see SignInLock.held_at)."""

    NOT_ME = "not_me", "This wasn't me"
    SUPPORT = "support", "Placed by support"


class SignInLock(models.Model):
    """Consecutive failures from unregistered clients, per username (known or not), and the
    username's hold.

    Keyed by an HMAC of the normalised username so unknown usernames lock exactly like real ones
    and the table reveals no usernames. `locked_until` is the temporary lock that failures cause;
    a hold (`held_at`, `hold_reason`) has no end: it refuses every client, registered devices
    included, until support unlocks the account. Only security.lockout reads or writes these.
    """

    username_key = models.CharField(max_length=64, unique=True)
    failure_count = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    held_at = models.DateTimeField(null=True, blank=True)
    hold_reason = models.CharField(max_length=10, choices=HoldReason.choices, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(held_at__isnull=True, hold_reason="")
                    | (models.Q(held_at__isnull=False) & ~models.Q(hold_reason=""))
                ),
                name="a_hold_has_a_time_and_a_reason",
            )
        ]


class IdentityVerificationThrottle(models.Model):
    """Failed identity verifications per account number or VIN tried (NIST 800-63A)."""

    reference_key = models.CharField(max_length=64, unique=True)
    failures = models.PositiveSmallIntegerField(default=0)
    window_started_at = models.DateTimeField(default=timezone.now)


class Channel(StrEnum):
    """How a customer gets a one-time code: sent by email or text message (a SecurityCode), or
    shown by their authenticator app (nothing is sent). The values are what the forms post and
    what the session and SecurityCode.channel keep. Defined here for SecurityCode.channel's
    choices; the rest of the portal imports it from security.codes."""

    EMAIL = "email"
    SMS = "sms"
    APP = "app"

    @property
    def label(self) -> str:
        """The channel's name in the active language, for pages and messages."""
        return gettext(_CHANNEL_LABELS[self])

    @property
    def record_label(self) -> str:
        """The channel's name in English, for event details stored in the database."""
        return _CHANNEL_LABELS[self]

    @property
    def sends_code(self) -> bool:
        return self in SENT_CHANNELS


_CHANNEL_LABELS = {
    Channel.EMAIL: gettext_noop("Email"),
    Channel.SMS: gettext_noop("Text message"),
    Channel.APP: gettext_noop("Authenticator app"),
}
SENT_CHANNELS = (Channel.EMAIL, Channel.SMS)  # the channels a SecurityCode goes by


class SecurityCode(models.Model):
    """A one-time security code, bound to one flow (a login attempt, a recovery, a contact
    change, an enrollment). Only an HMAC of the code is stored.

    It belongs to an online user, or, while the customer enrolls and has no online account yet,
    to the servicing customer whose contact on record it was sent to: exactly one of the two.
    """

    class Purpose(models.TextChoices):
        LOGIN = "login", "Login"
        RECOVERY = "recovery", "Password recovery"
        CONTACT = "contact", "Contact change"
        ENROLLMENT = "enrollment", "Enrollment"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="security_codes",
    )
    customer = models.ForeignKey(
        "accounts.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="security_codes",
    )
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    flow_id = models.CharField(max_length=64, db_index=True)  # the attempt this code belongs to
    channel = models.CharField(
        max_length=5,
        choices=[
            (channel.value, gettext_lazy(_CHANNEL_LABELS[channel])) for channel in SENT_CHANNELS
        ],
    )
    destination = models.CharField(max_length=254)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    wrong_attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, customer__isnull=True)
                    | models.Q(user__isnull=True, customer__isnull=False)
                ),
                name="a_code_has_one_owner",
            )
        ]


class CodeDestination(models.Model):
    """When a security code last went to one email address or phone number, whichever flow or
    owner asked for it (security.codes.code_send).

    Keyed by an HMAC of the normalised address, so the table names no one. code_send locks the
    row for the send, so parallel sends to one address from different flows or owners queue
    here and the resend interval holds between them too.
    """

    destination_key = models.CharField(max_length=64, unique=True)
    last_sent_at = models.DateTimeField()


class OutgoingMessage(models.Model):
    """An email or text message on its way out: written in the transaction of the change it
    tells about and delivered after the commit by the worker (security.outgoing), never inside
    the request.

    The body is encrypted at rest (it may hold a security code) and dropped once the message is
    sent or given up on; `last_error` holds only the class name of the last failure. Support
    staff see these rows read-only, without the body.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "Text message"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    channel = models.CharField(max_length=5, choices=Channel.choices)
    destination = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.BinaryField(editable=False)  # a Fernet token; empty once sent or failed
    status = models.CharField(max_length=7, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        default_permissions = ("view",)
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} of {self.created_at:%Y-%m-%d %H:%M}"


class BackupCode(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="backup_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)


class ActionToken(models.Model):
    """A single-use link token ("This wasn't me"); stored as SHA-256, looked up by hash."""

    class Purpose(models.TextChoices):
        NOT_ME = "not_me", "This wasn't me"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="action_tokens"
    )
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)


class AppendOnlyError(Exception):
    """Security events and audit rows are never changed or deleted, only purged by age."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("append-only: rows cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("append-only: rows cannot be deleted")

    def purge_before(self, cutoff: Any) -> int:
        """The retention purge: the one way rows leave the table."""
        deleted, _ = models.QuerySet.delete(self.filter(created_at__lt=cutoff))
        return deleted


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("append-only: rows cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("append-only: rows cannot be deleted")


class SecurityEvent(AppendOnlyModel):
    """Something security-relevant that happened to an online account (or a username tried).

    Never holds passwords, answers, codes or identity data.
    """

    class Kind(models.TextChoices):
        ENROLLED = "enrolled", _("Enrolled")
        VERIFY_FAILED = "verify_failed", _("Identity verification failed")
        VERIFY_LIMITED = "verify_limited", _("Identity verification refused (too many attempts)")
        VERIFY_BY_CODE = "verify_by_code", _("Identity verified by a code to the contact on record")
        LOGIN_SUCCEEDED = "login_ok", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Wrong username or password")
        LOCKED = "locked", _("Online access locked")
        STEP_UP_SHOWN = "stepup_shown", _("Extra verification requested")
        STEP_UP_PASSED = "stepup_passed", _("Extra verification passed")
        STEP_UP_FAILED = "stepup_failed", _("Extra verification failed")
        CODE_SENT = "code_sent", _("Security code sent")
        DEVICE_REGISTERED = "device_added", _("Device registered")
        DEVICE_REMOVED = "device_removed", _("Registered device removed")
        PASSKEY_ADDED = "passkey_added", _("Passkey added")
        PASSKEY_REMOVED = "passkey_removed", _("Passkey removed")
        PASSKEY_REFUSED = "passkey_refused", _("Passkey refused")
        LOGGED_OUT = "logout", _("Logged out")
        RECOVERY_REQUESTED = "recovery_req", _("Account recovery requested")
        RECOVERY_COMPLETED = "recovery_done", _("Account recovery completed")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        QUESTIONS_CHANGED = "questions_changed", _("Challenge questions changed")
        CONTACT_CHANGED = "contact_changed", _("Contact information changed")
        TWO_STEP_CHANGED = "two_step_changed", _("Two-step verification changed")
        VEHICLE_ADDED = "vehicle_added", _("Vehicle added")
        VEHICLE_REMOVED = (
            "vehicle_removed",
            _("Vehicle removed (the loan moved to another customer)"),
        )
        NOT_ME = "not_me", _("Reported “This wasn’t me”")  # noqa: RUF001
        UNLOCKED = "unlocked", _("Online access unlocked by support")
        DISABLED = "disabled", _("Online access disabled by support")
        ENABLED = "enabled", _("Online access enabled by support")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="security_events",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    device = models.CharField(max_length=100, blank=True)  # "Chrome on Windows"
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.created_at:%Y-%m-%d %H:%M}"
