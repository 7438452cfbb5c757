"""My Vehicles and My Online Profile. Views pick a form, hand valid data to one service and
redirect; everything is looked up through request.user."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from online_profile import flow, selectors
from online_profile.decorators import reauth_required
from online_profile.flow import VehicleOutcome
from online_profile.forms import (
    WRONG_PASSWORD,
    AppCodeForm,
    ChallengeQuestionsResetForm,
    ChallengeQuestionUpdateForm,
    ContactConfirmForm,
    ContactForm,
    PasswordChangeForm,
    ReauthForm,
    VehicleAddForm,
    forget,
)
from portal.conf import portal
from security import two_step
from security.challenge import question_text
from security.codes import (
    CodeCooldown,
    CodeDeliveryError,
    CodeSendLimited,
    mask_email,
    mask_phone,
)
from security.devices import device_for_request
from security.models import Passkey, RegisteredDevice
from security.passkey_forms import PasskeyAddForm
from security.passkeys import PasskeyError, passkeys_for, registration_options
from security.ratelimits import ip_limit_reached, too_many_attempts
from security.redirects import safe_next_url

GET_POST = ["GET", "POST"]
ESIGN_TEMPLATE = "partials/esign_disclosure.html"
REAUTH_IP_GROUP = "profile:reauth"
CONTACT_UPDATED = gettext_lazy("Your contact information was updated.")
PASSKEY_NOT_ADDED = gettext_lazy(
    "Your passkey could not be added. Please try again, with a browser or device that supports "
    "passkeys."
)


def _user(request: HttpRequest) -> Any:
    return request.user


# --- My Vehicles ----------------------------------------------------------------------------------
@login_required
@require_GET
def vehicles(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "profile/vehicles.html",
        {"accounts": selectors.vehicle_accounts_for(_user(request))},
    )


@login_required
@require_http_methods(GET_POST)
def add_vehicle(request: HttpRequest) -> HttpResponse:
    form = VehicleAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = flow.vehicle_add(
            user=_user(request),
            reference=form.cleaned_data["reference"],
            tin_last4=form.cleaned_data["tin_last4"],
            birth_date=form.cleaned_data["birth_date"],
            request=request,
        )
        on_my_vehicles = result.outcome in {VehicleOutcome.ADDED, VehicleOutcome.ALREADY}
        if on_my_vehicles and result.loan_account is not None:
            vehicle = result.loan_account.vehicle
            names = {"year": vehicle.year, "make": vehicle.make, "model": vehicle.model}
            if result.outcome is VehicleOutcome.ADDED:
                said = _("Your %(year)s %(make)s %(model)s was added to My Vehicles.") % names
            else:
                said = _("Your %(year)s %(make)s %(model)s is already on My Vehicles.") % names
            messages.success(request, said)
            return redirect("profile:vehicles")
        if result.outcome is VehicleOutcome.LIMITED:
            form.add_error(
                None,
                _(
                    "Too many attempts. For your security, please wait before trying again, or "
                    "call us at %(phone)s."
                )
                % {"phone": portal.support_phone},
            )
        else:
            # Never says which of the three values did not match, nor whose loan it is.
            form.add_error(
                None,
                _(
                    "We could not match this information to a loan of yours. Please check it and "
                    "try again."
                ),
            )
    if form.is_bound:
        forget(form, "tin_last4", "birth_date")
    return render(request, "profile/add_vehicle.html", {"form": form})


# --- My Online Profile ----------------------------------------------------------------------------
@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "profile/profile.html",
        {
            "questions": [question_text(q) for q in selectors.challenge_questions_for(user)],
            "device_count": selectors.registered_devices_for(user).count(),
            "app": two_step.totp_device_for(user),
            "backup_codes_left": two_step.backup_codes_remaining(user),
            "consent": selectors.esign_consent_for(user),
        },
    )


@reauth_required
@require_http_methods(GET_POST)
def challenge_questions(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.must_reset_challenge_questions:
        return _challenge_questions_reset(request, user)
    form = ChallengeQuestionUpdateForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        flow.profile_challenge_question_update(
            user=user,
            current=form.cleaned_data["current"],
            new_question=form.cleaned_data["new_question"],
            answer=form.cleaned_data["answer"],
            request=request,
        )
        messages.success(request, _("Your challenge question was updated."))
        return redirect("profile:challenge_questions")
    return render(
        request,
        "profile/challenge_questions.html",
        {"form": form, "questions": [question_text(row.question) for row in form.rows]},
    )


def _challenge_questions_reset(request: HttpRequest, user: Any) -> HttpResponse:
    form = ChallengeQuestionsResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        flow.profile_challenge_questions_reset(user=user, answers=form.answers(), request=request)
        messages.success(request, _("Your new challenge questions are saved."))
        return redirect("profile:vehicles")
    return render(request, "profile/challenge_questions_reset.html", {"form": form})


@reauth_required
@require_http_methods(GET_POST)
def password(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = PasswordChangeForm(request.POST or None, user=user)
    if request.method == "POST":
        refused = _password_confirmation(request, form, "current_password")
        if refused is not None:
            return refused
        if form.is_valid():
            flow.profile_password_change(
                user=user, new_password=form.cleaned_data["new_password1"], request=request
            )
            messages.success(
                request,
                _(
                    "Your password was changed. Any other session using your account was logged "
                    "out."
                ),
            )
            return redirect("profile:profile")
    return render(request, "profile/password.html", {"form": form})


@reauth_required
@require_http_methods(GET_POST)
def contact(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ContactForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            pending = flow.contact_change_start(user=user, changes=form.changes(), request=request)
        except CodeCooldown as wait:
            form.add_error(None, wait.message)
        except CodeSendLimited as limited:
            form.add_error(None, limited.message)
        except CodeDeliveryError:
            form.add_error(
                None,
                _(
                    "We could not send a security code to the new address. Please check it and "
                    "try again."
                ),
            )
        else:
            if pending is None:
                messages.success(request, CONTACT_UPDATED)
                return redirect("profile:profile")
            return redirect("profile:contact_confirm")
    return render(request, "profile/contact.html", {"form": form})


@reauth_required
@require_http_methods(GET_POST)
def contact_confirm(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    pending = flow.contact_change_pending(request)
    if pending is None:
        return redirect("profile:contact")
    form = ContactConfirmForm(
        request.POST or None, email=not pending.email_ok, phone=not pending.phone_ok
    )
    if request.method == "POST" and form.is_valid():
        if flow.contact_change_confirm(
            user=user,
            request=request,
            email_code=form.cleaned_data.get("email_code", ""),
            phone_code=form.cleaned_data.get("phone_code", ""),
        ):
            messages.success(request, CONTACT_UPDATED)
            return redirect("profile:profile")
        form.add_error(
            None,
            _("A code is not right or has expired. Enter the newest code, or send new codes."),
        )
        forget(form, "email_code", "phone_code")
        pending = flow.contact_change_pending(request) or pending
        form = _rebound_confirm_form(form, pending)
    return render(
        request,
        "profile/contact_confirm.html",
        {
            "form": form,
            "new_email": mask_email(pending.email or "") if not pending.email_ok else "",
            "new_phone": mask_phone(pending.mobile_phone or "") if not pending.phone_ok else "",
        },
    )


def _rebound_confirm_form(
    form: ContactConfirmForm, pending: flow.ContactChange
) -> ContactConfirmForm:
    """After a partly right attempt, only the still-missing code is asked for again."""
    for name, done in (("email_code", pending.email_ok), ("phone_code", pending.phone_ok)):
        if done:
            form.fields.pop(name, None)
    return form


@reauth_required
@require_POST
def contact_resend(request: HttpRequest) -> HttpResponse:
    try:
        flow.contact_change_resend(user=_user(request), request=request)
    except CodeCooldown as wait:
        messages.error(request, wait.message)
    except CodeSendLimited as limited:
        messages.error(request, limited.message)
    except CodeDeliveryError:
        messages.error(request, _("We could not send a new code. Please try again later."))
    else:
        messages.success(request, _("We sent new codes."))
    return redirect("profile:contact_confirm")


@login_required
@require_POST
def contact_cancel(request: HttpRequest) -> HttpResponse:
    flow.contact_change_cancel(request=request)
    return redirect("profile:profile")


@reauth_required
@require_GET
def devices(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    this_device = device_for_request(request, user)
    return render(
        request,
        "profile/devices.html",
        {
            "devices": selectors.registered_devices_for(user),
            "this_device_id": this_device.pk if this_device else None,
        },
    )


@reauth_required
@require_POST
def device_remove(request: HttpRequest, device_id: int) -> HttpResponse:
    try:
        flow.profile_device_remove(user=_user(request), device_id=device_id, request=request)
    except RegisteredDevice.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The device was removed. It will be asked for verification."))
    return redirect("profile:devices")


@reauth_required
@require_POST
def devices_remove_all(request: HttpRequest) -> HttpResponse:
    removed = flow.profile_devices_remove_all(user=_user(request), request=request)
    if removed:
        messages.success(request, _("All registered devices were removed."))
    return redirect("profile:devices")


# --- Passkeys ---------------------------------------------------------------------------------
@reauth_required
@require_GET
def passkeys(request: HttpRequest) -> HttpResponse:
    return _passkeys_page(request, PasskeyAddForm())


def _passkeys_page(request: HttpRequest, form: PasskeyAddForm) -> HttpResponse:
    return render(
        request,
        "profile/passkeys.html",
        {"passkeys": passkeys_for(_user(request)), "form": form},
    )


@reauth_required
@require_POST
def passkey_options(request: HttpRequest) -> HttpResponse:
    """The challenge for "Add a passkey" (JSON, for static/js/passkeys.js)."""
    request.no_store = True  # type: ignore[attr-defined]
    options = registration_options(request=request, user=_user(request))
    return HttpResponse(options, content_type="application/json")


@reauth_required
@require_POST
def passkey_add(request: HttpRequest) -> HttpResponse:
    form = PasskeyAddForm(request.POST)
    if form.is_valid():
        try:
            passkey = flow.profile_passkey_add(
                user=_user(request),
                request=request,
                response=form.cleaned_data["credential"],
                name=form.cleaned_data["name"],
            )
        except PasskeyError:
            form.add_error(None, PASSKEY_NOT_ADDED)
        else:
            messages.success(
                request,
                _("Your passkey %(name)s was added. You can now log in with it.")
                % {"name": passkey.name},
            )
            return redirect("profile:passkeys")
    return _passkeys_page(request, form)


@reauth_required
@require_POST
def passkey_remove(request: HttpRequest, passkey_id: int) -> HttpResponse:
    try:
        flow.profile_passkey_remove(user=_user(request), passkey_id=passkey_id, request=request)
    except Passkey.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The passkey was removed. It can no longer be used to log in."))
    return redirect("profile:passkeys")


@reauth_required
@require_GET
def two_step_settings(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "profile/two_step.html",
        {
            "app": two_step.totp_device_for(user),
            "backup_codes_left": two_step.backup_codes_remaining(user),
        },
    )


@reauth_required
@require_POST
def two_step_app_start(request: HttpRequest) -> HttpResponse:
    two_step.totp_setup_begin(user=_user(request))
    return redirect("profile:two_step_app")


@reauth_required
@require_http_methods(GET_POST)
def two_step_app(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    pending = two_step.totp_pending_device(user)
    if pending is None:
        return redirect("profile:two_step")
    form = AppCodeForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        if flow.profile_app_confirm(user=user, code=form.cleaned_data["code"], request=request):
            messages.success(
                request, _("Your authenticator app is set up. You can use it when you log in.")
            )
            return redirect("profile:two_step")
        form.add_error("code", _("This code is not right. Enter the code the app shows now."))
        forget(form, "code")
    return render(
        request,
        "profile/two_step_app.html",
        {
            "form": form,
            "qr_code": two_step.totp_qr_data_uri(pending),
            "key": two_step.totp_key_text(pending),
        },
    )


@reauth_required
@require_POST
def two_step_app_remove(request: HttpRequest) -> HttpResponse:
    if flow.profile_app_remove(user=_user(request), request=request):
        messages.success(request, _("The authenticator app was removed."))
    return redirect("profile:two_step")


@reauth_required
@require_POST
def backup_codes(request: HttpRequest) -> HttpResponse:
    # Shown in this response only (never stored in clear, never in the session); the page is
    # not cached (no-store on signed-in pages).
    codes = flow.profile_backup_codes_generate(user=_user(request), request=request)
    return render(request, "profile/backup_codes.html", {"codes": codes})


@login_required
@require_GET
def esign(request: HttpRequest) -> HttpResponse:
    try:
        get_template(ESIGN_TEMPLATE)
        disclosure: str | None = ESIGN_TEMPLATE
    except TemplateDoesNotExist:  # the text not installed: what was accepted and when, still
        disclosure = None
    consent = selectors.esign_consent_for(_user(request))
    return render(
        request,
        "profile/esign.html",
        {
            "consent": consent,
            "disclosure": disclosure,
            "esign_version": consent.disclosure_version if consent else portal.esign_version,
        },
    )


@login_required
@require_GET
def activity(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "profile/activity.html",
        {"events": selectors.security_events_for(_user(request))},
    )


# --- Re-authentication ----------------------------------------------------------------------------
def _safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next")
    return safe_next_url(request, candidate) or reverse("profile:profile")


@login_required
@require_http_methods(GET_POST)
def reauth(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    next_url = _safe_next(request)
    form = ReauthForm(request.POST or None, user=user)
    if request.method == "POST":
        refused = _password_confirmation(request, form, "password")
        if refused is not None:
            return refused
        if form.is_valid():
            return redirect(next_url)
    return render(request, "profile/reauth.html", {"form": form, "next": next_url})


def _password_confirmation(
    request: HttpRequest, form: ReauthForm | PasswordChangeForm, field: str
) -> HttpResponse | None:
    """Validates a posted form in which the signed-in customer types their password (`field`):
    the re-authentication page and Change password count it the same way, here.

    First the per-IP limit REAUTH_IP_GROUP (before any password is hashed). Then a right
    password restarts the session's count of failures and counts as just entered
    (flow.reauth_succeeded); a wrong one is recorded (LOGIN_FAILED, shown in Sign-in activity)
    and counted with those of the other page, and the threshold ends the session
    (flow.reauth_failed). Other errors of the form (an empty field, a refused new password)
    do not count. Returns the response that ends the request (too many attempts, or logged out),
    or None: the form is validated, form.is_valid() tells the caller whether to go on.
    """
    if ip_limit_reached(request, REAUTH_IP_GROUP, portal.login_ip_rate):
        return too_many_attempts(request)
    form.is_valid()
    if form.is_bound and field in form.cleaned_data:  # an empty POST leaves the form unbound
        flow.reauth_succeeded(request=request)
    elif form.has_error(field, WRONG_PASSWORD) and flow.reauth_failed(
        user=_user(request), request=request
    ):
        messages.error(request, _("For your security, you were logged out. Please log in again."))
        return redirect("signin:login")
    return None
