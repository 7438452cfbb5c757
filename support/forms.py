"""Forms of the support console: staff login with an authenticator code, and the actions."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import fields


class StaffLoginForm(OTPAdminAuthenticationForm):
    """Username, password and the current code of the staff member's authenticator app.

    Staff have exactly one app (made by create_support_user), so it is chosen for them; a staff
    account without a confirmed app cannot sign in at all.
    """

    otp_token = forms.CharField(
        label="Code from your authenticator app",
        required=False,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    error_messages = {
        **OTPAdminAuthenticationForm.error_messages,
        "no_device": (
            "This staff account has no authenticator app set up, so it cannot use the support "
            "console. Ask a supervisor to set one up."
        ),
    }

    def clean_otp(self, user: Any) -> None:
        if user is not None:
            device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()
            if device is None:
                raise forms.ValidationError(self.error_messages["no_device"], code="no_device")
            # django-otp then loads it with select_for_update, so one code is accepted once.
            self.cleaned_data["otp_device"] = device.persistent_id
        super().clean_otp(user)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        help_text="Why you are doing this, e.g. what the caller asked for. It goes in the audit trail.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 60}),
    )


class IdentityCheckForm(forms.Form):
    """What the caller says, checked by the same rules as the customer's own identity check
    (accounts.fields); the messages are written for the agent."""

    tin_last4 = forms.CharField(
        label="Last 4 digits of SSN or TIN",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "numeric", "maxlength": 4, "size": 6}
        ),
    )
    birth_date = forms.DateField(
        label="Date of birth",
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "off"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter the date of birth the caller says."},
    )

    def clean_tin_last4(self) -> str:
        try:
            return fields.tin_last4(self.cleaned_data["tin_last4"])
        except ValidationError:
            raise ValidationError("Enter the 4 digits the caller says.") from None

    def clean_birth_date(self) -> date:
        # Picked in a date input; the range (not in the future, not before 1900) is the rule's.
        return fields.birth_date_in_range(self.cleaned_data["birth_date"])


class QuestionCheckForm(forms.Form):
    question = forms.ChoiceField(label="Challenge question")
    answer = forms.CharField(
        label="Caller's answer",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, questions: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["question"].choices = questions  # type: ignore[attr-defined]
