"""The form for a security code we sent by email or text message."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from accounts.forms import CustomerForm


class SentCodeForm(CustomerForm):
    """The 6-digit code as the customer typed it; spaces and dashes (as some phones paste it)
    are ignored."""

    code = forms.CharField(
        label=gettext_lazy("Security code"),
        help_text=gettext_lazy("The 6-digit code we just sent you."),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
        error_messages={"required": gettext_lazy("Enter the security code we sent you.")},
    )

    def clean_code(self) -> str:
        value = re.sub(r"[\s-]", "", self.cleaned_data["code"])
        if not re.fullmatch(r"\d{6}", value):
            raise ValidationError(gettext_lazy("Enter the 6 digits of the security code."))
        return value
