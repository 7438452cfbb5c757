"""The four enrollment steps. Each view picks its form, hands valid data to enrollment.flow and
redirects; the flow owns the wizard state and every write."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.generic import FormView, TemplateView

from accounts.forms import IdentityForm
from enrollment import flow
from enrollment.flow import (
    STEP_ORDER,
    STEP_SHORT_TITLES,
    STEP_TITLES,
    FinishOutcome,
    IdentityOutcome,
    Step,
)
from enrollment.forms import ConsentForm, ProfileForm, VehiclesForm, vehicle_label
from portal.conf import portal
from security.flow_state import FlowStatus

TOO_MANY_ATTEMPTS = (
    "There have been too many attempts. For your security, please try again later, "
    "or call us at {phone}."
)
NOT_VERIFIED = (
    "We couldn't verify your information. Please check what you entered and try again. "
    "If you still cannot enroll, call us at {phone}."
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
        if outcome == IdentityOutcome.VERIFIED:
            return redirect("enrollment:vehicles")
        if outcome == IdentityOutcome.ALREADY_ENROLLED:
            return _already_enrolled(self.request)
        phone = portal.support_phone
        if outcome == IdentityOutcome.LIMITED:
            form.add_error(None, TOO_MANY_ATTEMPTS.format(phone=phone))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        # One message whatever was wrong: naming the field would confirm the others.
        form.add_error(None, NOT_VERIFIED.format(phone=phone))
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
                messages.info(
                    request,
                    "Your enrollment timed out after "
                    f"{portal.enrollment_idle_seconds // 60} minutes without activity, so we "
                    "cleared what you entered. Please start again.",
                )
            elif flow.enrollment_just_completed(request):
                messages.info(request, "Your enrollment is complete. Please log in.")
                return redirect("signin:login")
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
        customer = self.wizard.customer()
        kwargs["customer"] = customer
        kwargs["initial"] = {"email": customer.email, "mobile_phone": customer.mobile_phone}
        return kwargs

    def form_valid(self, form: ProfileForm) -> HttpResponse:  # type: ignore[override]
        flow.profile_submit(
            self.request,
            self.wizard,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password1"],
            email=form.cleaned_data["email"],
            mobile_phone=form.cleaned_data["mobile_phone"],
            answers=form.challenge_answers(),
        )
        return redirect("enrollment:consent")


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
        outcome = flow.finish(self.request, self.wizard)
        if outcome == FinishOutcome.USERNAME_TAKEN:
            messages.error(
                self.request,
                "Someone else took that username a moment ago. Please choose another one "
                "(and type your password and answers again; we never keep them as typed).",
            )
            return redirect("enrollment:profile")
        if outcome == FinishOutcome.ALREADY_ENROLLED:
            return _already_enrolled(self.request, just_finished=True)
        messages.success(
            self.request,
            "Your enrollment is complete. Log in with your new username and password.",
        )
        if outcome == FinishOutcome.ENROLLED_EMAIL_FAILED:
            messages.warning(
                self.request,
                "We could not send your confirmation email just now. Your online account is "
                "ready all the same.",
            )
        return redirect("signin:login")


class DeclineView(WizardStepView, TemplateView):
    step = Step.CONSENT
    template_name = "enrollment/declined.html"
