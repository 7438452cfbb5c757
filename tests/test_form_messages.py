"""No Django default message ("This field is required.", "Ensure this value has at most ...")
reaches a customer: every form class of the customer-facing apps is collected from its module,
given empty and absurd input, and each message it can show is compared with Django's own."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from django import forms
from django.core import validators

from accounts import forms as accounts_forms
from enrollment import forms as enrollment_forms
from online_profile import forms as profile_forms
from recovery import forms as recovery_forms
from security import device_forms
from security.codes import Channel
from signin import forms as signin_forms

pytestmark = pytest.mark.django_db

MODULES: list[ModuleType] = [
    accounts_forms,
    enrollment_forms,
    profile_forms,
    recovery_forms,
    signin_forms,
    device_forms,
]

# Forms whose errors never reach the page: the view answers any error with its own message.
ERRORS_NOT_SHOWN = {
    device_forms.RegisterDeviceForm: "two buttons; the page shows no form errors",
}


def _customer_forms() -> set[type[forms.BaseForm]]:
    return {
        klass
        for module in MODULES
        for _, klass in inspect.getmembers(module, inspect.isclass)
        if issubclass(klass, forms.BaseForm) and klass.__module__ == module.__name__
    }


def _builders(make_user: Any) -> dict[type[forms.BaseForm], Callable[[dict[str, Any]], Any]]:
    """How each form is made on its page, bound to `data`."""
    user = make_user(loans=2)
    customer = user.customer
    account = customer.loan_accounts.first()
    channels = [Channel.EMAIL, Channel.SMS]
    return {
        accounts_forms.CustomerForm: lambda d: accounts_forms.CustomerForm(d),
        accounts_forms.IdentityForm: lambda d: accounts_forms.IdentityForm(d),
        enrollment_forms.VehiclesForm: lambda d: enrollment_forms.VehiclesForm(
            d, customer=customer, verified_account=account
        ),
        enrollment_forms.ProfileForm: lambda d: enrollment_forms.ProfileForm(d, customer=customer),
        enrollment_forms.ConsentForm: lambda d: enrollment_forms.ConsentForm(
            d, lender_name="Lender"
        ),
        enrollment_forms.SendCodeForm: lambda d: enrollment_forms.SendCodeForm(
            d, customer=customer, channels=channels
        ),
        enrollment_forms.ConfirmCodeForm: lambda d: enrollment_forms.ConfirmCodeForm(d),
        profile_forms.VehicleAddForm: lambda d: profile_forms.VehicleAddForm(d),
        profile_forms.ChallengeQuestionUpdateForm: lambda d: (
            profile_forms.ChallengeQuestionUpdateForm(d, user=user)
        ),
        profile_forms.ChallengeQuestionsResetForm: lambda d: (
            profile_forms.ChallengeQuestionsResetForm(d)
        ),
        profile_forms.PasswordChangeForm: lambda d: profile_forms.PasswordChangeForm(d, user=user),
        profile_forms.ContactForm: lambda d: profile_forms.ContactForm(d, user=user),
        profile_forms.ContactConfirmForm: lambda d: profile_forms.ContactConfirmForm(
            d, email=True, phone=True
        ),
        profile_forms.AppCodeForm: lambda d: profile_forms.AppCodeForm(d, user=user),
        profile_forms.ReauthForm: lambda d: profile_forms.ReauthForm(d, user=user),
        recovery_forms.PasswordRecoveryForm: lambda d: recovery_forms.PasswordRecoveryForm(d),
        recovery_forms.ChannelForm: lambda d: recovery_forms.ChannelForm(d, user=user),
        recovery_forms.CodeForm: lambda d: recovery_forms.CodeForm(d),
        recovery_forms.NewPasswordForm: lambda d: recovery_forms.NewPasswordForm(d, user=user),
        signin_forms.LoginForm: lambda d: signin_forms.LoginForm(d),
        signin_forms.StepUpForm: lambda d: signin_forms.StepUpForm(
            d,
            question="What was the name of your first pet?",
            needs_answer=True,
            needs_code=True,
            channels=channels,
        ),
        enrollment_forms.FinishForm: lambda d: enrollment_forms.FinishForm(d),
    }


def _django_defaults() -> set[str]:
    """Every message Django's form fields and validators give when not told otherwise."""
    messages: set[str] = set()
    pending: list[type] = [forms.Field]
    while pending:
        klass = pending.pop()
        pending.extend(klass.__subclasses__())
        messages.update(str(m) for m in getattr(klass, "default_error_messages", {}).values())
    for validator in (
        validators.MaxLengthValidator,
        validators.MinLengthValidator,
        validators.ProhibitNullCharactersValidator,
        validators.EmailValidator,
        validators.RegexValidator,
    ):
        messages.add(str(validator.message))
    return messages


