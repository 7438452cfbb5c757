"""One-time security codes sent by email or text message.

A code is 6 digits from `secrets`, bound to one flow (a login attempt, a recovery, a contact
change, an enrollment): only an HMAC over owner, purpose, flow id and code is stored, so a copy
of the database reveals no code and a code from one attempt is worthless in another. The owner is
the online user, or (`customer=`) the servicing customer who is enrolling and has no online
account yet; such a code goes to the contact on the customer's record. A code is valid for
PORTAL_CODE_TTL_SECONDS, used at most once (a conditional UPDATE claims it, so two parallel
submissions cannot both pass), void after PORTAL_CODE_MAX_ATTEMPTS wrong entries and void once a
newer code of the same flow has been sent.

Every send, whatever the flow, passes three limits besides the flow's own resend interval, so no
page can be used to pump email or text messages: one address gets at most one code per
PORTAL_CODE_RESEND_SECONDS, one owner at most PORTAL_CODE_MAX_PER_HOUR codes per rolling hour,
and one client IP at most PORTAL_CODE_SEND_IP_RATE.
"""

from __future__ import annotations

import contextlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts import fields
from accounts.models import Customer
from portal.conf import portal
from security.events import record_event
from security.models import SENT_CHANNELS, Channel, CodeDestination, SecurityCode, SecurityEvent
from security.outgoing import email_queue, sms_queue
from security.ratelimits import ip_limit_reached

if TYPE_CHECKING:
    from accounts.models import User


CODE_DIGITS = 6
_CODE_PATTERN = re.compile(r"^[0-9]{6}$")
_HMAC_SALT = "security.codes.SecurityCode"
_DESTINATION_SALT = "security.codes.CodeDestination"
SEND_IP_GROUP = "codes:send"  # every code sent, all flows together, per client IP

__all__ = [
    "SENT_CHANNELS",
    "Channel",
    "CodeCooldown",
    "CodeDeliveryError",
    "CodeSendLimited",
    "CodeSendRefused",
    "channel_choice_label",
    "channels_on_file",
    "code_check",
    "code_cooldown_left",
    "code_live",
    "code_send",
    "default_destination",
    "mask_email",
    "mask_phone",
]


class CodeSendRefused(Exception):
    """No code was sent because a limit on sending says not now (nothing changed)."""


class CodeCooldown(CodeSendRefused):
    """A code of this flow, or to this address, was sent moments ago; the customer may ask again
    in `seconds_left` seconds."""

    def __init__(self, seconds_left: int) -> None:
        super().__init__(f"a new code can be sent in {seconds_left} seconds")
        self.seconds_left = seconds_left

    @property
    def message(self) -> str:
        """What the page says next to the form (one wording for every flow), in the active
        language."""
        return ngettext(
            "We just sent you a code. You can ask for a new one in %(seconds)d second.",
            "We just sent you a code. You can ask for a new one in %(seconds)d seconds.",
            self.seconds_left,
        ) % {"seconds": self.seconds_left}


class CodeSendLimited(CodeSendRefused):
    """The owner's hourly number of codes, or the client IP's, is used up: try again later."""

    MESSAGE = gettext_lazy(
        "We have sent as many security codes as we can for now. For your security, please try "
        "again later, or call us at %(phone)s."
    )

    @property
    def message(self) -> str:
        """What the page says next to the form (one wording for every flow), in the active
        language."""
        return str(self.MESSAGE) % {"phone": portal.support_phone}


class CodeDeliveryError(Exception):
    """The email or text message could not be handed over (or there is no address on file)."""


@dataclass(frozen=True)
class _Owner:
    """Whose codes: an online user's, or an enrolling customer's (who has no user yet)."""

    record: User | Customer
    rows: dict[str, Any]  # the filter on SecurityCode that finds this owner's codes
    key: str  # the owner's part of the HMAC

    @classmethod
    def of(cls, user: User | None, customer: Customer | None) -> _Owner:
        if user is not None and customer is None:
            # A user's key is their pk, as it always was (codes already sent stay valid).
            return cls(record=user, rows={"user": user}, key=str(user.pk))
        if customer is not None and user is None:
            return cls(
                record=customer,
                rows={"customer": customer, "user__isnull": True},
                key=f"customer:{customer.pk}",
            )
        raise ValueError("a code belongs to a user or, before enrollment, to a customer")

    def lock(self) -> None:
        """Serialises this owner's sends on its row (inside the caller's transaction)."""
        model = Customer if isinstance(self.record, Customer) else get_user_model()
        model.objects.select_for_update().filter(pk=self.record.pk).first()


def _cooldown_check(sent_at: Any, now: Any) -> None:
    """Raises CodeCooldown when `sent_at` is less than the resend interval before `now`."""
    elapsed = (now - sent_at).total_seconds()
    if elapsed < portal.code_resend_seconds:
        raise CodeCooldown(max(1, math.ceil(portal.code_resend_seconds - elapsed)))


