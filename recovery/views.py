"""Account recovery pages and the "This wasn't me" confirmation. Thin: forms validate, the flow
in recovery.flow acts."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from portal.conf import portal
from recovery import flow as recovery
from recovery.flow import Outcome, Recovery, Stage, TokenStatus
from recovery.forms import (
    ChannelForm,
    CodeForm,
    IdentityForm,
    NewPasswordForm,
    PasswordRecoveryForm,
)
from security.codes import (
    Channel,
    CodeCooldown,
    CodeDeliveryError,
    CodeSendLimited,
    mask_email,
    mask_phone,
)
from security.ratelimits import ip_limit_reached, too_many_attempts

_NOT_ME_INVALID_STATUS = {TokenStatus.INVALID: 404, TokenStatus.EXPIRED: 410, TokenStatus.USED: 410}


def _private(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Recovery pages are never cached, and a page whose URL holds a token never sends that URL
    on as a Referer. Not "no-referrer": browsers then send `Origin: null` with the form's POST,
    which the CSRF check rightly refuses; "strict-origin" sends the origin alone."""
    request.no_store = True  # type: ignore[attr-defined]
    response["Referrer-Policy"] = "strict-origin"
    return response


@require_http_methods(["GET", "POST"])
def not_me(request: HttpRequest, token: str) -> HttpResponse:
    """GET only shows what the link will do (mail scanners prefetch links); POST acts, once."""
    if request.method == "POST":
        if ip_limit_reached(request, "recovery-not-me", portal.login_ip_rate):
            return too_many_attempts(request)
        result = recovery.not_me_report(token=token, request=request)
        if result.status == TokenStatus.DONE:
            if result.token is not None and request.user.pk == result.token.user_id:
                auth.logout(request)
            return _private(request, render(request, "recovery/not_me_done.html"))
    else:
        result = recovery.not_me_token_check(token=token)
        if result.status == TokenStatus.VALID:
            return _private(request, render(request, "recovery/not_me_confirm.html"))
    return _private(
        request,
        render(
            request,
            "recovery/not_me_invalid.html",
            {"status": result.status},
            status=_NOT_ME_INVALID_STATUS.get(result.status, 404),
        ),
    )


# --- Forgot username ------------------------------------------------------------------------------
TOO_MANY_ATTEMPTS = gettext_lazy(
    "There have been too many attempts. For your security, please try again later, "
    "or call us at %(phone)s."
)
NOT_VERIFIED = gettext_lazy(
    "We couldn't verify your information. Please check what you entered and try again. "
    "If you still cannot get in, call us at %(phone)s."
)
WRONG_CODE = gettext_lazy(
    "That security code is not right, or it has expired. Check it and try again, "
    "or send a new code."
)
PAUSED_WRONG_CODE = gettext_lazy("That security code is not right. Check it and try again.")
STARTED_OVER = gettext_lazy("For your security, please start again.")
CODES_USED_UP = gettext_lazy(
    "We have sent as many security codes as we can for this request. Enter the last code we "
    "sent, or start again later, or call us at %(phone)s."
)


def _signed_out_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Recovery pages are for customers who cannot log in, and never cached."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.no_store = True  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            return redirect("profile:vehicles")
        return view(request, *args, **kwargs)

    return wrapper


def _identity_refused(
    request: HttpRequest, template: str, form: forms.Form, outcome: Outcome
) -> HttpResponse:
    phone = portal.support_phone
    if outcome == Outcome.LIMITED:
        form.add_error(None, TOO_MANY_ATTEMPTS % {"phone": phone})
        return render(request, template, {"form": form}, status=429)
    # One message whatever was wrong: naming the field would confirm the others.
    form.add_error(None, NOT_VERIFIED % {"phone": phone})
    return render(request, template, {"form": form})


@_signed_out_only
@require_http_methods(["GET", "POST"])
def forgot_username(request: HttpRequest) -> HttpResponse:
    template = "recovery/forgot_username.html"
    form = IdentityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = recovery.username_recover(request, **form.cleaned_data)
        if outcome == Outcome.CONFIRM_BY_CODE:
            return redirect("recovery:username_identity_code")
        return _username_answered(request, template, form, outcome)
    return render(request, template, {"form": form})


