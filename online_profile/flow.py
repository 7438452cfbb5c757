"""Business steps on customers and online accounts."""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from django.contrib import auth
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy

from accounts.models import LoanAccount, User, new_security_stamp
from online_profile.selectors import registered_devices_for
from portal.conf import portal
from security import two_step
from security.challenge import QUESTIONS, answer_problem, challenge_answer_rows, hash_answer
from security.codes import Channel, code_check, code_send
from security.devices import device_remove, devices_revoke_all
from security.events import record_event
from security.flow_state import Expiry, FlowState
from security.identity_check import IdentityOutcome, identity_check
from security.models import (
    ChallengeAnswer,
    Passkey,
    SecurityCode,
    SecurityEvent,
)
from security.notifications import notify
from security.passkeys import passkey_register, passkey_remove
from security.sessions import mark_password_verified

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# --- My Vehicles and My Online Profile --------------------------------------------------------------
# Each change below is one transaction that records one security event; the email naming the
# change goes out after the commit (a slow or failed delivery never undoes a saved change).


def _change(message: Promise, **values: object) -> str:
    """A notice's "change" sentence, translated when the email is rendered (in the language
    notify() renders it in), with its values filled in then."""
    return lazy(lambda: str(message) % values, str)()


# The same per-IP budget as enrollment's identity check.
VERIFY_IP_GROUP = "enrollment:verify"
CONTACT_PENDING = "profile:contact_pending"  # session key of a contact change awaiting codes


class VehicleOutcome(StrEnum):
    ADDED = "added"
    ALREADY = "already"  # the loan was on My Vehicles already
    MISMATCH = "mismatch"  # no match, or another customer's loan: the same answer
    LIMITED = "limited"


@dataclass(frozen=True)
class VehicleAdd:
    outcome: VehicleOutcome
    loan_account: LoanAccount | None = None


def vehicle_add(
    *, user: User, reference: str, tin_last4: str, birth_date: date, request: HttpRequest
) -> VehicleAdd:
    """Links another loan of the SAME customer to this online account.

    Verification is enrollment's identity check with its limits. A match on another
    customer's loan is refused with the same generic outcome as a mismatch, so the form reveals
    nothing about anyone else's data.
    """
    check = identity_check(
        tin_last4=tin_last4,
        birth_date=birth_date,
        reference=reference,
        request=request,
        ip_group=VERIFY_IP_GROUP,
        user=user,
    )
    if check.outcome == IdentityOutcome.LIMITED:
        return VehicleAdd(VehicleOutcome.LIMITED)
    account = check.loan_account
    if (
        not check.verified
        or account is None
        or user.customer_id is None
        or account.customer_id != user.customer_id
    ):
        if check.verified:  # someone else's loan: recorded like any failed verification
            record_event(SecurityEvent.Kind.VERIFY_FAILED, user=user, request=request)
        return VehicleAdd(VehicleOutcome.MISMATCH)
    with transaction.atomic():
        if user.loan_accounts.filter(pk=account.pk).exists():
            return VehicleAdd(VehicleOutcome.ALREADY, account)
        user.loan_accounts.add(account)
        record_event(
            SecurityEvent.Kind.VEHICLE_ADDED,
            user=user,
            request=request,
            detail=f"{account.vehicle.year} {account.vehicle.make} {account.vehicle.model}",
        )
    notify(
        user=user,
        kind="security_change",
        request=request,
        context={
            "change": _change(
                gettext_lazy("A vehicle was added to My Vehicles (account ending %(last4)s)"),
                last4=account.account_last4,
            )
        },
    )
    return VehicleAdd(VehicleOutcome.ADDED, account)


