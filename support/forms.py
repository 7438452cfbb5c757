"""Forms of the support console: staff login with an authenticator code, and the actions."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import dateformat, timezone
from django.views.decorators.debug import sensitive_variables

from accounts import fields
from portal.conf import portal
from support import flow

WRONG_COMBINATION = "The username, password or code is not right."
LOCKED = (
    "This staff login is locked for {minutes} after too many attempts. "
    "Ask a supervisor, or try again later."
)


class _CodeInput(forms.TextInput):
    """A code is never shown again: a wrong or used one is no use, and a refused form must not
    differ by the code typed."""

    def format_value(self, value: Any) -> str | None:
        return None


class StaffLoginForm(AdminAuthenticationForm):
    """Username, password and the current code of the staff member's authenticator app, checked
    together by support.flow.staff_login_check (with the customers' lockout).

    Any wrong combination gets one message, whatever was wrong; a locked username gets the lock
    message whether or not it exists. Staff have exactly one app (made by create_support_user),
    so it is chosen for them. On success the user carries the app as `otp_device`, which
    django-otp's user_logged_in receiver stores in the session (as django_otp.login does), so the
    console sees the staff member as verified.
    """

    otp_token = forms.CharField(
        label="Code from your authenticator app",
        required=False,
        max_length=8,
        widget=_CodeInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "wrong": WRONG_COMBINATION,
        "locked": LOCKED,
    }

    @sensitive_variables()
    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if self.errors or not username or not password:
            return self.cleaned_data  # the fields say what is missing; nothing was checked
        result = flow.staff_login_check(
            request=self.request,
            username=username,
            password=password,
            code=self.cleaned_data.get("otp_token", ""),
        )
        if result.outcome == flow.StaffLoginOutcome.LOCKED:
            # The configured time, the same for every username (known or not).
            n = math.ceil(portal.lockout_seconds / 60)
            minutes = f"{n} minute" if n == 1 else f"{n} minutes"
            raise ValidationError(
                self.error_messages["locked"].format(minutes=minutes), code="locked"
            )
        if result.outcome != flow.StaffLoginOutcome.SIGNED_IN or result.user is None:
            raise ValidationError(self.error_messages["wrong"], code="wrong")
        result.user.otp_device = result.device  # type: ignore[attr-defined]
        self.user_cache = result.user
        return self.cleaned_data


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        help_text="Why you are doing this, e.g. what the caller asked for. It goes in the audit trail.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 60}),
    )


def _day(moment: datetime) -> str:
    """A date as the customer's page shows it (in the portal's time zone)."""
    return dateformat.format(timezone.localtime(moment), "M j, Y")


class PasskeyRemoveForm(ReasonForm):
    """Which of the customer's passkeys to remove, and why. The list shows the customer's own;
    the id posted is looked up among them by support.flow (another customer's is not found)."""

    passkey = forms.IntegerField(label="Passkey", widget=forms.Select, min_value=1)
    field_order = ["passkey", "reason"]

    def __init__(
        self, *args: Any, passkeys: Sequence[Mapping[str, Any]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["passkey"].widget.choices = [  # type: ignore[attr-defined]
            ("", "Choose a passkey"),
            *(
                (passkey["id"], f"{passkey['name']} (added {_day(passkey['created_at'])})")
                for passkey in passkeys
            ),
        ]


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
