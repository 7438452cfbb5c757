"""Sign-in pages: Log In, the step-up check, Register this device?, Log Out.

Views are thin: they pick a form, hand valid data to signin/flow.py and choose the
page. Every page of a sign-in in progress is no-store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import auth, messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from portal.conf import portal
from security import two_step
from security.codes import (
    Channel,
    CodeSendLimited,
    channel_choice_label,
    code_cooldown_left,
    code_live,
)
from security.device_forms import DeviceChoice, RegisterDeviceForm
from security.events import record_event
from security.lockout import LockNotice, lock_notice
from security.models import SecurityEvent
from security.passkey_forms import NO_PASSKEY, PasskeyResponseForm
from security.passkeys import authentication_options
from security.ratelimits import ip_limit_reached, too_many_attempts
from security.redirects import safe_next_url
from signin import flow
from signin.forms import LoginForm, StepUpAction, StepUpForm

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from accounts.models import User

WRONG_MESSAGE = gettext_lazy("The username or password you entered is not right. Please try again.")
PASSKEY_REFUSED_MESSAGE = gettext_lazy(
    "Your passkey was not accepted. Try again, or log in with your username and password."
)
DISABLED_MESSAGE = gettext_lazy(
    "Online access to this account is turned off. Please call us to turn it back on."
)


def _next_url(request: HttpRequest) -> str:
    return safe_next_url(request, request.GET.get("next"))


def _landing(request: HttpRequest, next_url: str = "") -> str:
    """Where a finished login goes: `next_url` if it passes security.redirects.safe_next_url
    (checked here again whatever its source, such as the login flow kept in the session),
    else My Vehicles."""
    return safe_next_url(request, next_url) or resolve_url("profile:vehicles")


@require_http_methods(["GET", "HEAD", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """The Log In page: username and password."""
    if request.user.is_authenticated:
        return redirect(_landing(request, _next_url(request)))
    request.no_store = True  # type: ignore[attr-defined]
    form = LoginForm(request.POST if request.method == "POST" else None)
    problem: flow.PasswordOutcome | None = None
    if request.method == "POST":
        if ip_limit_reached(request, flow.LIMIT_GROUP, portal.login_ip_rate):
            return too_many_attempts(request)
        if form.is_valid():
            outcome = flow.password_submit(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                next_url=_next_url(request),
            )
            if outcome is flow.PasswordOutcome.SIGNED_IN:
                return redirect(_landing(request, _next_url(request)))
            if outcome is flow.PasswordOutcome.STEP_UP:
                return redirect("signin:step_up")
            problem = outcome  # WRONG, LOCKED or DISABLED: the page says which
            if outcome is flow.PasswordOutcome.LOCKED:
                lock = flow.password_lock_notice(
                    request=request, username=form.cleaned_data["username"]
                )
                return _login_page(request, form, problem, lock)
    return _login_page(request, form, problem)


def _login_page(
    request: HttpRequest,
    form: LoginForm,
    problem: flow.PasswordOutcome | None = None,
    lock: LockNotice | None = None,
    *,
    passkey_refused: bool = False,
) -> HttpResponse:
    next_url = _next_url(request)
    passkey_action = reverse("signin:passkey_login")
    if next_url:
        passkey_action += "?" + urlencode({"next": next_url})
    return render(
        request,
        "signin/login.html",
        {
            "form": form,
            "problem": problem,
            "wrong_message": PASSKEY_REFUSED_MESSAGE if passkey_refused else WRONG_MESSAGE,
            "passkey_action": passkey_action,
            "lock": lock,
            "disabled_message": DISABLED_MESSAGE,
            "forgot_username_url": reverse("recovery:forgot_username"),
            "forgot_password_url": reverse("recovery:forgot_password"),
        },
    )


@require_POST
def passkey_options(request: HttpRequest) -> HttpResponse:
    """The challenge for "Log in with a passkey" (JSON, for static/js/passkeys.js)."""
    request.no_store = True  # type: ignore[attr-defined]
    return HttpResponse(authentication_options(request=request), content_type="application/json")


@require_POST
def passkey_login(request: HttpRequest) -> HttpResponse:
    """Log in with a passkey: the browser's signed answer, posted by static/js/passkeys.js."""
    if request.user.is_authenticated:
        return redirect(_landing(request, _next_url(request)))
    request.no_store = True  # type: ignore[attr-defined]
    if ip_limit_reached(request, flow.LIMIT_GROUP, portal.login_ip_rate):
        return too_many_attempts(request)
    form = PasskeyResponseForm(request.POST)
    if form.is_valid():
        result = flow.passkey_login(request=request, response=form.cleaned_data["credential"])
        if result.outcome is flow.PasswordOutcome.SIGNED_IN:
            return redirect(_landing(request, _next_url(request)))
        if result.outcome is not flow.PasswordOutcome.WRONG:  # LOCKED or DISABLED
            return _login_page(request, LoginForm(), result.outcome, result.lock)
    return _login_page(request, LoginForm(), flow.PasswordOutcome.WRONG, passkey_refused=True)


