"""The "Register this device?" question, asked after step-up and after enrollment alike."""

from __future__ import annotations

from enum import StrEnum

from django import forms
from django.utils.translation import gettext_lazy


class DeviceChoice(StrEnum):
    REGISTER = "register"
    SKIP = "skip"


class RegisterDeviceForm(forms.Form):
    choice = forms.TypedChoiceField(
        choices=[
            (DeviceChoice.REGISTER.value, gettext_lazy("Register this device")),
            (DeviceChoice.SKIP.value, gettext_lazy("Not now")),
        ],
        coerce=DeviceChoice,
    )
