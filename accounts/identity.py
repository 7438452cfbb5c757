"""Keyed hashing of the identity data customers prove themselves with.

The values are checked and normalised by the rules in accounts.fields first.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

from django.db.models import Q, QuerySet

from accounts.fields import normalize_reference
from accounts.models import LoanAccount
from portal.conf import portal


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
