"""Forms of My Vehicles and My Online Profile: they validate; online_profile.flow acts.

After a failed submission everything the customer typed is kept except what was wrong and the
identity data (TIN digits, date of birth) and codes. Passwords and answers the rules accepted are
shown again (CustomerForm.kept_secrets): every page here is sent with Cache-Control: no-store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
)
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts import fields
from accounts.forms import CustomerForm, IdentityForm
from accounts.forms import forget as forget  # the views empty failed codes' boxes with it
from security import two_step
from security.challenge import (
    MIN_ANSWER_LENGTH,
    REQUIRED_QUESTIONS,
    challenge_set_problems,
    question_choices,
    question_text,
    replacement_problems,
)
from security.models import ChallengeAnswer
from security.password_forms import check_new_password, new_password_field

if TYPE_CHECKING:
    from accounts.models import User

KEEP_QUESTION = ""


def _answer_help() -> str:
    return ngettext(
        "At least %(count)d character; capitals and spaces do not matter.",
        "At least %(count)d characters; capitals and spaces do not matter.",
        MIN_ANSWER_LENGTH,
    ) % {"count": MIN_ANSWER_LENGTH}


ANSWER_HELP = lazy(_answer_help, str)()
# The error code of a wrong current password, on every form that asks for it (ReauthForm,
# PasswordChangeForm): the views count exactly these errors as failed password checks.
WRONG_PASSWORD = "wrong_password"  # noqa: S105 (an error code)


class _CodeInput(forms.TextInput):
    def __init__(self, **attrs: Any) -> None:
        super().__init__(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "maxlength": "7",
                **attrs,
            }
        )


# --- My Vehicles ----------------------------------------------------------------------------------
class VehicleAddForm(IdentityForm):
    """Enrollment's identity check, asked the same way: the same fields, rules and messages."""

    field_order = ["reference", "tin_last4", "birth_date"]


