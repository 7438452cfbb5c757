"""The five enrollment steps, and Register this device? after them. Each view picks its form,
hands valid data to enrollment.flow and redirects; the flow owns the wizard state and every
write."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods
from django.views.generic import FormView, TemplateView, View

from accounts.forms import IdentityForm
from accounts.models import Customer, User
from enrollment import flow
from enrollment.flow import (
    STEP_ORDER,
    STEP_SHORT_TITLES,
    STEP_TITLES,
    ConfirmOutcome,
    IdentityOutcome,
    Step,
)
from enrollment.forms import (
    CHOOSE_CHANNEL,
    ConfirmCodeForm,
    ConsentForm,
    FinishForm,
    ProfileForm,
    SendCodeForm,
    VehiclesForm,
    vehicle_label,
)
from portal.conf import portal
from security.codes import (
    Channel,
    CodeCooldown,
    CodeDeliveryError,
    CodeSendLimited,
    channel_choice_label,
)
from security.device_forms import DeviceChoice, RegisterDeviceForm
from security.flow_state import FlowStatus
from security.ratelimits import ip_limit_reached, too_many_attempts

TOO_MANY_ATTEMPTS = gettext_lazy(
    "There have been too many attempts. For your security, please try again later, "
    "or call us at %(phone)s."
)
NOT_VERIFIED = gettext_lazy(
    "We couldn't verify your information. Please check what you entered and try again. "
    "If you still cannot enroll, call us at %(phone)s."
)
WRONG_CODE = gettext_lazy("That code is not right. Check it and try again.")
CODE_ENDED = gettext_lazy(
    "That code can no longer be used (it has expired or was entered wrong too many times). "
    "Please start again."
)


def _recovery_links() -> dict[str, str]:
    """Links to the recovery pages, by name when their URLs are installed."""
    links = {}
    for key, name, fallback in (
        ("forgot_username_url", "recovery:forgot_username", "/forgot-username/"),
        ("forgot_password_url", "recovery:forgot_password", "/forgot-password/"),
    ):
        try:
            links[key] = reverse(name)
        except NoReverseMatch:
            links[key] = fallback
    return links


def _already_enrolled(request: HttpRequest, *, just_finished: bool = False) -> HttpResponse:
    context = {"just_finished": just_finished, **_recovery_links()}
    return render(request, "enrollment/already_enrolled.html", context)


def _step_indicator(current: Step) -> list[dict[str, Any]]:
    index = STEP_ORDER.index(current)
    return [
        {
            "number": number,
            "title": STEP_SHORT_TITLES[step],
            "current": step == current,
            "done": number - 1 < index,
        }
        for number, step in enumerate(STEP_ORDER, start=1)
    ]


class EnrollmentPage:
    """Common to every step: never cached, not for signed-in customers, step indicator."""

    step: Step
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        request.no_store = True  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            return redirect("profile:vehicles")
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        context.update(
            step_number=STEP_ORDER.index(self.step) + 1,
            step_title=STEP_TITLES[self.step],
            steps=_step_indicator(self.step),
        )
        return context


class IdentityView(EnrollmentPage, FormView):
    step = Step.IDENTITY
    template_name = "enrollment/start.html"
    form_class = IdentityForm

    def form_valid(self, form: IdentityForm) -> HttpResponse:  # type: ignore[override]
        outcome = flow.identity_submit(
            self.request,
            tin_last4=form.cleaned_data["tin_last4"],
            birth_date=form.cleaned_data["birth_date"],
            reference=form.cleaned_data["reference"],
        )
        if outcome == IdentityOutcome.CONFIRM_BY_CODE:
            return redirect("enrollment:identity_code")
        return _identity_answered(self, form, outcome)


def _identity_answered(view: FormView, form: Any, outcome: IdentityOutcome) -> HttpResponse:
    """Where step 1 leads once the identity check (or its code) has answered."""
    if outcome == IdentityOutcome.VERIFIED:
        return redirect("enrollment:vehicles")
    if outcome == IdentityOutcome.ALREADY_ENROLLED:
        return _already_enrolled(view.request)
    if outcome == IdentityOutcome.NO_CONTACT:
        return render(view.request, "enrollment/no_contact.html")
    phone = portal.support_phone
    if outcome == IdentityOutcome.LIMITED:
        form.add_error(None, TOO_MANY_ATTEMPTS % {"phone": phone})
        return view.render_to_response(view.get_context_data(form=form), status=429)
    # One message whatever was wrong: naming the field would confirm the others.
    form.add_error(None, NOT_VERIFIED % {"phone": phone})
    return view.render_to_response(view.get_context_data(form=form))


class IdentityCodeView(EnrollmentPage, FormView):
    """Step 1 while the loan is paused: the code that went to the contact on record if the
    details were right. The page is the same whatever they were."""

    step = Step.IDENTITY
    template_name = "enrollment/identity_code.html"
    form_class = ConfirmCodeForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_anonymous and not flow.identity_code_pending(request):
            return redirect("enrollment:start")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["code_minutes"] = max(1, portal.code_ttl_seconds // 60)
        # Still step 1 in the step list, but this page asks for the code, not the details.
        context["page_heading"] = _("Enter your security code")
        return context

    def form_valid(self, form: ConfirmCodeForm) -> HttpResponse:  # type: ignore[override]
        outcome = flow.identity_code_submit(self.request, code=form.cleaned_data["code"])
        if outcome != IdentityOutcome.MISMATCH:
            return _identity_answered(self, form, outcome)
        if not flow.identity_code_pending(self.request):
            messages.error(self.request, CODE_ENDED)
            return redirect("enrollment:start")
        form.add_error("code", WRONG_CODE)
        return self.render_to_response(self.get_context_data(form=form))


class WizardStepView(EnrollmentPage):
    """A step after the first: needs a live wizard whose earlier steps are done."""

    wizard: flow.Wizard

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        request.no_store = True  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            return redirect("profile:vehicles")
        wizard, status = flow.Wizard.lookup(request)
        if wizard is None:
            if status is FlowStatus.EXPIRED:
                minutes = portal.enrollment_idle_seconds // 60
                messages.info(
                    request,
                    ngettext(
                        "Your enrollment timed out after %(minutes)d minute without activity, so "
                        "we cleared what you entered. Please start again.",
                        "Your enrollment timed out after %(minutes)d minutes without activity, so "
                        "we cleared what you entered. Please start again.",
                        minutes,
                    )
                    % {"minutes": minutes},
                )
            return redirect("enrollment:start")
        if not wizard.allows(self.step):
            return redirect(f"enrollment:{wizard.next_step().value}")
        # Every request to a step counts as activity for the idle limit.
        wizard.save(request)
        self.wizard = wizard
        return super().dispatch(request, *args, **kwargs)


class VehiclesView(WizardStepView, FormView):
    step = Step.VEHICLES
    template_name = "enrollment/vehicles.html"
    form_class = VehiclesForm

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs.update(
            customer=self.wizard.customer(), verified_account=self.wizard.verified_account()
        )
        if self.wizard.account_ids is not None and self.request.method == "GET":
            kwargs["initial"] = {"accounts": self.wizard.account_ids}
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form: VehiclesForm = context["form"]
        context["single_vehicle"] = len(form.fields["accounts"].choices) == 1  # type: ignore[attr-defined]
        context["verified_label"] = vehicle_label(form.verified_account)
        return context

    def form_valid(self, form: VehiclesForm) -> HttpResponse:  # type: ignore[override]
        flow.vehicles_submit(self.request, self.wizard, account_ids=form.cleaned_data["accounts"])
        return redirect("enrollment:profile")


class ProfileView(WizardStepView, FormView):
    step = Step.PROFILE
    template_name = "enrollment/profile.html"
    form_class = ProfileForm

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["customer"] = self.wizard.customer()
        kwargs["username_check_allowed"] = lambda: (
            not ip_limit_reached(self.request, flow.USERNAME_LIMIT_GROUP, portal.verify_ip_rate)
        )
        return kwargs

    def form_invalid(self, form: ProfileForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        if form.username_checks_limited:
            response.status_code = 429  # (503 from the middleware if the limit store is down)
        return response

    def form_valid(self, form: ProfileForm) -> HttpResponse:  # type: ignore[override]
        flow.profile_submit(
            self.request,
            self.wizard,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password1"],
            answers=form.challenge_answers(),
        )
        return redirect(f"enrollment:{self.wizard.next_step().value}")


class ConsentView(WizardStepView, FormView):
    step = Step.CONSENT
    template_name = "enrollment/consent.html"
    form_class = ConsentForm

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["lender_name"] = portal.lender_name
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["esign_version"] = portal.esign_version
        return context

    def form_valid(self, form: ConsentForm) -> HttpResponse:  # type: ignore[override]
        flow.consent_submit(self.request, self.wizard)
        return redirect("enrollment:confirm")


class ConfirmView(WizardStepView, FormView):
    """Step 5: a code to the email or the mobile on record, and the code entered."""

    step = Step.CONFIRM
    template_name = "enrollment/confirm.html"

    def get_form_class(self) -> type[ConfirmCodeForm | FinishForm]:
        # Step 1 already proved the contact on record with a code: not asked twice.
        return FinishForm if self.wizard.contact_proven else ConfirmCodeForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        customer, channels = flow.confirmation_channels(self.wizard)
        cooldown = flow.confirmation_cooldown(self.wizard, customer)
        chosen = self.wizard.channel or (channels[0].value if channels else "")
        context.update(
            send_form=SendCodeForm(
                initial={"channel": chosen}, customer=customer, channels=channels
            ),
            code_sent=bool(self.wizard.channel),
            sent_to=_where(Channel(self.wizard.channel), customer) if self.wizard.channel else "",
            cooldown=cooldown,
            code_minutes=max(1, portal.code_ttl_seconds // 60),
            contact_proven=self.wizard.contact_proven,
        )
        return context

    def form_valid(self, form: ConfirmCodeForm | FinishForm) -> HttpResponse:  # type: ignore[override]
        if ip_limit_reached(self.request, flow.CODE_LIMIT_GROUP, portal.verify_ip_rate):
            return too_many_attempts(self.request)
        code = form.cleaned_data.get("code", "")
        outcome = flow.confirm_submit(self.request, self.wizard, code=code)
        if outcome == ConfirmOutcome.ENROLLED:
            messages.success(
                self.request, _("Your enrollment is complete, and you are now logged in.")
            )
            return redirect("enrollment:register_device")
        if outcome == ConfirmOutcome.USERNAME_TAKEN:
            messages.error(
                self.request,
                _(
                    "Someone else took that username a moment ago. Please choose another one "
                    "(and type your password and answers again; we never keep them as typed)."
                ),
            )
            return redirect("enrollment:profile")
        if outcome == ConfirmOutcome.ALREADY_ENROLLED:
            return _already_enrolled(self.request, just_finished=True)
        if outcome == ConfirmOutcome.CODE_VOID:
            form.add_error(
                "code",
                _(
                    "This code can no longer be used (it has expired or was entered wrong too "
                    "many times). Send a new code, then enter the new one."
                )
                if self.wizard.channel
                else _("Send a code first, then enter it here."),
            )
        else:
            form.add_error("code", WRONG_CODE)
        return self.render_to_response(self.get_context_data(form=form))


class SendCodeView(WizardStepView, View):
    """Send code / Send a new code (step 5), with the cool-down security.codes enforces."""

    step = Step.CONFIRM
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if ip_limit_reached(request, flow.SEND_LIMIT_GROUP, portal.verify_ip_rate):
            return too_many_attempts(request)
        customer, channels = flow.confirmation_channels(self.wizard)
        form = SendCodeForm(request.POST, customer=customer, channels=channels)
        if not form.is_valid():
            messages.error(request, CHOOSE_CHANNEL)
            return redirect("enrollment:confirm")
        channel = form.cleaned_data["channel"]
        try:
            flow.confirmation_send(request, self.wizard, channel=channel)
        except CodeCooldown as wait:
            messages.error(request, wait.message)
        except CodeSendLimited as limited:
            messages.error(request, limited.message)
        except CodeDeliveryError:
            messages.error(
                request,
                _(
                    "We could not send the code just now. Please try again in a moment, or "
                    "choose the other way to receive it."
                ),
            )
        else:
            minutes = max(1, portal.code_ttl_seconds // 60)
            messages.success(
                request,
                ngettext(
                    "We sent a 6-digit code by %(where)s. It expires in %(minutes)d minute.",
                    "We sent a 6-digit code by %(where)s. It expires in %(minutes)d minutes.",
                    minutes,
                )
                % {"where": _where(channel, customer), "minutes": minutes},
            )
        return redirect("enrollment:confirm")


def _where(channel: Channel, customer: Customer) -> str:
    """ "email to d***@example.com", "text message to (***) ***-0123": the contact on record,
    masked."""
    label = channel_choice_label(channel, email=customer.email, phone=customer.mobile_phone)
    return label[:1].lower() + label[1:]


class DeclineView(WizardStepView, TemplateView):
    step = Step.CONSENT
    template_name = "enrollment/declined.html"


@require_http_methods(["GET", "HEAD", "POST"])
def register_device(request: HttpRequest) -> HttpResponse:
    """Register this device? Offered once, right after enrollment signed the customer in; either
    answer lands on My Vehicles."""
    request.no_store = True  # type: ignore[attr-defined]
    if not request.user.is_authenticated:
        return redirect("enrollment:start")
    if not flow.device_offer_pending(request):
        return redirect("profile:vehicles")
    form = RegisterDeviceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        response: HttpResponseRedirect = redirect("profile:vehicles")
        register = form.cleaned_data["choice"] is DeviceChoice.REGISTER
        user = cast(User, request.user)  # authenticated: checked above
        flow.device_offer_answer(request, user=user, register=register, response=response)
        if register:
            messages.success(
                request, _("This device is registered. Next time, your password is enough here.")
            )
        return response
    return render(request, "security/register_device.html", {"form": form})
