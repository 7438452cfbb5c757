"""What the session remembers about the signed-in customer's recent proof of identity."""

from __future__ import annotations

import time

from django.http import HttpRequest

from portal.conf import portal

PASSWORD_VERIFIED_AT = "security:password_verified_at"  # noqa: S105 (a session key)


def mark_password_verified(request: HttpRequest) -> None:
    """Call whenever the customer has just typed their correct password."""
    request.session[PASSWORD_VERIFIED_AT] = int(time.time())


def password_recently_verified(request: HttpRequest) -> bool:
    """True when the password was entered within the re-authentication window (ASVS 7.5.1)."""
    verified_at = request.session.get(PASSWORD_VERIFIED_AT)
    return verified_at is not None and time.time() - int(verified_at) <= portal.reauth_seconds
