"""The forms that carry a browser's passkey answer (filled in by static/js/passkeys.js)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from accounts.forms import CustomerForm
from security.passkeys import MAX_RESPONSE_LENGTH

NO_PASSKEY = gettext_lazy(
    "Your browser did not send a passkey. Passkeys need a browser that supports them, with "
    "JavaScript turned on."
)


class PasskeyResponseForm(CustomerForm):
    """The JSON the browser's navigator.credentials call returned: public data (a public key,
    or a signature over a challenge used once), checked by security.passkeys."""

    # Not required here: its absence is the form's error, not that of a box nobody can see.
    credential = forms.CharField(
        max_length=MAX_RESPONSE_LENGTH, required=False, widget=forms.HiddenInput
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("credential") and "credential" not in self.errors:
            raise forms.ValidationError(NO_PASSKEY)
        return cleaned


class PasskeyAddForm(PasskeyResponseForm):
    name = forms.CharField(
        label=gettext_lazy("Passkey name (optional)"),
        max_length=100,
        required=False,
        help_text=gettext_lazy(
            "So you can tell your passkeys apart, such as Work laptop. If you leave it empty, "
            "we name it after this browser."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