DJANGO_DEFAULTS = _django_defaults()
# Too long, a NUL character, not a number, not one of the choices, not a list.
ABSURD = "\x00" + "9" * 2000


def _shown_messages(form: forms.BaseForm) -> list[str]:
    form.is_valid()
    return [message for errors in form.errors.values() for message in errors]


def _checked_forms() -> list[Any]:
    return [
        pytest.param(klass, id=f"{klass.__module__}.{klass.__qualname__}")
        for klass in sorted(_customer_forms() - set(ERRORS_NOT_SHOWN), key=str)
    ]


def test_every_customer_form_is_checked(make_user):
    """A new form in one of the modules must be added to _builders (or say why its errors are
    never shown), so it cannot escape the checks below."""
    assert _customer_forms() - set(ERRORS_NOT_SHOWN) == set(_builders(make_user))


@pytest.mark.parametrize("klass", _checked_forms())
def test_no_field_keeps_a_django_default_message(make_user, klass):
    form = _builders(make_user)[klass]({})
    form.is_valid()
    for name, field in form.fields.items():
        for code, message in field.error_messages.items():
            assert str(message) not in DJANGO_DEFAULTS, (name, code, str(message))
        if isinstance(field, forms.CharField) and field.max_length is not None:
            assert "max_length" in field.error_messages, name


@pytest.mark.parametrize("klass", _checked_forms())
def test_empty_and_absurd_input_get_specific_messages(make_user, klass):
    build = _builders(make_user)[klass]
    empty = build({})
    names = list(empty.fields)
    absurd = build(dict.fromkeys(names, ABSURD))
    shown = _shown_messages(empty) + _shown_messages(absurd)
    assert not [message for message in shown if message in DJANGO_DEFAULTS]
    assert not [message for message in shown if "This field" in message]


def test_required_messages_name_the_field_in_the_customers_words(make_user):
    builders = _builders(make_user)
    empty = {klass: builders[klass]({}) for klass in builders}
    for form in empty.values():
        form.is_valid()
    assert empty[accounts_forms.IdentityForm].errors == {
        "tin_last4": ["Enter the last 4 digits of your SSN or TIN."],
        "birth_date": ["Enter your date of birth."],
        "reference": ["Enter your account number or VIN."],
    }
    assert empty[signin_forms.LoginForm].errors == {
        "username": ["Enter your username."],
        "password": ["Enter your password."],
    }
    assert empty[recovery_forms.PasswordRecoveryForm].errors["username"] == ["Enter your username."]
    assert empty[enrollment_forms.ProfileForm].errors["question_2"] == [
        "Choose challenge question 2."
    ]
    assert empty[enrollment_forms.ProfileForm].errors["answer_2"] == [
        "Enter your answer to challenge question 2."
    ]
    assert empty[profile_forms.ContactConfirmForm].errors == {
        "email_code": ["Enter the code sent to your new email address."],
        "phone_code": ["Enter the code sent to your new mobile phone."],
    }
    assert empty[profile_forms.PasswordChangeForm].errors["current_password"] == [
        "Enter your current password."
    ]


def test_too_long_input_says_the_limit_with_the_label(make_user):
    form = _builders(make_user)[signin_forms.LoginForm]({"username": "a" * 151, "password": "x"})
    assert form.errors["username"] == ["Username must be 150 characters or fewer."]