def profile_challenge_question_update(
    *, user: User, current: str, new_question: str, answer: str, request: HttpRequest
) -> None:
    """Replaces one challenge question's answer (and the question itself, if a new one is
    chosen). Raises ChallengeAnswer.DoesNotExist when `current` is not one of the user's."""
    if new_question not in QUESTIONS or answer_problem(answer):
        raise ValueError("unknown question or answer too short")
    answer_hash = hash_answer(answer)  # slow: before the write transaction
    with transaction.atomic():
        updated = ChallengeAnswer.objects.filter(user=user, question=current).update(
            question=new_question, answer_hash=answer_hash, updated_at=timezone.now()
        )
        if updated != 1:
            raise ChallengeAnswer.DoesNotExist
        record_event(SecurityEvent.Kind.QUESTIONS_CHANGED, user=user, request=request)
    notify(
        user=user,
        kind="security_change",
        request=request,
        context={"change": gettext_lazy("Your challenge questions were changed")},
    )


def profile_challenge_questions_reset(
    *, user: User, answers: list[tuple[str, str]], request: HttpRequest
) -> None:
    """Replaces all challenge questions and clears must_reset_challenge_questions, together."""
    rows = challenge_answer_rows(user=user, answers=answers)  # slow hashes, before the transaction
    with transaction.atomic():
        ChallengeAnswer.objects.filter(user=user).delete()
        ChallengeAnswer.objects.bulk_create(rows)
        User.objects.filter(pk=user.pk).update(must_reset_challenge_questions=False)
        record_event(SecurityEvent.Kind.QUESTIONS_CHANGED, user=user, request=request)
    user.must_reset_challenge_questions = False
    notify(
        user=user,
        kind="security_change",
        request=request,
        context={"change": gettext_lazy("Your challenge questions were replaced")},
    )


def profile_password_change(*, user: User, new_password: str, request: HttpRequest) -> None:
    """Sets a new password (the form checked the current one and the rules).

    This session stays signed in under a new key; every other session of the user ends, because
    the session hash covers the password hash (accounts.User.get_session_auth_hash). The security
    stamp is rotated too, as by a password reset: it is what ends everything else begun with the
    old password, such as a login in progress elsewhere that has passed the password step
    (signin.flow.LoginFlow).
    """
    password_hash = make_password(new_password)  # slow: before the write transaction
    stamp = new_security_stamp()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(password=password_hash, security_stamp=stamp)
        record_event(SecurityEvent.Kind.PASSWORD_CHANGED, user=user, request=request)
    user.password, user.security_stamp = password_hash, stamp
    update_session_auth_hash(request, user)
    mark_password_verified(request)
    notify(user=user, kind="password_changed", request=request)


@dataclass
class ContactChange(FlowState):
    """A new email address and/or mobile phone waiting for the codes sent to it (stored in the
    session under CONTACT_PENDING). Only a signed-in session reaches it, so it lasts as long as
    one can: portal.session_max_seconds from its start."""

    KEY = CONTACT_PENDING
    EXPIRES = Expiry.SINCE_CREATED

    flow_id: str
    email: str | None  # the new address; None: unchanged
    mobile_phone: str | None  # the new number; None: unchanged
    email_ok: bool  # proven (or unchanged)
    phone_ok: bool
    created: float = 0.0

    @classmethod
    def lifetime_seconds(cls) -> float:
        return portal.session_max_seconds


def contact_change_start(
    *, user: User, changes: dict[str, str], request: HttpRequest
) -> ContactChange | None:
    """Starts changing the email address and/or mobile phone.

    A new address takes effect only once the code sent to it is entered (contact_change_confirm);
    until then the change waits in the session. Removing the mobile phone needs no code and is
    applied at once (returns None). Raises CodeCooldown or CodeSendLimited (a limit on sending
    codes) or CodeDeliveryError (a code cannot be sent) from security.codes; nothing changes
    then.
    """
    ContactChange.clear(request)
    email = changes.get("email")
    phone = changes.get("mobile_phone")
    if email is None and phone == "":
        contact_change_apply(user=user, email=None, mobile_phone="", request=request)
        return None
    pending = ContactChange(
        flow_id=secrets.token_urlsafe(16),
        email=email,
        mobile_phone=phone,
        email_ok=email is None,
        phone_ok=not phone,
    )
    _contact_codes_send(user=user, pending=pending, request=request)
    pending.save(request)
    return pending


