"""One form per enrollment step. Forms validate; enrollment.flow acts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import fields
from accounts.forms import CustomerForm
from accounts.models import Customer, LoanAccount, User
from portal.conf import portal
from security.challenge import challenge_set_problems, question_choices
from security.code_forms import SentCodeForm
from security.codes import Channel, channel_choice_label
from security.password_forms import check_new_password, new_password_field

USERNAME_TAKEN = gettext_lazy("That username is already taken. Please choose another.")
USERNAME_CHECKS_LIMITED = gettext_lazy(
    "You have tried a lot of usernames from this connection. For your security, please wait "
    "a while before you try another one, or call us at %(phone)s."
)


# --- Step 2 ---------------------------------------------------------------------------------------
def vehicle_label(account: LoanAccount) -> str:
    vehicle = account.vehicle
    return _(
        "%(year)s %(make)s %(model)s, VIN ending %(vin_last4)s, account ending %(account_last4)s"
    ) % {
        "year": vehicle.year,
        "make": vehicle.make,
        "model": vehicle.model,
        "vin_last4": vehicle.vin[-4:],
        "account_last4": account.account_last4,
    }


class VehicleCheckboxes(forms.CheckboxSelectMultiple):
    """The account used to verify is shown ticked and cannot be unticked."""

    def __init__(self, *args: Any, locked_value: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locked_value = locked_value

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if str(value) == str(self.locked_value):
            option["selected"] = True
            option["attrs"]["checked"] = True
            option["attrs"]["disabled"] = True
        return option


class VehicleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return vehicle_label(obj)


class VehiclesForm(CustomerForm):
    accounts = VehicleChoiceField(
        label=gettext_lazy("Vehicles to add"),
        queryset=LoanAccount.objects.none(),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose only vehicles from the list.")},
    )

    def __init__(
        self, *args: Any, customer: Customer, verified_account: LoanAccount, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.verified_account = verified_account
        field: Any = self.fields["accounts"]
        # Only this customer's accounts are choices: any other id is refused as invalid.
        field.queryset = customer.loan_accounts.select_related("vehicle").order_by("account_number")
        field.widget = VehicleCheckboxes(locked_value=verified_account.pk)
        field.widget.choices = field.choices

    def clean_accounts(self) -> list[int]:
        chosen: QuerySet[LoanAccount] = self.cleaned_data["accounts"]
        # The disabled box is not submitted; the verifying account is always included.
        ids = {account.pk for account in chosen} | {self.verified_account.pk}
        return sorted(ids)


# --- Step 3 ---------------------------------------------------------------------------------------
_QUESTION_CHOICES = [("", gettext_lazy("Choose a question")), *question_choices()]


class ProfileForm(CustomerForm):
    username = forms.CharField(
        label=gettext_lazy("Username"),
        help_text=fields.USERNAME_HELP,
        max_length=60,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
        error_messages={"required": gettext_lazy("Choose a username.")},
    )
    password1 = new_password_field(gettext_lazy("Password"), gettext_lazy("Choose a password."))
    password2 = new_password_field(
        gettext_lazy("Confirm password"), gettext_lazy("Type your password again to confirm it.")
    )
    question_1 = forms.ChoiceField(
        label=gettext_lazy("Challenge question 1"), choices=_QUESTION_CHOICES
    )
    answer_1 = forms.CharField(
        label=gettext_lazy("Answer to challenge question 1"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    question_2 = forms.ChoiceField(
        label=gettext_lazy("Challenge question 2"), choices=_QUESTION_CHOICES
    )
    answer_2 = forms.CharField(
        label=gettext_lazy("Answer to challenge question 2"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    question_3 = forms.ChoiceField(
        label=gettext_lazy("Challenge question 3"), choices=_QUESTION_CHOICES
    )
    answer_3 = forms.CharField(
        label=gettext_lazy("Answer to challenge question 3"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    QUESTION_FIELDS = (
        ("question_1", "answer_1"),
        ("question_2", "answer_2"),
        ("question_3", "answer_3"),
    )
    # After an error the page (no-store) shows again the password if the rules accepted it.
    kept_secrets = (("password1", "password2"),)

    def __init__(
        self,
        *args: Any,
        customer: Customer,
        username_check_allowed: Callable[[], bool] = lambda: True,
        **kwargs: Any,
    ) -> None:
        """`username_check_allowed` is asked (and counts) each time the form is about to look up
        whether a username is taken: the view's per-IP limit on those look-ups."""
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.username_check_allowed = username_check_allowed
        self.username_checks_limited = False
        self.fields["password1"].help_text = _(
            "At least %(min_length)s characters. Spaces and any characters are allowed; a few "
            "unrelated words make a strong password."
        ) % {"min_length": portal.password_min_length}

    def clean_username(self) -> str:
        username = fields.username(self.cleaned_data["username"])
        folded = username.casefold()
        references = self.customer.loan_accounts.values_list("account_number", "vehicle__vin")
        if any(ref.casefold() in folded for pair in references for ref in pair if len(ref) >= 4):
            raise ValidationError(_("Your username cannot contain your account number or VIN."))
        # Asking whether names are taken, over and over, would list the portal's usernames.
        if not self.username_check_allowed():
            self.username_checks_limited = True
            raise ValidationError(USERNAME_CHECKS_LIMITED % {"phone": portal.support_phone})
        # Any online account holds its name, staff ones included, with the same answer: the
        # answer tells nothing about whose name it is.
        if User.objects.filter(username__iexact=username).exists():
            raise ValidationError(USERNAME_TAKEN)
        return username

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._check_username_not_email(data)
        self._check_passwords(data)
        self._check_questions(data)
        return data

    def _check_username_not_email(self, data: dict[str, Any]) -> None:
        username = data.get("username")
        if not username:
            return
        email = self.customer.email  # the online account gets the email on record
        local = email.partition("@")[0]
        if email and username.casefold() in {email.casefold(), local.casefold()}:
            self.add_error("username", _("Your username cannot be your email address."))

    def _check_passwords(self, data: dict[str, Any]) -> None:
        candidate = User(
            username=data.get("username") or self.data.get("username", ""),
            first_name=self.customer.first_name,
            last_name=self.customer.last_name,
            email=self.customer.email,
        )
        check_new_password(self, data, candidate)

    def _check_questions(self, data: dict[str, Any]) -> None:
        pairs = [(data.get(q), data.get(a)) for q, a in self.QUESTION_FIELDS]
        problems = challenge_set_problems(pairs)
        for (question_field, answer_field), (question_error, answer_error) in zip(
            self.QUESTION_FIELDS, problems, strict=True
        ):
            if question_error:
                self.add_error(question_field, question_error)
            if answer_error:
                self.add_error(answer_field, answer_error)

    def challenge_answers(self) -> list[tuple[str, str]]:
        return [
            (self.cleaned_data[question], self.cleaned_data[answer])
            for question, answer in self.QUESTION_FIELDS
        ]


