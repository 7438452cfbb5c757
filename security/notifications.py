"""Security notifications: an email with a single-use "This wasn't me" link, or a text message
to a customer with no email address on file.

Every email tells the customer what happened, when, from which browser and address, and what to
do if it was not them: follow the link (which locks online access and ends every session) and
call support. The link holds a 256-bit random token; only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from portal.conf import portal
from security.models import ActionToken
from security.outgoing import email_queue, sms_queue
from security.user_agents import device_name

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

KINDS = frozenset(
    {
        "lockout",
        "new_device",
        "password_changed",
        "username_reminder",
        "password_reset",
        "security_change",
        "access_restored",
        "access_set_up",
        "passkey_added",
        "passkey_removed",
    }
)
# Long enough for a customer back from a trip to act on the email, short enough that an old
# mailbox is not a drawer full of live links.
NOT_ME_LINK_DAYS = 7


def token_hash(token: str) -> str:
    """The stored form of a link token: SHA-256 suffices for 256 random bits."""
    return hashlib.sha256(token.encode()).hexdigest()


def not_me_token_create(*, user: User) -> str:
    """Creates a single-use "This wasn't me" token for `user`; returns the raw token (for the
    link only: it is not stored)."""
    token = secrets.token_urlsafe(32)
    ActionToken.objects.create(
        user=user,
        purpose=ActionToken.Purpose.NOT_ME,
        token_hash=token_hash(token),
        expires_at=timezone.now() + timedelta(days=NOT_ME_LINK_DAYS),
    )
    return token


def _absolute_url(path: str, request: HttpRequest | None) -> str:
    """An https:// URL for `path` on this portal's host (the request's, else the first allowed
    host). The portal only speaks HTTPS, so the scheme is never taken from the request."""
    if request is not None:
        host = request.get_host()
    else:
        host = next(
            (h.lstrip(".") for h in settings.ALLOWED_HOSTS if h.lstrip(".") and h != "*"),
            "localhost",
        )
    return f"https://{host}{path}"


def _language(user: User) -> str:
    """The language of a user's emails and text messages: their record's (staff: English)."""
    codes = {code for code, _name in settings.LANGUAGES}
    return user.language if not user.is_staff and user.language in codes else settings.LANGUAGE_CODE


def notify(
    *,
    user: User,
    kind: str,
    request: HttpRequest | None = None,
    context: dict[str, Any] | None = None,
) -> None:
    """Emails the customer about a security-relevant event on their online account.

    Renders templates/security/email/<kind>_subject.txt and <kind>_body.txt. `context` adds
    values for the templates: "change" (security_change: what changed, as a sentence),
    "until" (lockout: when access opens again), "name" (passkey_*: the passkey's name) and
    "by_support" (security_change, passkey_removed: our support team made the change) are
    understood.

    The templates are rendered here (they need the request's browser and address) and the email
    is queued (security.outgoing): the worker sends it once the caller's transaction commits,
    so a rolled-back change sends nothing and the request never waits for a mail server. A
    failure to queue is logged (never the address or the link) and swallowed, so it never undoes
    or breaks the caller's saved change.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown security notification kind: {kind}")
    if not user.email and not (user.mobile_phone and not user.is_staff):
        logger.warning("security notice %s not sent: user %s has no contact on file", kind, user.pk)
        return
    not_me_url = ""
    # Staff are not customers: their "wasn't me" is a call to their supervisor, not the
    # customers' link (which would hold a login they cannot use anyway).
    if user.email and not user.is_staff:
        try:
            # Its own savepoint, so a failure here leaves the caller's transaction usable.
            with transaction.atomic():
                token = not_me_token_create(user=user)
            not_me_url = _absolute_url(reverse("recovery:not_me", args=[token]), request)
        except Exception as exc:
            logger.warning(
                "security email %s for user %s: no link could be made (%s)",
                kind,
                user.pk,
                exc.__class__.__name__,
            )
    values: dict[str, Any] = {
        "lender_name": portal.lender_name,
        "support_phone": portal.support_phone,
        "support_hours": portal.support_hours,
        "user": user,
        "first_name": user.first_name,
        "when": timezone.localtime(),
        "device": device_name(request.META.get("HTTP_USER_AGENT", "")) if request else "",
        "ip": getattr(request, "client_ip", "") if request else "",
        "not_me_url": not_me_url,
        "not_me_days": NOT_ME_LINK_DAYS,
        "staff": user.is_staff,
        "kind": kind,
        **(context or {}),
    }
    try:
        # In the customer's own language (their record's), whatever the language of the
        # request: the page of whoever caused it, or the support console's.
        with translation.override(_language(user)):
            subject = " ".join(
                render_to_string(f"security/email/{kind}_subject.txt", values).split()
            )
            if user.email:
                body: str = render_to_string(f"security/email/{kind}_body.txt", values)
            else:
                # No email on file: the same news, briefly, by text message to the mobile.
                body = " ".join(render_to_string("security/sms/notice.txt", values).split())
        # Its own savepoint, like the token's: a failure leaves the caller's transaction usable.
        with transaction.atomic():
            if user.email:
                email_queue(to=user.email, subject=subject, body=body)
            else:
                sms_queue(to=user.mobile_phone, body=body)
    except Exception as exc:
        logger.warning(
            "security email %s for user %s could not be queued (%s)",
            kind,
            user.pk,
            exc.__class__.__name__,
        )
