"""Sign-in pages: Log In, the step-up check, Register this device?, Log Out.

Views are thin: they pick a form, hand valid data to signin/flow.py and choose the
page. Every page of a sign-in in progress is no-store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from portal.conf import portal
from security.codes import Channel, CodeSendLimited, code_cooldown_left, code_live
from security.device_forms import DeviceChoice, RegisterDeviceForm
from security.events import record_event
from security.models import SecurityEvent
from security.ratelimits import ip_limit_reached, too_many_attempts
from security.redirects import safe_next_url
from signin import flow
from signin.forms import LoginForm, SendCodeForm, StepUpForm

if TYPE_CHECKING:
    from accounts.models import User

LOCKED_MESSAGE = "Online access is temporarily locked"
WRONG_MESSAGE = "The username or password you entered is not right. Please try again."
DISABLED_MESSAGE = "Online access to this account is turned off. Please call us to turn it back on."


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
    return _login_page(request, form, problem)


def _login_page(
    request: HttpRequest, form: LoginForm, problem: flow.PasswordOutcome | None = None
) -> HttpResponse:
    return render(
        request,
        "signin/login.html",
        {
            "form": form,
            "problem": problem,
            "wrong_message": WRONG_MESSAGE,
            "locked_message": LOCKED_MESSAGE,
            "disabled_message": DISABLED_MESSAGE,
            "forgot_username_url": reverse("recovery:forgot_username"),
            "forgot_password_url": reverse("recovery:forgot_password"),
        },
    )


def _login_ended(request: HttpRequest) -> HttpResponse:
    """A step of a sign-in that has expired or was never started: back to Log In."""
    messages.info(request, "Your login attempt has ended. Please log in again.")
    return redirect("signin:login")


def _locked(request: HttpRequest) -> HttpResponse:
    return _login_page(request, LoginForm(), flow.PasswordOutcome.LOCKED)


@require_http_methods(["GET", "HEAD", "POST"])
def step_up(request: HttpRequest) -> HttpResponse:
    """We don't recognize this device: the challenge question and/or a security code."""
    request.no_store = True  # type: ignore[attr-defined]
    current = flow.flow_user(request)
    if current is None:
        return _login_ended(request)
    login_flow, user = current
    if login_flow.verified:
        return redirect("signin:register_device")
    summary = flow.summary(login_flow)
    form = StepUpForm(
        request.POST if request.method == "POST" else None,
        question=summary["question"],
        needs_answer=summary["needs_answer"],
        needs_code=summary["needs_code"],
    )
    if request.method == "POST":
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
                return _locked(request)
            if result.verified:
                return redirect("signin:register_device")
            if flow.Stage.QUESTION in result.wrong and flow.Stage.QUESTION not in login_flow.passed:
                messages.error(request, "That answer does not match the one we have on file.")
            if flow.Stage.CODE in result.wrong:
                messages.error(
                    request,
                    "That security code is not right or has expired. Check it, or send a new code.",
                )
            return redirect("signin:step_up")
    return _step_up_page(request, login_flow, user, form)


def _step_up_page(
    request: HttpRequest, login_flow: flow.LoginFlow, user: User, form: StepUpForm
) -> HttpResponse:
    summary = flow.summary(login_flow)
    channels = flow.available_channels(user)
    live = None
    cooldown = 0
    if summary["needs_code"]:
        live = code_live(user=user, purpose=flow.PURPOSE, flow_id=login_flow.flow_id)
        cooldown = code_cooldown_left(user=user, purpose=flow.PURPOSE, flow_id=login_flow.flow_id)
    send_form = SendCodeForm(
        initial={"channel": login_flow.channel or (channels[0] if channels else "")},
        channels=channels,
        email=user.email,
        phone=user.mobile_phone,
    )
    return render(
        request,
        "signin/step_up.html",
        {
            "form": form,
            "send_form": send_form,
            "summary": summary,
            "code_sent": live is not None,
            "uses_app": login_flow.channel is Channel.APP,
            "cooldown": cooldown,
            "has_channels": bool(channels),
        },
    )


@require_POST
def send_code(request: HttpRequest) -> HttpResponse:
    """Send code / Send a new code (with a cool-down between sends)."""
    request.no_store = True  # type: ignore[attr-defined]
    current = flow.flow_user(request)
    if current is None:
        return _login_ended(request)
    login_flow, user = current
    if ip_limit_reached(request, flow.SEND_LIMIT_GROUP, portal.login_ip_rate):
        return too_many_attempts(request)
    channels = flow.available_channels(user)
    form = SendCodeForm(request.POST, channels=channels, email=user.email, phone=user.mobile_phone)
    if not form.is_valid():
        messages.error(request, "Choose where we should send your security code.")
        return redirect("signin:step_up")
    channel = form.cleaned_data["channel"]
    try:
        sent = flow.step_up_send_code(request=request, flow=login_flow, user=user, channel=channel)
    except flow.CodeCooldown as wait:
        messages.error(
            request,
            f"We just sent you a code. You can ask for a new one in {wait.seconds_left} seconds.",
        )
    except CodeSendLimited as limited:
        messages.error(request, limited.message)
    except flow.CodeDeliveryError:
        messages.error(
            request,
            "We could not send the code just now. Please try again in a moment, "
            "or choose another way to receive it.",
        )
    else:
        if sent is None:
            messages.success(request, "Enter the 6-digit code your authenticator app shows.")
        else:
            where = dict(form.fields["channel"].choices).get(channel, "")  # type: ignore[attr-defined]
            messages.success(
                request,
                f"We sent a security code ({where[0].lower() + where[1:]}). "
                f"It expires in {max(1, portal.code_ttl_seconds // 60)} minutes.",
            )
    return redirect("signin:step_up")


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
        finished = flow.login_finish(
            request=request,
            user=user,
            counter=login_flow.counter(user),
            stamp=login_flow.stamp,
            register_response=response if register else None,
        )
        if finished is flow.FinishOutcome.ENDED:
            return _login_ended(request)
        if finished is flow.FinishOutcome.LOCKED:
            return _locked(request)
        if register:
            messages.success(
                request, "This device is registered. Next time, your password is enough here."
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
    messages.success(request, "You have logged out.")
    response = redirect("signin:login")
    # Not "cookies": the registered-device cookie must survive logging out.
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response