def contact_change_pending(request: HttpRequest) -> ContactChange | None:
    return ContactChange.load(request)


def contact_change_resend(*, user: User, request: HttpRequest) -> None:
    """Sends fresh codes for the pending change. Raises CodeCooldown (asked too soon) or
    CodeSendLimited (too many codes lately) from security.codes."""
    pending = contact_change_pending(request)
    if pending is not None:
        _contact_codes_send(user=user, pending=pending, request=request)


def _contact_codes_send(*, user: User, pending: ContactChange, request: HttpRequest) -> None:
    """The codes to the new email address and the new number: both go out or neither (a send
    that a limit of security.codes refuses undoes the other)."""
    new_addresses = [
        (Channel.EMAIL, pending.email, pending.email_ok),
        (Channel.SMS, pending.mobile_phone, pending.phone_ok),
    ]
    with transaction.atomic():
        for channel, destination, proven in new_addresses:
            if not proven:
                code_send(
                    user=user,
                    purpose=SecurityCode.Purpose.CONTACT,
                    flow_id=f"{pending.flow_id}:{channel}",
                    channel=channel,
                    destination=destination,
                    request=request,
                )


def contact_change_confirm(
    *, user: User, request: HttpRequest, email_code: str = "", phone_code: str = ""
) -> bool:
    """Checks the codes of the pending change; once every new address is proven, applies it.

    A right code is remembered even if the other one was wrong, so it need not be entered again
    (codes are single use). False while any new address is unproven.
    """
    pending = contact_change_pending(request)
    if pending is None:
        return False
    if not pending.email_ok and email_code:
        pending.email_ok = code_check(
            user=user,
            purpose=SecurityCode.Purpose.CONTACT,
            flow_id=f"{pending.flow_id}:{Channel.EMAIL}",
            code=email_code,
        )
    if not pending.phone_ok and phone_code:
        pending.phone_ok = code_check(
            user=user,
            purpose=SecurityCode.Purpose.CONTACT,
            flow_id=f"{pending.flow_id}:{Channel.SMS}",
            code=phone_code,
        )
    pending.save(request)
    if not (pending.email_ok and pending.phone_ok):
        return False
    ContactChange.clear(request)
    contact_change_apply(
        user=user, email=pending.email, mobile_phone=pending.mobile_phone, request=request
    )
    return True


def contact_change_cancel(*, request: HttpRequest) -> None:
    ContactChange.clear(request)


def contact_change_apply(
    *, user: User, email: str | None, mobile_phone: str | None, request: HttpRequest
) -> None:
    """Saves proven contact details (None: unchanged) and tells the customer at the OLD email
    address, so a takeover through a new address cannot go unnoticed."""
    old = copy.copy(user)  # notify() writes to user.email: keep the address on file until now
    fields: dict[str, str] = {}
    said: list[str] = []
    if email is not None:
        fields["email"] = email
        said.append("email address")
    if mobile_phone is not None:
        fields["mobile_phone"] = mobile_phone
        said.append("mobile phone number" if mobile_phone else "mobile phone number (removed)")
    if not fields:
        return
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(**fields)
        record_event(
            SecurityEvent.Kind.CONTACT_CHANGED,
            user=user,
            request=request,
            detail=" and ".join(said).capitalize(),
        )
    for name, value in fields.items():
        setattr(user, name, value)
    notify(
        user=old,
        kind="security_change",
        request=request,
        context={"change": _contact_change_said(email=email, mobile_phone=mobile_phone)},
    )


def _contact_change_said(*, email: str | None, mobile_phone: str | None) -> StrOrPromise:
    """The notice's sentence for a contact change: whole sentences, one per case."""
    if email is not None and mobile_phone:
        return gettext_lazy("Your email address and mobile phone number on file changed")
    if email is not None and mobile_phone is not None:
        return gettext_lazy(
            "Your email address on file changed and your mobile phone number was removed"
        )
    if email is not None:
        return gettext_lazy("Your email address on file changed")
    if mobile_phone:
        return gettext_lazy("Your mobile phone number on file changed")
    return gettext_lazy("Your mobile phone number on file was removed")


