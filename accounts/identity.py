"""Normalising and keyed hashing of the identity data customers prove themselves with."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

from django.db.models import Q, QuerySet

from accounts.models import LoanAccount
from portal.conf import portal

_VIN_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_PATTERN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


def normalize_reference(value: str) -> str:
    """An account number or VIN as typed: case and spaces (and dashes) ignored."""
    return re.sub(r"[\s-]", "", value or "").upper()


def looks_like_vin(value: str) -> bool:
    return len(value) == 17 and not value.isdigit()


def vin_problem(vin: str) -> str | None:
    """Why this is not a valid VIN (ISO 3779 with the North American check digit), or None."""
    if len(vin) != 17:
        return "A VIN has 17 characters."
    if any(ch in "IOQ" for ch in vin):
        return "A VIN never contains the letters I, O or Q."
    if not VIN_PATTERN.match(vin):
        return "A VIN has only letters and digits."
    total = sum(_VIN_TRANSLITERATION[ch] * w for ch, w in zip(vin, _VIN_WEIGHTS, strict=True))
    expected = "X" if total % 11 == 10 else str(total % 11)
    if vin[8] != expected:
        return "This VIN's check digit does not match; please check each character."
    return None


def vin_check_digit(vin_without_check: str) -> str:
    """The check digit for a 17-character VIN whose 9th character is a placeholder."""
    total = sum(
        _VIN_TRANSLITERATION[ch] * w
        for i, (ch, w) in enumerate(zip(vin_without_check, _VIN_WEIGHTS, strict=True))
        if i != 8
    )
    return "X" if total % 11 == 10 else str(total % 11)


def identity_digest(tin_last4: str, birth_date: date) -> str:
    """HMAC-SHA256 of the last 4 TIN digits and the birth date under a key kept outside the DB."""
    message = f"{tin_last4}|{birth_date.isoformat()}".encode()
    return hmac.new(portal.identity_key, message, hashlib.sha256).hexdigest()


def reference_key(reference: str) -> str:
    """A keyed hash of a normalised account number or VIN, for attempt counting."""
    return hmac.new(
        portal.identity_key, b"ref|" + normalize_reference(reference).encode(), hashlib.sha256
    ).hexdigest()


def loan_accounts_matching(reference: str) -> QuerySet[LoanAccount]:
    """The loan accounts whose account number or VIN is `reference` (as typed), with their
    customer and vehicle."""
    ref = normalize_reference(reference)
    return LoanAccount.objects.select_related("customer", "vehicle").filter(
        Q(account_number=ref) | Q(vehicle__vin=ref)
    )
