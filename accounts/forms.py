"""The identity check customers pass to enroll, recover access or add a vehicle.

Shared by enrollment step 1, Forgot username? / Forgot password? and Add a vehicle, so all ask
with the same fields, rules and messages (accounts.fields); security.identity_check does the
check.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import fields


class UnrenderedTextInput(forms.TextInput):
    """A text box that never sends what was typed back to the browser (identity data): after an
    error the customer types it again."""

    def format_value(self, value: Any) -> str | None:
        return None


def _phrase(label: str) -> str:
    """A label inside a sentence: "Date of birth" -> "date of birth", "VIN" stays "VIN"."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]


# Words that show a label already says whose the value is ("Code sent to your new email
# address"), in each language of the portal: such a label reads "Enter the ...", not "your".
_OWNER_WORDS = frozenset({"your", "su", "sus"})


def customer_messages(field: forms.Field, name: str) -> dict[str, str]:
    """Messages in the customer's words for each error `field` can give, made from its label in
    the active language: "Enter your date of birth.", "Username must be 60 characters or
    fewer." Django's own ("This field is required.", "Ensure this value has at most ...") say
    neither which field nor what to do. Each is one whole translatable sentence with the label
    as a placeholder; where a language cannot fit a label into it (Spanish articles follow the
    noun), its translation quotes the label instead, and a field whose message still reads badly
    sets its own."""
    label = str(field.label or name.replace("_", " ").capitalize())
    phrase = _phrase(label)
    owned = not _OWNER_WORDS.isdisjoint(phrase.lower().split())
    values = {"field": phrase}
    messages: dict[str, str] = {
        "invalid": (
            _("Check the %(field)s: it is not in the form we expect.")
            if owned
            else _("Check your %(field)s: it is not in the form we expect.")
        )
        % values
    }
    if isinstance(field, forms.BooleanField):
        messages["required"] = _("Tick the box to continue.")
    elif isinstance(field, forms.ChoiceField | forms.ModelMultipleChoiceField):
        messages["required"] = _("Choose %(field)s.") % values
    else:
        messages["required"] = (
            _("Enter the %(field)s.") if owned else _("Enter your %(field)s.")
        ) % values
    if isinstance(field, forms.EmailField):
        messages["invalid"] = _(
            "Enter an email address in the correct format, like name@example.com."
        )
    # Only a changed page can send a value that was not offered.
    for code in ("invalid_choice", "invalid_list", "invalid_pk_value"):
        messages[code] = _("Choose one of the options shown.")
    if isinstance(field, forms.CharField):
        # Django fills in %(limit_value)s when it shows these, so the label's own % is doubled.
        limit = {"field": label.replace("%", "%%"), "limit_value": "%(limit_value)s"}
        messages["max_length"] = _("%(field)s must be %(limit_value)s characters or fewer.") % limit
        messages["min_length"] = _("%(field)s must be at least %(limit_value)s characters.") % limit
        messages["null_characters_not_allowed"] = (
            _("Check the %(field)s: it contains a character we cannot accept.")
            if owned
            else _("Check your %(field)s: it contains a character we cannot accept.")
        ) % values
    return messages


def django_default_messages(field: forms.Field) -> dict[str, str]:
    """The messages Django gives `field` unless told otherwise, by error code."""
    defaults: dict[str, str] = {}
    for klass in reversed(type(field).__mro__):
        defaults.update(getattr(klass, "default_error_messages", {}))
    return {code: str(message) for code, message in defaults.items()}


class CustomerForm(forms.Form):
    """Base of every form customers fill in.

    Labels read exactly as the customer is told ("Username", not "Username:"). Every message a
    field keeps from Django is replaced by customer_messages(); a message the field sets itself
    stays. Applied at validation, so fields a subclass adds in __init__ are covered too.

    `kept_secrets` names password boxes shown again after an error, in groups: a box keeps what
    was typed only if it, and every box before it in its group, had no error (a confirmation is
    no use without the password it confirms). Only for pages sent with Cache-Control: no-store,
    so the browser keeps no copy of the page.
    """

    kept_secrets: tuple[tuple[str, ...], ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def full_clean(self) -> None:
        for name in (name for group in self.kept_secrets for name in group):
            widget = self.fields[name].widget
            if isinstance(widget, forms.PasswordInput):
                widget.render_value = True
        for name, field in self.fields.items():
            defaults = django_default_messages(field)
            for code, message in customer_messages(field, name).items():
                current = field.error_messages.get(code)
                if current is None or str(current) == defaults.get(code):
                    field.error_messages[code] = message
        super().full_clean()
        if self.is_bound and self.errors:
            self._forget_refused_secrets()

    def _forget_refused_secrets(self) -> None:
        refused: list[str] = []
        for group in self.kept_secrets:
            failed = False
            for name in group:
                failed = failed or name in self.errors
                if failed:
                    refused.append(name)
        if refused:
            forget(self, *refused)


def forget(form: forms.Form, *names: str) -> None:
    """Drops fields from a bound form's data so they render empty (the errors stay)."""
    data = form.data.copy() if isinstance(form.data, QueryDict) else dict(form.data)
    for name in names:
        data.pop(form.add_prefix(name), None)
    form.data = data


class IdentityForm(CustomerForm):
    tin_last4 = forms.CharField(
        label=gettext_lazy("Last 4 digits of SSN or TIN"),
        max_length=10,
        widget=UnrenderedTextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "size": 6, "maxlength": 10}
        ),
        # Its own messages: the generated ones cannot put "your" before a plural in Spanish.
        error_messages={
            "required": gettext_lazy("Enter the last 4 digits of your SSN or TIN."),
            "null_characters_not_allowed": fields.TIN_LAST4_MESSAGE,
        },
    )
    birth_date = forms.CharField(
        label=gettext_lazy("Date of birth"),
        help_text=fields.BIRTH_DATE_HINT,
        max_length=20,
        # Digits alone are enough (04121985), so a phone may show its number pad.
        widget=forms.TextInput(attrs={"autocomplete": "bday", "inputmode": "numeric", "size": 12}),
    )
    reference = forms.CharField(
        label=gettext_lazy("Account number or VIN"),
        help_text=gettext_lazy(
            "Your loan account number, or the 17-character vehicle identification number."
        ),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_tin_last4(self) -> str:
        return fields.tin_last4(self.cleaned_data["tin_last4"])

    def clean_birth_date(self) -> date:
        return fields.birth_date(self.cleaned_data["birth_date"])

    def clean_reference(self) -> str:
        # A bad VIN is refused here, before the identity check counts an attempt against it.
        return fields.reference(self.cleaned_data["reference"])
