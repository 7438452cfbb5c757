"""Forms of the sign-in pages. They validate shape only; signin/flow.py decides."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.forms import CustomerForm
from security.codes import Channel, channel_choice_label

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class LoginForm(CustomerForm):
    username = forms.CharField(
        label=gettext_lazy("Username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={
                # "webauthn": the browser may offer the customer's passkeys in its autofill
                # (static/js/passkeys.js asks for them with conditional mediation).
                "autocomplete": "username webauthn",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )
    # Long passphrases welcome (at least 64 characters, NIST); the cap only stops absurd bodies
    # from reaching the hasher. Paste is allowed: nothing here blocks it.
    password = forms.CharField(
        label=gettext_lazy("Password"),
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # the labels read exactly "Username", "Password"
        super().__init__(*args, **kwargs)


class StepUpAction(StrEnum):
    """The two buttons of the one step-up form (name="action")."""

    CONTINUE = "continue"
    SEND = "send"


class StepUpForm(CustomerForm):
    """The one step-up form: the challenge question (its text is the answer's label), where to
    send a security code (a choice only when there are several), and the code.

    **Send code** (action=send) needs only a channel, so an answer typed first is not lost;
    **Continue** needs every pending stage.
    """

    answer = forms.CharField(
        max_length=200,
        strip=False,
        help_text=gettext_lazy("Capital letters and extra spaces don't matter."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": gettext_lazy("Enter your answer.")},
    )
    channel = forms.TypedChoiceField(
        label=gettext_lazy("Where should we send your security code?"),
        widget=forms.RadioSelect,
        coerce=Channel,
        error_messages={
            "required": gettext_lazy("Choose where we should send your security code.")
        },
    )
    code = forms.CharField(
        label=gettext_lazy("Security code"),
        max_length=40,  # 6 digits, or a backup code of 28 characters in groups
        # Backup codes have letters: no numeric keypad, no capitalising, no spell-checking.
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autocapitalize": "off",
                "spellcheck": "false",
            }
        ),
        error_messages={"required": gettext_lazy("Enter the security code.")},
    )

    def __init__(
        self,
        *args: Any,
        question: str = "",
        needs_answer: bool,
        needs_code: bool,
        channels: list[Channel],
        email: str = "",
        phone: str = "",
        channel: Channel | None = None,
        uses_app: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.action = StepUpAction.CONTINUE
        if needs_code and self.is_bound and self.data.get("action") == StepUpAction.SEND:
            self.action = StepUpAction.SEND  # (no code asked: there is nothing to send)
        if needs_answer:
            self.fields["answer"].label = question
        else:
            del self.fields["answer"]
        field = cast(forms.TypedChoiceField, self.fields["channel"])
        field.choices = [
            (option.value, channel_choice_label(option, email=email, phone=phone))
            for option in channels
        ]
        self.only_channel = channels[0] if len(channels) == 1 else None
        if not needs_code or self.only_channel is not None or not channels:
            del self.fields["channel"]
        else:
            self.initial.setdefault("channel", channel or channels[0])
        if needs_code:
            self.fields["code"].help_text = (
                _("The 6-digit code your authenticator app shows, or one of your backup codes.")
                if uses_app
                else _("The 6-digit code we sent you, or one of your backup codes.")
            )
        else:
            del self.fields["code"]
        if self.action is StepUpAction.SEND:
            # Sending a code checks nothing the customer typed: the answer waits for Continue.
            for name in ("answer", "code"):
                if name in self.fields:
                    self.fields[name].required = False
        elif "channel" in self.fields:
            self.fields["channel"].required = False

    def refuse(self, errors: dict[str, StrOrPromise]) -> None:
        """Shows on this fresh (unbound) form what the check of the last Continue found wrong,
        by field."""
        self.cleaned_data = {}  # add_error expects a cleaned form; nothing was cleaned here
        for name, message in errors.items():
            self.add_error(name, message)

    def chosen_channel(self) -> Channel | None:
        """Where to send the code: the choice made, or the only contact on file."""
        return self.cleaned_data.get("channel") or self.only_channel