def profile_device_remove(*, user: User, device_id: int, request: HttpRequest) -> None:
    """Forgets one of the user's registered devices: its next login is asked for verification.
    Raises RegisteredDevice.DoesNotExist for a device that is not the user's."""
    name = registered_devices_for(user).filter(pk=device_id).values_list("name", flat=True).first()
    device_remove(user=user, device_id=device_id, request=request)
    notify(
        user=user,
        kind="security_change",
        request=request,
        context={
            "change": _change(gettext_lazy("A registered device (%(name)s) was removed"), name=name)
        },
    )


def profile_devices_remove_all(*, user: User, request: HttpRequest) -> int:
    removed = devices_revoke_all(user=user, request=request)
    if removed:
        notify(
            user=user,
            kind="security_change",
            request=request,
            context={"change": gettext_lazy("All your registered devices were removed")},
        )
    return removed


def profile_passkey_add(*, user: User, request: HttpRequest, response: str, name: str) -> Passkey:
    """Stores the passkey the browser just made (security.passkeys checks it) and emails the
    customer. Raises PasskeyError when the browser's answer is not accepted."""
    passkey = passkey_register(request=request, user=user, response=response, name=name)
    notify(user=user, kind="passkey_added", request=request, context={"name": passkey.name})
    return passkey


def profile_passkey_remove(*, user: User, passkey_id: int, request: HttpRequest) -> None:
    """Deletes one of the user's passkeys and emails the customer. Raises Passkey.DoesNotExist
    for a passkey that is not the user's."""
    name = passkey_remove(request=request, user=user, passkey_id=passkey_id)
    notify(user=user, kind="passkey_removed", request=request, context={"name": name})


def profile_app_confirm(*, user: User, code: str, request: HttpRequest) -> bool:
    """Confirms the authenticator app being set up; it becomes a choice at step-up."""
    if not two_step.totp_setup_confirm(user=user, code=code, request=request):
        return False
    notify(
        user=user,
        kind="security_change",
        request=request,
        context={
            "change": gettext_lazy("An authenticator app was set up for two-step verification")
        },
    )
    return True


def profile_app_remove(*, user: User, request: HttpRequest) -> bool:
    if not two_step.totp_remove(user=user, request=request):
        return False
    notify(
        user=user,
        kind="security_change",
        request=request,
        context={
            "change": gettext_lazy("Your authenticator app was removed from two-step verification")
        },
    )
    return True


def profile_backup_codes_generate(*, user: User, request: HttpRequest) -> list[str]:
    """Ten new backup codes, shown once; the earlier ones stop working."""
    codes = two_step.backup_codes_generate(user=user, request=request)
    notify(
        user=user,
        kind="security_change",
        request=request,
        context={
            "change": gettext_lazy("New backup codes were created; the earlier ones no longer work")
        },
    )
    return codes


REAUTH_FAILURES = "profile:reauth_failures"  # session key


def reauth_succeeded(*, request: HttpRequest) -> None:
    """The customer typed their password again (re-authentication, or the current password on
    Change password): sensitive changes are open for a while, the count of failures restarts."""
    request.session.pop(REAUTH_FAILURES, None)
    mark_password_verified(request)


def reauth_failed(*, user: User, request: HttpRequest) -> bool:
    """Records a wrong password at re-authentication or as the current password on Change
    password (shown in Sign-in activity); both pages count together.

    After portal.lockout_threshold wrong entries in one session the session ends (returns True):
    whoever holds a signed-in session must not get unlimited guesses at the password.
    """
    failures = int(request.session.get(REAUTH_FAILURES, 0)) + 1
    record_event(
        SecurityEvent.Kind.LOGIN_FAILED,
        user=user,
        request=request,
        detail="Wrong password when confirming a profile change",
    )
    if failures >= portal.lockout_threshold:
        auth.logout(request)
        return True
    request.session[REAUTH_FAILURES] = failures
    return False