def _destination_key(channel: Channel, destination: str) -> str:
    """The key of an address in CodeDestination: an HMAC of its normal form (an email address in
    lower case; a phone number in E.164), so "Dana@Example.com" and "dana@example.com", or
    "(201) 555-0123" and "+12015550123", are one address."""
    if channel == Channel.EMAIL:
        normal = destination.strip().lower()
    else:
        try:
            normal = fields.mobile_phone(destination)
        except ValidationError:
            normal = "+" + re.sub(r"\D", "", destination)
    return salted_hmac(_DESTINATION_SALT, f"{channel}|{normal}", algorithm="sha256").hexdigest()


def _digest(*, owner: str, purpose: str, flow_id: str, code: str) -> str:
    return salted_hmac(
        _HMAC_SALT, f"{owner}|{purpose}|{flow_id}|{code}", algorithm="sha256"
    ).hexdigest()


def _normalize(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "")


def mask_email(email: str) -> str:
    """ "dana@example.com" -> "d***@example.com" (enough to recognise, not to harvest)."""
    local, _, domain = (email or "").partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    """ "+12015550123" -> "(***) ***-0123"."""
    digits = re.sub(r"\D", "", phone or "")
    return f"(***) ***-{digits[-4:]}" if len(digits) >= 4 else "(***) ***-****"


def default_destination(user: User | Customer, channel: Channel) -> str:
    """The address on file (a user's, or a customer's on the servicing record) for `channel`."""
    return (user.email if channel == Channel.EMAIL else user.mobile_phone) or ""


def channels_on_file(user: User | Customer) -> list[Channel]:
    """Where a code can be sent: the email address and the mobile phone on file (a user's, or a
    customer's on the servicing record)."""
    channels = []
    if user.email:
        channels.append(Channel.EMAIL)
    if user.mobile_phone:
        channels.append(Channel.SMS)
    return channels


def channel_choice_label(channel: Channel, *, email: str = "", phone: str = "") -> str:
    """How a channel reads as a choice on a form: where the code goes, masked."""
    if channel == Channel.EMAIL:
        return _("Email to %(address)s") % {"address": mask_email(email)}
    if channel == Channel.SMS:
        return _("Text message to %(number)s") % {"number": mask_phone(phone)}
    return Channel.APP.label