def _login_ended(request: HttpRequest) -> HttpResponse:
    """A step of a sign-in that has expired or was never started: back to Log In."""
    messages.info(request, _("Your login attempt has ended. Please log in again."))
    return redirect("signin:login")


def _locked(request: HttpRequest, lock: LockNotice) -> HttpResponse:
    return _login_page(request, LoginForm(), flow.PasswordOutcome.LOCKED, lock)


WRONG_ANSWER_MESSAGE = gettext_lazy("That answer does not match the one we have on file.")
WRONG_CODE_MESSAGE = gettext_lazy(
    "That security code is not right or has expired. Check it, or send a new code."
)
STEP_UP_PASSKEY_REFUSED_MESSAGE = gettext_lazy(
    "Your passkey was not accepted. Try again with a passkey you added to this account, or "
    "confirm your identity the other way on this page."
)


@require_http_methods(["GET", "HEAD", "POST"])
def step_up(request: HttpRequest) -> HttpResponse:
    """Confirm it's you (an unrecognized device): one form with the challenge question and/or a
    security code. **Send code** sends a code and shows the page again with what was typed;
    **Continue** checks the answer and the code together."""
    request.no_store = True  # type: ignore[attr-defined]
    current = flow.flow_user(request)
    if current is None:
        return _login_ended(request)
    login_flow, user = current
    if login_flow.verified:
        return redirect("signin:register_device")
    form = _step_up_form(login_flow, user, request.POST if request.method == "POST" else None)
    sent = ""
    if request.method == "POST" and form.action is StepUpAction.SEND:
        if ip_limit_reached(request, flow.SEND_LIMIT_GROUP, portal.login_ip_rate):
            return too_many_attempts(request)
        if form.is_valid():
            sent = _send_code(request, login_flow, user, form)
            if sent:
                # The page again with the answer as typed (never stored: it goes back only in
                # this no-store response); a code typed before is stale now.
                typed = form.cleaned_data.get("answer", "")
                form = _step_up_form(login_flow, user)
                form.initial["answer"] = typed
    elif request.method == "POST":
        if ip_limit_reached(request, flow.LIMIT_GROUP, portal.login_ip_rate):
            return too_many_attempts(request)
        if form.is_valid():
            result = flow.step_up_submit(
                request=request,
                flow=login_flow,
                user=user,
                answer=form.cleaned_data.get("answer", ""),
                code=form.cleaned_data.get("code", ""),
            )
            if result.locked:
                return _locked(request, result.lock)
            if result.verified:
                return redirect("signin:register_device")
            form = _checked_form(login_flow, user, form, result)
    return _step_up_page(request, login_flow, user, form, sent)


@require_POST
def step_up_passkey_options(request: HttpRequest) -> HttpResponse:
    """The challenge for "Use a passkey instead" (JSON, for static/js/passkeys.js): only the
    customer's own passkeys are allowed. 404 when a passkey is not offered."""
    request.no_store = True  # type: ignore[attr-defined]
    current = flow.flow_user(request)
    if current is None:
        # The script then submits its form as it is, and that page says the login has ended.
        return HttpResponse(status=403)
    login_flow, user = current
    options = flow.step_up_passkey_options(request=request, flow=login_flow, user=user)
    if options is None:
        raise Http404("no passkey step-up")
    return HttpResponse(options, content_type="application/json")


