"""Passkeys: the two WebAuthn ceremonies (py_webauthn does the cryptography) and their records.

Registration: `registration_options` makes a challenge for the signed-in customer and keeps it
in the session; `passkey_register` checks the browser's answer (this relying party id, one of
the configured origins, user verification) and stores the public key. Authentication:
`authentication_options` makes a challenge for whoever is on the Log In page;
`assertion_verify` checks the signed answer against the stored public key and the signature
counter. Each challenge is used once: it leaves the session when its answer is checked,
whatever the outcome.

Passkeys are discoverable (resident) and always ask for user verification (a PIN or biometric
on the authenticator), so a passkey alone is a phishing-resistant two-factor login. Attestation
is not requested: the portal does not restrict which authenticators customers use.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from portal.conf import portal
from security.events import record_event
from security.flow_state import Expiry, FlowState
from security.models import Passkey, SecurityEvent
from security.user_agents import device_name

if TYPE_CHECKING:
    from accounts.models import User

CEREMONY_SECONDS = 5 * 60
TIMEOUT_MS = 2 * 60 * 1000  # how long the browser waits for the authenticator (a hint)
MAX_RESPONSE_LENGTH = 64 * 1024  # a browser's answer is a few kilobytes


class PasskeyError(Exception):
    """The browser's answer was not accepted (expired or missing challenge, bad signature,
    another relying party, a known credential registered again, ...)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class _Ceremony(FlowState):
    EXPIRES = Expiry.SINCE_CREATED

    challenge: str
    created: float = 0.0

    @classmethod
    def lifetime_seconds(cls) -> float:
        return CEREMONY_SECONDS

    @classmethod
    def take(cls, request: HttpRequest) -> Any:
        """The live ceremony of this session, removed from it (used once), or PasskeyError."""
        state = cls.load(request)
        cls.clear(request)
        if state is None:
            raise PasskeyError("no live challenge")
        return state


@dataclass
class RegistrationCeremony(_Ceremony):
    KEY = "security:passkey-registration"

    user_id: int = 0
    user_handle: str = ""


@dataclass
class AuthenticationCeremony(_Ceremony):
    KEY = "security:passkey-authentication"


def passkeys_for(user: User) -> QuerySet[Passkey]:
    return Passkey.objects.filter(user=user).order_by("-created_at", "-id")


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    """The customer's passkeys as WebAuthn options name them: by credential id."""
    return [
        PublicKeyCredentialDescriptor(id=_unb64(credential_id))
        for credential_id in passkeys_for(user).values_list("credential_id", flat=True)
    ]


# --- Registration ---------------------------------------------------------------------------------
def registration_options(*, request: HttpRequest, user: User) -> str:
    """The options for navigator.credentials.create() as JSON; the challenge waits in the
    session for passkey_register."""
    # One user handle per customer, so an authenticator replaces its old passkey for this
    # account instead of keeping two; random, so it tells nothing about the customer.
    handle = passkeys_for(user).values_list("user_handle", flat=True).first() or _b64(
        secrets.token_bytes(32)
    )
    options = generate_registration_options(
        rp_id=portal.webauthn_rp_id,
        rp_name=portal.lender_name,
        user_id=_unb64(handle),
        user_name=user.get_username(),
        user_display_name=user.get_username(),
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(user),
    )
    RegistrationCeremony(
        challenge=_b64(options.challenge), user_id=user.pk, user_handle=handle
    ).save(request)
    return options_to_json(options)


def default_name(request: HttpRequest) -> str:
    """What a new passkey is called unless the customer names it: the browser it was made in."""
    return device_name(request.META.get("HTTP_USER_AGENT", ""))