def _deliver(
    *, channel: Channel, destination: str, code: str, purpose: str, language: str | None
) -> None:
    """Queues the code's email or text message in the caller's transaction: the worker sends it
    after the commit (security.outgoing), never inside the request. Written in `language`, or
    (None) in the request's language."""
    context = {
        "code": code,
        "purpose": purpose,
        "minutes": max(1, portal.code_ttl_seconds // 60),
        "lender_name": portal.lender_name,
        "support_phone": portal.support_phone,
    }
    with translation.override(language) if language else contextlib.nullcontext():
        if channel == Channel.EMAIL:
            subject = str(render_to_string("security/code/email_subject.txt", context)).strip()
            body = str(render_to_string("security/code/email_body.txt", context))
        else:
            text = " ".join(render_to_string("security/code/sms.txt", context).split())
    if channel == Channel.EMAIL:
        email_queue(to=destination, subject=subject, body=body)
    else:
        sms_queue(to=destination, body=text)


def code_send(
    *,
    user: User | None = None,
    customer: Customer | None = None,
    purpose: str,
    flow_id: str,
    channel: Channel,
    destination: str | None = None,
    request: HttpRequest | None = None,
) -> SecurityCode:
    """Sends a new code for `flow_id` and returns its row.

    The code belongs to `user`, or to `customer` (enrollment: no online account exists yet);
    without `destination` it goes to their address on file for `channel`. Raises CodeCooldown
    when the previous code of this flow, or any code to this address (compared normalised), went
    out less than PORTAL_CODE_RESEND_SECONDS ago; CodeSendLimited when the owner was sent
    PORTAL_CODE_MAX_PER_HOUR codes in the last hour or, with `request`, the client IP has used up
    PORTAL_CODE_SEND_IP_RATE; CodeDeliveryError when there is no address on file for the
    channel. Sends of one owner are serialised on its row and sends to one address on its
    CodeDestination row, so parallel requests cannot slip past any of these. The code, its
    message, the voiding of every earlier code of the flow and CODE_SENT are one transaction;
    the message goes out after the commit, from the worker (a provider's failure is retried
    there, not shown to this request).
    """
    if channel not in SENT_CHANNELS:
        raise ValueError(f"no code is sent by channel {channel!r}")
    if purpose not in SecurityCode.Purpose.values:
        raise ValueError(f"unknown purpose {purpose!r}")
    owner = _Owner.of(user, customer)
    destination = destination or default_destination(owner.record, channel)
    if not destination:
        raise CodeDeliveryError("no address on file for this channel")
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = timezone.now()
    with transaction.atomic():
        owner.lock()
        last = (
            SecurityCode.objects.filter(**owner.rows, purpose=purpose, flow_id=flow_id)
            .order_by("-created_at", "-id")
            .first()
        )
        if last is not None:
            _cooldown_check(last.created_at, now)
        if (
            SecurityCode.objects.filter(
                **owner.rows, created_at__gt=now - timedelta(hours=1)
            ).count()
            >= portal.code_max_per_hour
        ):
            raise CodeSendLimited("this owner's codes for the hour are used up")
        sent_there, _ = CodeDestination.objects.select_for_update().get_or_create(
            destination_key=_destination_key(channel, destination),
            defaults={"last_sent_at": now - timedelta(seconds=portal.code_resend_seconds)},
        )
        _cooldown_check(sent_there.last_sent_at, now)
        # Last, so that only sends every other limit allows count against the client IP.
        if request is not None and ip_limit_reached(
            request, SEND_IP_GROUP, portal.code_send_ip_rate
        ):
            raise CodeSendLimited("this client IP's codes are used up")
        CodeDestination.objects.filter(pk=sent_there.pk).update(last_sent_at=now)
        row = SecurityCode.objects.create(
            user=user,
            customer=customer if user is None else None,
            purpose=purpose,
            flow_id=flow_id,
            channel=channel,
            destination=destination,
            code_hash=_digest(owner=owner.key, purpose=purpose, flow_id=flow_id, code=code),
            created_at=now,
            expires_at=now + timedelta(seconds=portal.code_ttl_seconds),
        )
        _deliver(
            channel=channel,
            destination=destination,
            code=code,
            purpose=purpose,
            # A user's own language; an enrolling customer has no user yet, so their code goes
            # out in the language of the pages they are enrolling on.
            language=user.language if user is not None else None,
        )
        SecurityCode.objects.filter(
            **owner.rows,
            purpose=purpose,
            flow_id=flow_id,
            used_at__isnull=True,
            voided_at__isnull=True,
        ).exclude(pk=row.pk).update(voided_at=timezone.now())
        record_event(
            SecurityEvent.Kind.CODE_SENT,
            user=user,
            request=request,
            detail=f"{Channel(channel).record_label} for {purpose}",
            channel=channel,
        )
    return row


def code_check(
    *,
    user: User | None = None,
    customer: Customer | None = None,
    purpose: str,
    flow_id: str,
    code: str,
) -> bool:
    """True exactly once for the live code of this flow (of `user`, or of `customer`).

    The newest unused, unvoided, unexpired code of the flow is found by (owner, purpose, flow id),
    never by the code; the HMAC of what was typed is compared in constant time. A match is
    claimed with a conditional UPDATE (used_at IS NULL ...), so parallel submissions of one code
    pass at most once. A miss counts against that code, which is void after
    PORTAL_CODE_MAX_ATTEMPTS misses.
    """
    owner = _Owner.of(user, customer)
    now = timezone.now()
    live = SecurityCode.objects.filter(
        **owner.rows,
        purpose=purpose,
        flow_id=flow_id,
        used_at__isnull=True,
        voided_at__isnull=True,
        expires_at__gt=now,
        wrong_attempts__lt=portal.code_max_attempts,
    )
    candidate = live.order_by("-created_at", "-id").first()
    if candidate is None:
        return False
    typed = _normalize(code)
    expected = candidate.code_hash
    actual = _digest(owner=owner.key, purpose=purpose, flow_id=flow_id, code=typed)
    if _CODE_PATTERN.match(typed) and hmac.compare_digest(expected, actual):
        return live.filter(pk=candidate.pk).update(used_at=now) == 1
    with transaction.atomic():
        SecurityCode.objects.filter(pk=candidate.pk).update(wrong_attempts=F("wrong_attempts") + 1)
        SecurityCode.objects.filter(
            pk=candidate.pk,
            wrong_attempts__gte=portal.code_max_attempts,
            voided_at__isnull=True,
        ).update(voided_at=now)
    return False


def code_live(
    *,
    user: User | None = None,
    customer: Customer | None = None,
    purpose: str,
    flow_id: str,
) -> SecurityCode | None:
    """The code the customer can still enter for this flow, if any (for the page's wording)."""
    return (
        SecurityCode.objects.filter(
            **_Owner.of(user, customer).rows,
            purpose=purpose,
            flow_id=flow_id,
            used_at__isnull=True,
            voided_at__isnull=True,
            expires_at__gt=timezone.now(),
            wrong_attempts__lt=portal.code_max_attempts,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def code_cooldown_left(
    *,
    user: User | None = None,
    customer: Customer | None = None,
    purpose: str,
    flow_id: str,
) -> int:
    """Seconds until a new code of this flow may be sent (0: now)."""
    last = (
        SecurityCode.objects.filter(
            **_Owner.of(user, customer).rows, purpose=purpose, flow_id=flow_id
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if last is None:
        return 0
    elapsed = (timezone.now() - last.created_at).total_seconds()
    return max(0, math.ceil(portal.code_resend_seconds - elapsed))