def _username_answered(
    request: HttpRequest, template: str, form: forms.Form, outcome: Outcome
) -> HttpResponse:
    if outcome == Outcome.DONE:
        return redirect("recovery:username_sent")
    if outcome == Outcome.NO_ACCOUNT:
        return render(request, "recovery/no_account.html")
    return _identity_refused(request, template, form, outcome)


def _identity_code_page(
    request: HttpRequest,
    *,
    password: bool,
    answered: Callable[[HttpRequest, str, forms.Form, Outcome], HttpResponse],
) -> HttpResponse:
    """The code of a paused identity check (security.identity_check), for Forgot username? or
    Forgot password?; the page reads the same whether the details were right or not."""
    start = "recovery:forgot_password" if password else "recovery:forgot_username"
    if not recovery.identity_code_waiting(request, password=password):
        return redirect(start)
    template = "recovery/identity_code.html"
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        if password:
            outcome = recovery.password_code_submit(request, code=code)
        else:
            outcome = recovery.username_code_submit(request, code=code)
        if outcome == Outcome.LIMITED:
            return too_many_attempts(request)
        if outcome == Outcome.MISMATCH and recovery.identity_code_waiting(
            request, password=password
        ):
            form.add_error("code", PAUSED_WRONG_CODE)
        elif outcome == Outcome.MISMATCH:
            # The code was entered wrong too often or expired, or was right but the username
            # was not: one message for all of them.
            messages.error(request, NOT_VERIFIED % {"phone": portal.support_phone})
            return redirect(start)
        else:
            return answered(request, template, form, outcome)
    context = {
        "form": form,
        "code_minutes": max(1, portal.code_ttl_seconds // 60),
        "start_url": reverse(start),
    }
    return render(request, template, context)


@_signed_out_only
@require_http_methods(["GET", "POST"])
def username_identity_code(request: HttpRequest) -> HttpResponse:
    return _identity_code_page(request, password=False, answered=_username_answered)


@_signed_out_only
@require_safe
def username_sent(request: HttpRequest) -> HttpResponse:
    masked = request.session.get(recovery.USERNAME_SENT_KEY)
    if not masked:
        return redirect("recovery:forgot_username")
    return render(request, "recovery/username_sent.html", {"masked_email": masked})


# --- Forgot password ------------------------------------------------------------------------------
@_signed_out_only
@require_http_methods(["GET", "POST"])
def forgot_password(request: HttpRequest) -> HttpResponse:
    template = "recovery/forgot_password.html"
    form = PasswordRecoveryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = recovery.password_recovery_start(request, **form.cleaned_data)
        if outcome == Outcome.CONFIRM_BY_CODE:
            return redirect("recovery:password_identity_code")
        return _password_answered(request, template, form, outcome)
    return render(request, template, {"form": form})


def _password_answered(
    request: HttpRequest, template: str, form: forms.Form, outcome: Outcome
) -> HttpResponse:
    if outcome == Outcome.DONE:
        return redirect("recovery:password_channel")
    if outcome == Outcome.HELD:
        return render(request, "recovery/held.html", status=403)
    return _identity_refused(request, template, form, outcome)


@_signed_out_only
@require_http_methods(["GET", "POST"])
def password_identity_code(request: HttpRequest) -> HttpResponse:
    return _identity_code_page(request, password=True, answered=_password_answered)


def _recovery_step(
    *stages: Stage,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Guards a step after the first: a live recovery at one of `stages`, for an active user."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest) -> HttpResponse:
            state = Recovery.load(request)
            user = state.user() if state is not None else None
            if state is None or user is None or state.stage not in stages:
                Recovery.clear(request)
                messages.info(request, STARTED_OVER)
                return redirect("recovery:forgot_password")
            return view(request, state, user)

        return _signed_out_only(require_http_methods(["GET", "POST"])(wrapper))

    return decorator


@_recovery_step(Stage.VERIFIED, Stage.CODE_SENT)
def password_channel(request: HttpRequest, state: Recovery, user: Any) -> HttpResponse:
    initial = {"channel": state.channel} if state.channel else {}
    form = ChannelForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        response = _send_code(request, state, user, form.cleaned_data["channel"], form)
        if response is not None:
            return response
    return render(request, "recovery/choose_channel.html", {"form": form})


def _send_code(
    request: HttpRequest, state: Recovery, user: Any, channel: Channel, form: forms.Form
) -> HttpResponse | None:
    """Sends the code and redirects to the code page; None when the form shows why not."""
    first = state.stage is Stage.VERIFIED  # no code of this recovery was sent yet
    try:
        outcome = recovery.recovery_code_send(request, state, user=user, channel=channel)
    except CodeCooldown as wait:
        form.add_error(None, wait.message)
        return None
    except CodeSendLimited as limited:
        form.add_error(None, limited.message)
        return None
    except CodeDeliveryError:
        form.add_error(
            None,
            _(
                "We couldn't send the code just now. Please try again in a moment, or choose "
                "the other way."
            ),
        )
        return None
    if outcome == Outcome.LIMITED:
        return too_many_attempts(request)
    if outcome == Outcome.LOCKED:
        form.add_error(None, str(recovery.recovery_lock_notice(user)))
        return None
    if outcome == Outcome.CODES_USED_UP:
        form.add_error(None, CODES_USED_UP % {"phone": portal.support_phone})
        return None
    where = {"where": _where(user, channel)}
    messages.success(
        request,
        _("We sent a code %(where)s.") % where
        if first
        else _("We sent a new code %(where)s. Only the newest code works.") % where,
    )
    return redirect("recovery:password_code")


def _where(user: Any, channel: Channel | None) -> str:
    """Where the code went, masked: "by email to d***@example.com"."""
    if channel is Channel.EMAIL:
        return _("by email to %(address)s") % {"address": mask_email(user.email)}
    return _("by text message to %(number)s") % {"number": mask_phone(user.mobile_phone)}


@_recovery_step(Stage.CODE_SENT)
def password_code(request: HttpRequest, state: Recovery, user: Any) -> HttpResponse:
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        outcome = recovery.recovery_code_check(
            request, state, user=user, code=form.cleaned_data["code"]
        )
        if outcome == Outcome.DONE:
            return redirect("recovery:password_new")
        if outcome == Outcome.LIMITED:
            return too_many_attempts(request)
        if outcome == Outcome.LOCKED:
            form.add_error(None, str(recovery.recovery_lock_notice(user)))
        else:
            form.add_error("code", WRONG_CODE)
    return render(
        request,
        "recovery/enter_code.html",
        {
            "form": form,
            "where": _where(user, state.channel),
            "minutes": max(1, portal.code_ttl_seconds // 60),
        },
    )


@_recovery_step(Stage.CODE_SENT)
def password_code_resend(request: HttpRequest, state: Recovery, user: Any) -> HttpResponse:
    if request.method != "POST":
        return redirect("recovery:password_code")
    if state.channel is None:  # a code was sent, so a channel was chosen
        return redirect("recovery:password_channel")
    form = forms.Form({})
    form.is_valid()  # an empty, bound form: somewhere to put a reason for not sending
    response = _send_code(request, state, user, state.channel, form)
    if response is not None:
        return response
    for error in form.non_field_errors():
        messages.error(request, str(error))
    return redirect("recovery:password_code")


@_recovery_step(Stage.CODE_PASSED)
def password_new(request: HttpRequest, state: Recovery, user: Any) -> HttpResponse:
    form = NewPasswordForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        outcome = recovery.recovery_password_set(
            request, state, user=user, password=form.cleaned_data["password1"]
        )
        if outcome == Outcome.LIMITED:
            return too_many_attempts(request)
        if outcome == Outcome.HELD:
            return render(request, "recovery/held.html", status=403)
        messages.success(
            request,
            _(
                "Your password has been reset, and every other session has been logged out. "
                "Log in with your new password."
            ),
        )
        return redirect("signin:login")
    return render(request, "recovery/new_password.html", {"form": form})