@require_POST
def step_up_passkey(request: HttpRequest) -> HttpResponse:
    """Use a passkey instead: the browser's signed answer, posted by static/js/passkeys.js.
    Verified, it leads to Register this device? as the question and code do."""
    request.no_store = True  # type: ignore[attr-defined]
    current = flow.flow_user(request)
    if current is None:
        return _login_ended(request)
    login_flow, user = current
    if login_flow.verified:
        return redirect("signin:register_device")
    if not portal.step_up_passkey:
        raise Http404("no passkey step-up")
    if ip_limit_reached(request, flow.LIMIT_GROUP, portal.login_ip_rate):
        return too_many_attempts(request)
    answer = PasskeyResponseForm(request.POST)
    problem: StrOrPromise = STEP_UP_PASSKEY_REFUSED_MESSAGE
    if answer.is_valid():
        result = flow.step_up_passkey(
            request=request,
            flow=login_flow,
            user=user,
            response=answer.cleaned_data["credential"],
        )
        if result.locked:
            return _locked(request, result.lock)
        if result.verified:
            return redirect("signin:register_device")
    elif not request.POST.get("credential"):
        problem = NO_PASSKEY
    form = _step_up_form(login_flow, user)
    form.refuse({NON_FIELD_ERRORS: problem})
    return _step_up_page(request, login_flow, user, form)


def _step_up_form(login_flow: flow.LoginFlow, user: User, data: Any = None) -> StepUpForm:
    """The step-up form for the stages still pending."""
    summary = flow.summary(login_flow)
    return StepUpForm(
        data,
        question=summary["question"],
        needs_answer=summary["needs_answer"],
        needs_code=summary["needs_code"],
        channels=flow.available_channels(user),
        email=user.email,
        phone=user.mobile_phone,
        channel=login_flow.channel,
        uses_app=login_flow.channel is Channel.APP,
    )


def _checked_form(
    login_flow: flow.LoginFlow,
    user: User,
    submitted: StepUpForm,
    result: flow.StepUpResult,
) -> StepUpForm:
    """The form after Continue did not finish step-up: only the stages still pending, each
    with what was wrong. A wrong answer or code is not shown again; an answer that was not
    checked (the code's throttle) is kept."""
    kept = {}
    if flow.Stage.QUESTION not in result.wrong and "answer" in submitted.cleaned_data:
        kept["answer"] = submitted.cleaned_data["answer"]
    form = _step_up_form(login_flow, user)
    form.initial.update(kept)
    errors: dict[str, StrOrPromise] = {}
    if flow.Stage.QUESTION in result.wrong and "answer" in form.fields:
        errors["answer"] = WRONG_ANSWER_MESSAGE
    if "code" in form.fields:
        if result.code_wait:
            errors["code"] = two_step.totp_wait_message(result.code_wait)
        elif flow.Stage.CODE in result.wrong:
            errors["code"] = WRONG_CODE_MESSAGE
    form.refuse(errors)
    return form


