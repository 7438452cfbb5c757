"""The "Register this device?" question, asked after step-up and after enrollment alike."""

from __future__ import annotations

from enum import StrEnum

from django import forms


class DeviceChoice(StrEnum):
    REGISTER = "register"
    SKIP = "skip"


class RegisterDeviceForm(forms.Form):
    choice = forms.TypedChoiceField(
        choices=[
            (DeviceChoice.REGISTER.value, "Register this device"),
            (DeviceChoice.SKIP.value, "Not now"),
        ],
        coerce=DeviceChoice,
    )
