"""The identity check customers pass to enroll, recover access or add a vehicle.

Shared by enrollment step 1, Forgot username? / Forgot password? and Add a vehicle, so all ask
with the same fields, rules and messages (accounts.fields); security.identity_check does the
check.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from accounts import fields


class UnrenderedTextInput(forms.TextInput):
    """A text box that never sends what was typed back to the browser (identity data,
    challenge answers): after an error the customer types it again."""

    def format_value(self, value: Any) -> str | None:
        return None


class StepForm(forms.Form):
    """Labels read exactly as the customer is told ("Username", not "Username:")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class IdentityForm(StepForm):
    tin_last4 = forms.CharField(
        label="Last 4 digits of SSN or TIN",
        max_length=10,
        widget=UnrenderedTextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "size": 6, "maxlength": 10}
        ),
        error_messages={"required": "Enter the last 4 digits of your SSN or TIN."},
    )
    birth_date = forms.CharField(
        label="Date of birth",
        help_text="mm/dd/yyyy",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "bday", "inputmode": "numeric", "size": 12}),
        error_messages={"required": "Enter your date of birth as mm/dd/yyyy."},
    )
    reference = forms.CharField(
        label="Account number or VIN",
        help_text="Your loan account number, or the 17-character vehicle identification number.",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": "Enter your account number or your vehicle's VIN."},
    )

    def clean_tin_last4(self) -> str:
        return fields.tin_last4(self.cleaned_data["tin_last4"])

    def clean_birth_date(self) -> date:
        return fields.birth_date(self.cleaned_data["birth_date"])

    def clean_reference(self) -> str:
        # A bad VIN is refused here, before the identity check counts an attempt against it.
        return fields.reference(self.cleaned_data["reference"])
