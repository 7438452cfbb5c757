"""The identity check customers pass to enroll, recover access or add a vehicle.

Shared by enrollment step 1, Forgot username? / Forgot password? and Add a vehicle, so all ask
with the same fields, rules and messages; security.identity_check does the check.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.identity import looks_like_vin, normalize_reference, vin_problem


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


_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_DATE_OTHER_SEPARATORS = re.compile(r"^\d{1,2}\s*[^\d/]\s*\d{1,2}\s*[^\d/]\s*\d{4}$")
_ACCOUNT_NUMBER = re.compile(r"^[A-Z0-9]{4,20}$")


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
        value = re.sub(r"\s", "", self.cleaned_data["tin_last4"])
        if not re.fullmatch(r"\d{4}", value):
            raise ValidationError("Enter exactly 4 digits: the last 4 of your SSN or TIN.")
        return value

    def clean_birth_date(self) -> date:
        value = self.cleaned_data["birth_date"].strip()
        match = _DATE.match(value)
        if match is None:
            if _DATE_OTHER_SEPARATORS.match(value):
                raise ValidationError(
                    "Use forward slashes between month, day and year, e.g. mm/dd/yyyy."
                )
            raise ValidationError("Enter your date of birth as mm/dd/yyyy, e.g. 04/12/1985.")
        month, day, year = (int(part) for part in match.groups())
        try:
            born = date(year, month, day)
        except ValueError:
            raise ValidationError(
                "That date does not exist. Check the month (01-12) and the day."
            ) from None
        if born > timezone.localdate():
            raise ValidationError("Your date of birth cannot be in the future.")
        if year < 1900:
            raise ValidationError("Check the year of your date of birth.")
        return born

    def clean_reference(self) -> str:
        value = normalize_reference(self.cleaned_data["reference"])
        if looks_like_vin(value):
            # Refused here, before the identity check counts an attempt against it.
            problem = vin_problem(value)
            if problem:
                raise ValidationError(problem)
            return value
        if not _ACCOUNT_NUMBER.match(value):
            raise ValidationError(
                "Enter your account number (letters and digits only) or your 17-character VIN."
            )
        return value
