"""Forms of the sign-in pages. They validate shape only; signin/flow.py decides."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from accounts.forms import CustomerForm
from security.codes import Channel, channel_choice_label


class LoginForm(CustomerForm):
    username = forms.CharField(
        label="Username",
        max_length=150,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "username",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )
    # Long passphrases welcome (at least 64 characters, NIST); the cap only stops absurd bodies
    # from reaching the hasher. Paste is allowed: nothing here blocks it.
    password = forms.CharField(
        label="Password",
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # the labels read exactly "Username", "Password"
        super().__init__(*args, **kwargs)


class StepUpForm(forms.Form):
    """The pending step-up stages: the challenge question's **Answer**, the **Security code**."""

    answer = forms.CharField(
        label="Answer",
        max_length=200,
        strip=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    code = forms.CharField(
        label="Security code",
        max_length=40,  # 6 digits, or a backup code of 28 characters in groups
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    def __init__(
        self, *args: Any, question: str = "", needs_answer: bool, needs_code: bool, **kwargs: Any
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if needs_answer:
            self.fields["answer"].help_text = question
        else:
            del self.fields["answer"]
        if needs_code:
            self.fields["code"].help_text = (
                "The 6-digit code we sent you or your authenticator app shows. "
                "You can also enter one of your backup codes."
            )
        else:
            del self.fields["code"]


class SendCodeForm(forms.Form):
    channel = forms.TypedChoiceField(
        label="Where should we send your security code?", widget=forms.RadioSelect, coerce=Channel
    )

    def __init__(
        self, *args: Any, channels: list[Channel], email: str, phone: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["channel"])
        field.choices = [
            (channel.value, channel_choice_label(channel, email=email, phone=phone))
            for channel in channels
        ]
        if channels and not self.is_bound:
            self.initial.setdefault("channel", channels[0])