def passkey_register(*, request: HttpRequest, user: User, response: str, name: str) -> Passkey:
    """Checks the browser's answer to registration_options and stores the passkey (recording
    PASSKEY_ADDED in the caller's transaction). Raises PasskeyError."""
    ceremony = RegistrationCeremony.take(request)
    if ceremony.user_id != user.pk or len(response) > MAX_RESPONSE_LENGTH:
        raise PasskeyError("not this customer's ceremony")
    try:
        verified = verify_registration_response(
            credential=response,
            expected_challenge=_unb64(ceremony.challenge),
            expected_rp_id=portal.webauthn_rp_id,
            expected_origin=portal.webauthn_origins,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyError(exc.__class__.__name__) from None
    try:
        with transaction.atomic():
            passkey = Passkey.objects.create(
                user=user,
                credential_id=_b64(verified.credential_id),
                public_key=verified.credential_public_key,
                user_handle=ceremony.user_handle,
                sign_count=verified.sign_count,
                backup_eligible=verified.credential_device_type == "multi_device",
                backed_up=verified.credential_backed_up,
                aaguid=str(verified.aaguid)[:36],
                name=name.strip()[:100] or default_name(request),
            )
            record_event(
                SecurityEvent.Kind.PASSKEY_ADDED, user=user, request=request, detail=passkey.name
            )
    except IntegrityError:  # the credential is already registered (to anyone)
        raise PasskeyError("credential already registered") from None
    return passkey


def passkey_remove(*, request: HttpRequest | None, user: User, passkey_id: int) -> str:
    """Deletes one of the user's passkeys and records PASSKEY_REMOVED; returns its name. Raises
    Passkey.DoesNotExist for a passkey that is not the user's."""
    with transaction.atomic():
        passkey = passkeys_for(user).select_for_update().get(pk=passkey_id)
        passkey.delete()
        record_event(
            SecurityEvent.Kind.PASSKEY_REMOVED, user=user, request=request, detail=passkey.name
        )
    return passkey.name


def passkeys_remove_all(*, user: User, request: HttpRequest | None = None) -> int:
    """Deletes every passkey of `user` ("This wasn't me", support's removal of devices and
    passkeys) and records one PASSKEY_REMOVED; returns how many there were."""
    with transaction.atomic():
        removed, _ = Passkey.objects.filter(user=user).delete()
        if removed:
            record_event(
                SecurityEvent.Kind.PASSKEY_REMOVED,
                user=user,
                request=request,
                detail=f"All passkeys ({removed})",
            )
    return removed


# --- Authentication -------------------------------------------------------------------------------
def authentication_options(*, request: HttpRequest) -> str:
    """The options for navigator.credentials.get() as JSON: no credentials listed (the passkey
    is discoverable, so the browser offers the customer's own), user verification required."""
    options = generate_authentication_options(
        rp_id=portal.webauthn_rp_id,
        timeout=TIMEOUT_MS,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    AuthenticationCeremony(challenge=_b64(options.challenge)).save(request)
    return options_to_json(options)


def authentication_options_for(user: User) -> tuple[str, str]:
    """The options for navigator.credentials.get() when the customer is already known (the
    step-up of a login in progress): only their own passkeys are listed, user verification is
    required. Returns the JSON and the challenge, which the caller keeps with its flow and hands
    to assertion_verify (once)."""
    options = generate_authentication_options(
        rp_id=portal.webauthn_rp_id,
        timeout=TIMEOUT_MS,
        user_verification=UserVerificationRequirement.REQUIRED,
        allow_credentials=_descriptors(user),
    )
    return options_to_json(options), _b64(options.challenge)


class AssertionOutcome(StrEnum):
    VERIFIED = "verified"
    UNKNOWN = "unknown"  # no passkey with this credential id (or the answer could not be read)
    INVALID = "invalid"  # a known passkey, but the answer does not verify
    COUNTER_REGRESSED = "counter_regressed"  # verified, but the counter went backwards: a clone?


@dataclass
class Assertion:
    outcome: AssertionOutcome
    passkey: Passkey | None = None


def assertion_passkey(response: str) -> Passkey | None:
    """The stored passkey the browser's answer names (None: unknown or unreadable)."""
    if len(response) > MAX_RESPONSE_LENGTH:
        return None
    try:
        credential = parse_authentication_credential_json(response)
    except (WebAuthnException, ValueError, KeyError, TypeError):
        return None
    return (
        Passkey.objects.filter(credential_id=_b64(credential.raw_id)).select_related("user").first()
    )


def assertion_challenge(request: HttpRequest) -> str | None:
    """The challenge authentication_options left in the session, taken out of it (each is
    checked once); None when there is none or it has expired."""
    try:
        return str(AuthenticationCeremony.take(request).challenge)
    except PasskeyError:
        return None


def assertion_verify(*, challenge: str, passkey: Passkey, response: str) -> Assertion:
    """Checks the browser's answer to authentication_options against `passkey` (from
    assertion_passkey): the challenge (from assertion_challenge), this relying party id, a configured origin,
    user verification, the passkey's user handle and signature, then the signature counter,
    which must go up unless the authenticator keeps none (0). A verified answer notes the new
    counter, the backup state and the time of use. The caller records what went wrong."""
    try:
        credential = parse_authentication_credential_json(response)
        handle = credential.response.user_handle
        if handle is not None and handle != _unb64(passkey.user_handle):
            raise PasskeyError("another account's user handle")
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=_unb64(challenge),
            expected_rp_id=portal.webauthn_rp_id,
            expected_origin=portal.webauthn_origins,
            credential_public_key=bytes(passkey.public_key),
            # The counter is checked below, on the locked row, where a regression is told apart
            # from a bad signature.
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except (PasskeyError, WebAuthnException, ValueError, KeyError, TypeError):
        return Assertion(AssertionOutcome.INVALID, passkey)
    with transaction.atomic():
        row = Passkey.objects.select_for_update().filter(pk=passkey.pk).first()
        if row is None:  # removed meanwhile
            return Assertion(AssertionOutcome.UNKNOWN)
        count = verified.new_sign_count
        if (count > 0 or row.sign_count > 0) and count <= row.sign_count:
            return Assertion(AssertionOutcome.COUNTER_REGRESSED, row)
        row.sign_count = count
        row.backed_up = verified.credential_backed_up
        row.last_used_at = timezone.now()
        row.save(update_fields=["sign_count", "backed_up", "last_used_at"])
    return Assertion(AssertionOutcome.VERIFIED, row)
