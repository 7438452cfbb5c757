"""Forms of account recovery. The identity check is enrollment step 1's own form, so both
flows accept and refuse exactly the same input."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy, ngettext

from accounts.forms import CustomerForm, IdentityForm
from portal.conf import portal
from security.code_forms import SentCodeForm
from security.codes import Channel, channel_choice_label, channels_on_file
from security.password_forms import check_new_password, new_password_field

__all__ = [
    "ChannelForm",
    "CodeForm",
    "IdentityForm",
    "NewPasswordForm",
    "PasswordRecoveryForm",
]


class PasswordRecoveryForm(IdentityForm):
    """Username plus the identity check. Whether the username exists is never said."""

    username = forms.CharField(
        label=gettext_lazy("Username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    field_order = ["username", "tin_last4", "birth_date", "reference"]


class ChannelForm(CustomerForm):
    """Where the security code goes: the email or mobile phone on file, shown masked."""

    channel = forms.TypedChoiceField(
        label=gettext_lazy("Send my security code by"),
        coerce=Channel,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose where we should send your security code.")
        },
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            (
                channel.value,
                channel_choice_label(channel, email=user.email, phone=user.mobile_phone),
            )
            for channel in channels_on_file(user)
        ]
        field = cast(forms.TypedChoiceField, self.fields["channel"])
        field.choices = choices
        if choices:
            # The first contact on file is chosen already, so Tab and Send code just work.
            field.initial = choices[0][0]


class CodeForm(SentCodeForm):
    """The code sent to the contact on record."""


class NewPasswordForm(CustomerForm):
    """A new password under the enrollment rules (settings.AUTH_PASSWORD_VALIDATORS)."""

    # Lazy, so each page reads them in its language (cast: the helper is typed for str).
    password1 = new_password_field(
        cast(str, gettext_lazy("Password")), cast(str, gettext_lazy("Choose a new password."))
    )
    password2 = new_password_field(
        cast(str, gettext_lazy("Confirm password")),
        cast(str, gettext_lazy("Type your new password again to confirm it.")),
    )
    # The page is no-store: a password the rules accepted is shown again after an error.
    kept_secrets = (("password1", "password2"),)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["password1"].help_text = ngettext(
            "At least %(count)d character. Spaces and any characters are allowed; a few "
            "unrelated words make a strong password.",
            "At least %(count)d characters. Spaces and any characters are allowed; a few "
            "unrelated words make a strong password.",
            portal.password_min_length,
        ) % {"count": portal.password_min_length}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        check_new_password(self, data, self.user)
        return data
