"""Two-step verification the customer sets up themselves: an authenticator app (TOTP, RFC 6238,
through django-otp's TOTPDevice) and single-use backup codes.

Both become choices at step-up once set up. Nothing here sends email: the profile services that
call these functions notify the customer after the change is saved.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import math
import re
import secrets
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.conf import portal
from security.events import record_event
from security.models import BackupCode, SecurityEvent

if TYPE_CHECKING:
    from accounts.models import User

APP_DEVICE_NAME = "Authenticator app"
TOTP_DIGITS = 6
_TOTP_PATTERN = re.compile(r"^[0-9]{6}$")

BACKUP_CODE_COUNT = 10
# Crockford's base32 alphabet (no I, L, O, U): 28 characters carry 140 random bits (>= 128).
BACKUP_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BACKUP_CODE_LENGTH = 28
BACKUP_CODE_GROUP = 4
# What people mistype for Crockford characters.
_BACKUP_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


# --- Authenticator app (TOTP) -------------------------------------------------------------------
def totp_device_for(user: User) -> TOTPDevice | None:
    """The customer's confirmed authenticator app, if they set one up."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()
        if user.pk
        else None
    )


def totp_pending_device(user: User) -> TOTPDevice | None:
    """The app being set up (shown as QR code and key, not yet confirmed by a code)."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()


def totp_setup_begin(*, user: User) -> TOTPDevice:
    """Starts (or restarts) setting up an authenticator app: a fresh random key, unconfirmed.

    Nothing changes for sign-in until the customer confirms it with a code from the app.
    """
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(
            user=user, name=APP_DEVICE_NAME, confirmed=False, digits=TOTP_DIGITS
        )


def _verify_locked(device_id: int, code: str) -> bool:
    """Verifies with the device row locked, so two parallel submissions of one code cannot both
    pass: the second sees the first's last_t and is refused as a replay."""
    code = (code or "").strip()
    if not _TOTP_PATTERN.match(code):
        return False
    device = TOTPDevice.objects.select_for_update().get(pk=device_id)
    return bool(device.verify_token(code))


def totp_wait_seconds(*, user: User, pending: bool = False) -> int:
    """Seconds before django-otp checks another code of the customer's app (0: now), or of the
    app being set up with `pending`. After wrong codes django-otp refuses every code, the right
    one too, for 1, 2, 4... seconds (verify_is_allowed): the page must say "wait", not "wrong"."""
    device = totp_pending_device(user) if pending else totp_device_for(user)
    if device is None:
        return 0
    allowed, details = device.verify_is_allowed()
    if allowed or not details or details.get("locked_until") is None:
        return 0
    return max(1, math.ceil((details["locked_until"] - timezone.now()).total_seconds()))


def totp_wait_message(seconds: int) -> str:
    """What the customer reads while django-otp is throttling their app's codes."""
    return ngettext(
        "Too many codes were tried just now. Wait %(seconds)d second, then enter the code "
        "your app shows.",
        "Too many codes were tried just now. Wait %(seconds)d seconds, then enter the code "
        "your app shows.",
        seconds,
    ) % {"seconds": seconds}


def totp_verify(*, user: User, code: str) -> bool:
    """True when `code` is the current code of the customer's confirmed app.

    A code is accepted once: django-otp keeps the time step of the last accepted code (last_t)
    and refuses that step and any earlier one. Wrong codes are throttled by django-otp
    (exponential delay); the caller counts them toward lockout as well.
    """
    device = totp_device_for(user)
    if device is None:
        return False
    with transaction.atomic():
        return _verify_locked(device.pk, code)


def totp_setup_confirm(*, user: User, code: str, request: HttpRequest | None = None) -> bool:
    """Confirms the pending app with a code from it; it then replaces any earlier app.

    Records TWO_STEP_CHANGED in the same transaction. False (nothing changes) if the code is
    wrong or nothing is pending.
    """
    pending = totp_pending_device(user)
    if pending is None:
        return False
    with transaction.atomic():
        if not _verify_locked(pending.pk, code):
            return False
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        TOTPDevice.objects.filter(pk=pending.pk).update(confirmed=True)
        record_event(
            SecurityEvent.Kind.TWO_STEP_CHANGED,
            user=user,
            request=request,
            detail="Authenticator app set up",
        )
    return True