# --- Step 4 ---------------------------------------------------------------------------------------
class ConsentForm(CustomerForm):
    agree = forms.BooleanField(
        label=gettext_lazy(
            "I have read the disclosure and I agree to receive my account information "
            "electronically."
        ),
        error_messages={
            "required": gettext_lazy(
                "To finish enrollment, tick the box to agree to electronic communications."
            )
        },
    )

    def __init__(self, *args: Any, lender_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agree"].label = _(
            "I have read the disclosure above and I authorize %(lender_name)s to send me my "
            "account information electronically."
        ) % {"lender_name": lender_name}


# --- Step 5 ---------------------------------------------------------------------------------------
CHOOSE_CHANNEL = gettext_lazy("Choose where we should send your code.")


class SendCodeForm(CustomerForm):
    """Where the confirmation code goes: one of the contacts on the customer's record."""

    channel = forms.TypedChoiceField(
        label=gettext_lazy("Where should we send your code?"),
        widget=forms.RadioSelect,
        coerce=Channel,
        error_messages={"required": CHOOSE_CHANNEL},
    )

    def __init__(
        self, *args: Any, customer: Customer, channels: list[Channel], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["channel"])
        field.choices = [
            (
                channel.value,
                channel_choice_label(channel, email=customer.email, phone=customer.mobile_phone),
            )
            for channel in channels
        ]
        # The email on record unless the customer picks the mobile (or has no email on record).
        if channels and not self.is_bound:
            self.initial.setdefault("channel", channels[0].value)


class ConfirmCodeForm(SentCodeForm):
    """The code that proves the customer reads the email or phone they chose."""


class FinishForm(CustomerForm):
    """Step 5 when step 1 was passed with a code to the contact on record: nothing to enter."""