def _send_code(
    request: HttpRequest, login_flow: flow.LoginFlow, user: User, form: StepUpForm
) -> str:
    """Sends a code (or notes the authenticator app as the choice); returns what the page says
    about it, or "" with the reason in the form."""
    channel = form.chosen_channel()
    if channel is None:
        form.add_error(
            None, _("We have no email address or mobile number on file to send a code to.")
        )
        return ""
    first = code_live(user=user, purpose=flow.PURPOSE, flow_id=login_flow.flow_id) is None
    try:
        sent = flow.step_up_send_code(request=request, flow=login_flow, user=user, channel=channel)
    except flow.CodeCooldown as wait:
        form.add_error(None, wait.message)
        return ""
    except CodeSendLimited as limited:
        form.add_error(None, limited.message)
        return ""
    except flow.CodeDeliveryError:
        form.add_error(
            None,
            _(
                "We could not send the code just now. Please try again in a moment, "
                "or choose another way to receive it."
            ),
        )
        return ""
    if sent is None:
        return _("Enter the 6-digit code your authenticator app shows.")
    where = {"where": _where(channel, user)}
    minutes = max(1, portal.code_ttl_seconds // 60)
    expires = ngettext(
        "It expires in %(minutes)d minute.", "It expires in %(minutes)d minutes.", minutes
    ) % {"minutes": minutes}
    if first:
        return _("We sent a security code (%(where)s).") % where + " " + expires
    return _("We sent a new security code (%(where)s).") % where + " " + expires


def _where(channel: Channel, user: User) -> str:
    """Where a code goes, inside a sentence: "email to c***@example.com"."""
    label = channel_choice_label(channel, email=user.email, phone=user.mobile_phone)
    return label[:1].lower() + label[1:]


def _step_up_page(
    request: HttpRequest,
    login_flow: flow.LoginFlow,
    user: User,
    form: StepUpForm,
    sent: str = "",
) -> HttpResponse:
    summary = flow.summary(login_flow)
    live = None
    cooldown = 0
    if summary["needs_code"]:
        live = code_live(user=user, purpose=flow.PURPOSE, flow_id=login_flow.flow_id)
        cooldown = code_cooldown_left(user=user, purpose=flow.PURPOSE, flow_id=login_flow.flow_id)
    uses_app = login_flow.channel is Channel.APP
    # Enter submits with the form's first button: Continue once there is a code to enter,
    # Send code before.
    code_ready = live is not None or uses_app
    _focus(form, code_ready)
    return render(
        request,
        "signin/step_up.html",
        {
            "form": form,
            "summary": summary,
            "code_sent": live is not None,
            "code_ready": code_ready,
            "uses_app": uses_app,
            "cooldown": cooldown,
            "has_channels": bool(flow.available_channels(user)),
            "only_channel_label": _where(form.only_channel, user) if form.only_channel else "",
            "sent": sent,
            "passkey_offered": flow.step_up_passkey_offered(user),
        },
    )


def _focus(form: StepUpForm, code_ready: bool) -> None:
    """Puts the cursor where the customer types next: the first field with an error, else the
    empty answer, else the code once there is one to enter."""
    fields = [name for name in ("answer", "code") if name in form.fields]
    with_error = [name for name in fields if name in form.errors]
    if with_error:
        target = with_error[0]
    elif "answer" in fields and not form["answer"].value():
        target = "answer"
    elif "code" in fields and code_ready:
        target = "code"
    else:
        return
    form.fields[target].widget.attrs["autofocus"] = True


@require_http_methods(["GET", "HEAD", "POST"])
def register_device(request: HttpRequest) -> HttpResponse:
    """Register this device? Offered after step-up; either answer completes the login."""
    request.no_store = True  # type: ignore[attr-defined]
    current = flow.flow_user(request)
    if current is None:
        return _login_ended(request)
    login_flow, user = current
    if not login_flow.verified:
        return redirect("signin:step_up")
    form = RegisterDeviceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        response: HttpResponseRedirect = redirect(_landing(request, login_flow.next_url))
        register = form.cleaned_data["choice"] is DeviceChoice.REGISTER
        counter = login_flow.counter(user)
        finished = flow.login_finish(
            request=request,
            user=user,
            counter=counter,
            stamp=login_flow.stamp,
            register_response=response if register else None,
            passkey_name=login_flow.passkey_name,
        )
        if finished is flow.FinishOutcome.ENDED:
            return _login_ended(request)
        if finished is flow.FinishOutcome.LOCKED:
            return _locked(request, lock_notice(counter))
        if register:
            messages.success(
                request, _("This device is registered. Next time, your password is enough here.")
            )
        return response
    return render(request, "security/register_device.html", {"form": form})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Ends the session on the server and asks the browser to drop what it kept of it."""
    user = request.user if request.user.is_authenticated else None
    if user is not None:
        record_event(SecurityEvent.Kind.LOGGED_OUT, user=user, request=request)
    flow.LoginFlow.clear(request)
    auth.logout(request)  # flushes the server-side session and rotates the key
    messages.success(request, _("You have logged out."))
    response = redirect("signin:login")
    # Not "cookies": the registered-device cookie must survive logging out.
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response