def totp_remove(*, user: User, request: HttpRequest | None = None) -> bool:
    """Removes the customer's authenticator app (confirmed or pending). False if there was none."""
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        if not removed:
            return False
        record_event(
            SecurityEvent.Kind.TWO_STEP_CHANGED,
            user=user,
            request=request,
            detail="Authenticator app removed",
        )
    return True


def totp_key_text(device: TOTPDevice) -> str:
    """The key as base32 in groups of four, for typing into an app by hand."""
    encoded = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def totp_config_url(device: TOTPDevice) -> str:
    """The otpauth:// URI apps read from the QR code (Key Uri Format)."""
    issuer = portal.lender_name.replace(":", "")
    label = quote(f"{issuer}:{device.user.get_username()}")
    # SHA-1, 6 digits and 30 seconds are every app's defaults: left out, the QR code is smaller.
    params = urlencode(
        {"secret": base64.b32encode(device.bin_key).decode().rstrip("="), "issuer": issuer},
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{params}"


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The QR code as an SVG data: URI, drawn on the server (no script; CSP allows data: images)."""
    # Imported here, not at the top: only setting up an authenticator app draws a QR code, and
    # segno's modules would otherwise sit in every worker (~0.7 MB each).
    import segno

    buffer = io.BytesIO()
    segno.make(totp_config_url(device), error="l").save(
        buffer, kind="svg", scale=4, border=4, xmldecl=False
    )
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


# --- Backup codes -------------------------------------------------------------------------------
def _normalize_backup_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").upper().translate(_BACKUP_LOOKALIKES)


def _hash_backup_code(normalized: str) -> str:
    # 140 random bits cannot be guessed, so a fast hash is enough; the salt-free hash is only
    # compared, never used to look a row up.
    return hashlib.sha256(normalized.encode()).hexdigest()


def format_backup_code(code: str) -> str:
    return " ".join(code[i : i + BACKUP_CODE_GROUP] for i in range(0, len(code), BACKUP_CODE_GROUP))


def backup_codes_generate(*, user: User, request: HttpRequest | None = None) -> list[str]:
    """Creates ten new single-use codes and voids every earlier one, in one transaction.

    Returns the codes (formatted in groups) to show once; only their SHA-256 is kept.
    """
    codes = [
        "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))
        for _ in range(BACKUP_CODE_COUNT)
    ]
    with transaction.atomic():
        BackupCode.objects.filter(user=user).delete()
        BackupCode.objects.bulk_create(
            BackupCode(user=user, code_hash=_hash_backup_code(code)) for code in codes
        )
        record_event(
            SecurityEvent.Kind.TWO_STEP_CHANGED,
            user=user,
            request=request,
            detail="Backup codes generated",
        )
    return [format_backup_code(code) for code in codes]


def backup_codes_remaining(user: User) -> int:
    return BackupCode.objects.filter(user=user, used_at__isnull=True).count()


def backup_code_use(*, user: User, code: str) -> bool:
    """True (and the code is spent) when `code` is one of the customer's unused backup codes.

    Every unused code's hash is compared in constant time; the row is then claimed with a
    conditional UPDATE, so two parallel submissions of one code succeed at most once.
    """
    normalized = _normalize_backup_code(code)
    if len(normalized) != BACKUP_CODE_LENGTH:
        return False
    candidate = _hash_backup_code(normalized)
    matched: int | None = None
    for pk, code_hash in BackupCode.objects.filter(user=user, used_at__isnull=True).values_list(
        "pk", "code_hash"
    ):
        if hmac.compare_digest(code_hash, candidate):
            matched = pk
    if matched is None:
        return False
    claimed = BackupCode.objects.filter(pk=matched, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    return claimed == 1