# --- Challenge Questions --------------------------------------------------------------------------
class ChallengeQuestionUpdateForm(CustomerForm):
    """Replace the answer of one question, optionally switching to another question."""

    current = forms.ChoiceField(
        label=gettext_lazy("Select a question"),
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Select the question you want to change.")},
    )
    new_question = forms.ChoiceField(
        label=gettext_lazy("New question"),
        required=False,
        help_text=gettext_lazy("Keep the question, or choose another one."),
    )
    answer = forms.CharField(
        label=gettext_lazy("New answer"),
        max_length=100,
        strip=False,
        help_text=ANSWER_HELP,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    kept_secrets = (("answer",),)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.rows = list(ChallengeAnswer.objects.filter(user=user).order_by("id"))
        current: forms.ChoiceField = self.fields["current"]  # type: ignore[assignment]
        current.choices = [(row.question, question_text(row.question)) for row in self.rows]
        new_question: forms.ChoiceField = self.fields["new_question"]  # type: ignore[assignment]
        new_question.choices = [(KEEP_QUESTION, _("Keep this question")), *question_choices()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        current = cleaned.get("current")
        answer = cleaned.get("answer")
        if not current:
            return cleaned
        new_question = cleaned.get("new_question") or current
        cleaned["new_question"] = new_question
        others = [row for row in self.rows if row.question != current]
        question_error, answer_error = replacement_problems(new_question, answer, others=others)
        if question_error:
            self.add_error("new_question", question_error)
        if answer_error:
            self.add_error("answer", answer_error)
        return cleaned


class ChallengeQuestionsResetForm(CustomerForm):
    """Three new questions and answers at once (support asked the customer to replace them)."""

    kept_secrets = tuple((f"answer_{i}",) for i in range(1, REQUIRED_QUESTIONS + 1))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, REQUIRED_QUESTIONS + 1):
            self.fields[f"question_{i}"] = forms.ChoiceField(
                label=_("Question %(number)d") % {"number": i},
                choices=[("", _("Choose a question")), *question_choices()],
            )
            self.fields[f"answer_{i}"] = forms.CharField(
                label=_("Answer to question %(number)d") % {"number": i},
                max_length=100,
                strip=False,
                help_text=ANSWER_HELP,
                widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        positions = range(1, REQUIRED_QUESTIONS + 1)
        pairs = [(cleaned.get(f"question_{i}"), cleaned.get(f"answer_{i}")) for i in positions]
        for i, (question_error, answer_error) in zip(
            positions, challenge_set_problems(pairs), strict=True
        ):
            if question_error:
                self.add_error(f"question_{i}", question_error)
            if answer_error:
                self.add_error(f"answer_{i}", answer_error)
        return cleaned

    def answers(self) -> list[tuple[str, str]]:
        return [
            (self.cleaned_data[f"question_{i}"], self.cleaned_data[f"answer_{i}"])
            for i in range(1, REQUIRED_QUESTIONS + 1)
        ]


# --- Password -------------------------------------------------------------------------------------
class PasswordChangeForm(CustomerForm):
    current_password = forms.CharField(
        label=gettext_lazy("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = new_password_field(
        gettext_lazy("New password"), gettext_lazy("Choose a new password.")
    )
    new_password2 = new_password_field(
        gettext_lazy("Confirm new password"),
        gettext_lazy("Type your new password again to confirm it."),
    )
    kept_secrets = (("current_password",), ("new_password1", "new_password2"))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["new_password1"].help_text = " ".join(password_validators_help_texts())

    def clean_current_password(self) -> str:
        return _current_password(
            self.user,
            self.cleaned_data["current_password"],
            _("This is not your current password."),
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        check_new_password(self, cleaned, self.user, first="new_password1", second="new_password2")
        return cleaned


# --- Contact information --------------------------------------------------------------------------
class ContactForm(CustomerForm):
    email = forms.EmailField(
        label=gettext_lazy("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    mobile_phone = forms.CharField(
        label=gettext_lazy("Mobile phone"),
        required=False,
        max_length=25,
        help_text=gettext_lazy(
            "For security codes by text message. Leave empty to have codes sent by email."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"email": user.email, "mobile_phone": user.mobile_phone})
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip()

    def clean_mobile_phone(self) -> str:
        value = self.cleaned_data["mobile_phone"].strip()
        return fields.mobile_phone(value) if value else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not self.changes():
            raise ValidationError(_("This is already your contact information."))
        return cleaned

    def changes(self) -> dict[str, str]:
        """What differs from what is on file: {"email": new} and/or {"mobile_phone": new}."""
        changed: dict[str, str] = {}
        email = self.cleaned_data.get("email")
        if email is not None and email.casefold() != (self.user.email or "").casefold():
            changed["email"] = email
        phone = self.cleaned_data.get("mobile_phone")
        if phone is not None and phone != (self.user.mobile_phone or ""):
            changed["mobile_phone"] = phone
        return changed


class ContactConfirmForm(CustomerForm):
    """The codes sent to each new address."""

    def __init__(self, *args: Any, email: bool, phone: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if email:
            self.fields["email_code"] = forms.CharField(
                label=_("Code sent to your new email address"), max_length=7, widget=_CodeInput()
            )
        if phone:
            self.fields["phone_code"] = forms.CharField(
                label=_("Code sent to your new mobile phone"), max_length=7, widget=_CodeInput()
            )


# --- Two-step verification and re-authentication -------------------------------------------------
class AppCodeForm(CustomerForm):
    code = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"),
        max_length=7,
        help_text=gettext_lazy("The 6-digit code the app shows now."),
        widget=_CodeInput(),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_code(self) -> str:
        # After wrong codes django-otp refuses every code for a few seconds, the right one too:
        # say how long to wait instead of checking (and calling a right code wrong).
        wait = two_step.totp_wait_seconds(user=self.user, pending=True)
        if wait:
            raise ValidationError(two_step.totp_wait_message(wait))
        return str(self.cleaned_data["code"])


class ReauthForm(CustomerForm):
    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        return _current_password(
            self.user, self.cleaned_data["password"], _("This password is not correct.")
        )


def _current_password(user: User, password: str, message: str) -> str:
    """The signed-in customer's password, as typed; ValidationError(code=WRONG_PASSWORD) if it is
    not theirs."""
    if not user.check_password(password):
        raise ValidationError(message, code=WRONG_PASSWORD)
    return password
