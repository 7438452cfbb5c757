"""Field rules of each enrollment step, as the customer sees them in the error messages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.fields import mobile_phone
from accounts.forms import IdentityForm
from enrollment.forms import ProfileForm, VehiclesForm
from tests.conftest import make_vin
from tests.enrollment.conftest import PASSWORD, profile_data

GOOD_VIN = make_vin(4242)


def _identity_errors(**data: str) -> dict[str, list[str]]:
    values = {"tin_last4": "1234", "birth_date": "04/12/1985", "reference": "0123456789"}
    form = IdentityForm(data={**values, **data})
    form.is_valid()
    return {name: list(errors) for name, errors in form.errors.items()}


def test_complete_identity_passes_and_normalises():
    form = IdentityForm(
        data={"tin_last4": " 1234 ", "birth_date": "4/2/1985", "reference": " ab 12-34 "}
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {
        "tin_last4": "1234",
        "birth_date": date(1985, 4, 2),
        "reference": "AB1234",
    }


@pytest.mark.parametrize("typed", ["04121985", "04-12-1985", "04.12.1985", "04 12 1985"])
def test_date_typed_with_digits_only_or_other_separators_is_taken(typed):
    form = IdentityForm(data={"tin_last4": "1234", "birth_date": typed, "reference": "0123456789"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["birth_date"] == date(1985, 4, 12)


def test_date_of_birth_box_offers_the_number_pad_and_shows_both_forms():
    html = str(IdentityForm()["birth_date"])
    assert 'inputmode="numeric"' in html
    assert IdentityForm().fields["birth_date"].help_text == (
        "Month, day and year. For example, 04121985 or 04/12/1985."
    )


@pytest.mark.parametrize("typed", ["02/30/1990", "13/01/1990", "00/10/1990", "02/29/2023"])
def test_impossible_date_has_its_own_message(typed):
    (message,) = _identity_errors(birth_date=typed)["birth_date"]
    assert "does not exist" in message


@time_machine.travel(datetime(2026, 11, 28, 12, tzinfo=ZoneInfo("America/New_York")), tick=False)
def test_future_date_has_its_own_message():
    tomorrow = date(2026, 11, 28) + timedelta(days=1)
    (message,) = _identity_errors(birth_date=tomorrow.strftime("%m/%d/%Y"))["birth_date"]
    assert "future" in message
    assert "birth_date" not in _identity_errors(birth_date="11/28/2026")


def test_date_in_another_format_is_refused_with_the_expected_format():
    (message,) = _identity_errors(birth_date="April 12 1985")["birth_date"]
    assert message == "Enter your date of birth as month, day and year, for example 04/12/1985."


@pytest.mark.parametrize("typed", ["123", "12345", "12a4", "one2"])
def test_tin_must_be_exactly_four_digits(typed):
    (message,) = _identity_errors(tin_last4=typed)["tin_last4"]
    assert "exactly 4 digits" in message


def test_vin_is_taken_ignoring_case_and_spaces():
    spaced = " ".join([GOOD_VIN[:5].lower(), GOOD_VIN[5:11], GOOD_VIN[11:].lower()])
    form = IdentityForm(data={"tin_last4": "1234", "birth_date": "04/12/1985", "reference": spaced})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["reference"] == GOOD_VIN


def test_vin_with_a_wrong_check_digit_is_refused():
    wrong = GOOD_VIN[:8] + ("1" if GOOD_VIN[8] != "1" else "2") + GOOD_VIN[9:]
    (message,) = _identity_errors(reference=wrong)["reference"]
    assert "check digit" in message


def test_seventeen_digit_reference_is_an_account_number_not_a_vin():
    assert "reference" not in _identity_errors(reference="12345678901234567")


def test_identity_form_never_sends_the_tin_back_to_the_browser():
    form = IdentityForm(data={"tin_last4": "8642", "birth_date": "bad", "reference": "X1"})
    assert not form.is_valid()
    assert "8642" not in str(form["tin_last4"])
    assert "bad" in str(form["birth_date"])  # non-secret values are kept for correction


# --- Step 2 ---------------------------------------------------------------------------------------
def test_vehicles_form_always_includes_the_verifying_account(make_customer):
    customer = make_customer(loans=3)
    first, second, third = customer.loan_accounts.order_by("account_number")
    form = VehiclesForm(data={"accounts": [third.pk]}, customer=customer, verified_account=first)
    assert form.is_valid()
    assert form.cleaned_data["accounts"] == sorted([first.pk, third.pk])
    form = VehiclesForm(data={}, customer=customer, verified_account=second)
    assert form.is_valid()
    assert form.cleaned_data["accounts"] == [second.pk]


def test_vehicles_form_refuses_another_customers_account(make_customer):
    customer, other = make_customer(loans=2), make_customer()
    mine = customer.loan_accounts.first()
    form = VehiclesForm(
        data={"accounts": [other.loan_accounts.get().pk]}, customer=customer, verified_account=mine
    )
    assert not form.is_valid()
    assert "Choose only vehicles from the list." in form.errors["accounts"]


def test_verifying_vehicle_is_rendered_ticked_and_disabled(make_customer):
    customer = make_customer(loans=2)
    first, second = customer.loan_accounts.order_by("account_number")
    html = str(VehiclesForm(customer=customer, verified_account=first)["accounts"])
    assert f'value="{first.pk}" id="id_accounts_0" checked disabled' in html
    assert f'value="{second.pk}" id="id_accounts_1">' in html
    vehicle = first.vehicle
    assert f"{vehicle.year} {vehicle.make} {vehicle.model}, VIN ending {vehicle.vin[-4:]}" in html
    assert f"account ending {first.account_number[-4:]}" in html


# --- Step 3 ---------------------------------------------------------------------------------------
def _profile_errors(customer, **data: str) -> dict[str, list[str]]:
    form = ProfileForm(data=profile_data(**data), customer=customer)
    form.is_valid()
    return {name: list(errors) for name, errors in form.errors.items()}


def test_complete_profile_passes(make_customer):
    assert _profile_errors(make_customer()) == {}


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("dana", "6 to 30 characters"),
        ("d" * 31, "6 to 30 characters"),
        ("dana rivera", "Use only letters, digits"),
        ("dana@rivera", "Use only letters, digits"),
        ("daña.rivera", "Use only letters, digits"),
    ],
)
def test_username_rules(make_customer, username, expected):
    (message,) = _profile_errors(make_customer(), username=username)["username"]
    assert expected in message


def test_username_taken_in_another_case_is_refused(make_customer, make_user):
    make_user(username="Dana.Rivera")
    (message,) = _profile_errors(make_customer(), username="dana.RIVERA")["username"]
    assert "already taken" in message


def test_a_staff_username_gets_the_same_answer_as_a_taken_customer_username(
    make_customer, make_user, django_user_model
):
    django_user_model.objects.create_user(username="Alex.Morgan", password="x" * 20, is_staff=True)
    make_user(username="Dana.Rivera")
    customer = make_customer()
    staff = _profile_errors(customer, username="alex.MORGAN")
    taken = _profile_errors(customer, username="dana.RIVERA")
    assert (
        staff == taken == {"username": ["That username is already taken. Please choose another."]}
    )


def test_username_look_up_is_refused_when_the_check_is_not_allowed(make_customer, make_user):
    make_user(username="Dana.Rivera")
    asked = []

    def limited() -> bool:
        asked.append(True)
        return False

    for name in ("dana.rivera", "free.name.2026"):
        form = ProfileForm(
            data=profile_data(username=name),
            customer=make_customer(),
            username_check_allowed=limited,
        )
        assert not form.is_valid() and form.username_checks_limited
        (message,) = form.errors["username"]
        assert "tried a lot of usernames" in message and "taken" not in message
    assert len(asked) == 2


def test_profile_form_takes_no_email_or_mobile_phone(make_customer):
    form = ProfileForm(
        data=profile_data(email="attacker@example.net", mobile_phone="+12025550100"),
        customer=make_customer(),
    )
    assert form.is_valid(), form.errors
    assert "email" not in form.fields and "mobile_phone" not in form.fields
    assert "email" not in form.cleaned_data and "mobile_phone" not in form.cleaned_data


def test_username_cannot_be_the_email_on_record_or_an_account_number(make_customer):
    customer = make_customer(email="dana.rivera@example.com")
    account = customer.loan_accounts.get().account_number
    assert "email address" in _profile_errors(customer, username="dana.rivera")["username"][0]
    assert "email address" in _profile_errors(customer, username="DANA.Rivera")["username"][0]
    assert "account number" in _profile_errors(customer, username=account)["username"][0]
    assert "account number" in _profile_errors(customer, username=f"me{account}")["username"][0]


def test_passwords_must_match(make_customer):
    errors = _profile_errors(make_customer(), password2="velvet canyon mortar lantern 59")
    assert errors["password2"] == ["The two passwords do not match. Type the same one twice."]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short words", "too short"),
        ("iloveyouiloveyou", "list of passwords"),
        ("abcdefghijklmnopqrs", "too easy to guess"),
        ("dana.r-2026 and more", "too similar to your username"),
    ],
)
def test_password_refusals_say_why(make_customer, password, reason):
    errors = _profile_errors(make_customer(), password1=password, password2=password)
    assert any(reason in message for message in errors["password1"]), errors


def test_password_is_checked_against_the_customers_name(make_customer):
    customer = make_customer(first_name="Genevieve", last_name="Okonkwo")
    password = "Genevieve Okonkwo 1985"
    errors = _profile_errors(customer, password1=password, password2=password)
    assert any("too similar to your name" in m for m in errors["password1"])


def test_sixty_four_character_password_with_unicode_and_spaces_is_accepted(make_customer):
    password = "Grüße aus dem Schwarzwald, 雪山 and a quiet lake at dawn 2031, ok!"
    assert len(password) == 64
    assert _profile_errors(make_customer(), password1=password, password2=password) == {}


def test_a_password_the_rules_accept_is_kept_and_a_wrong_confirmation_emptied(make_customer):
    form = ProfileForm(
        data=profile_data(password2="different one entirely"), customer=make_customer()
    )
    assert not form.is_valid()
    assert f'value="{PASSWORD}"' in str(form["password1"])
    assert "value=" not in str(form["password2"])
    assert 'autocomplete="new-password"' in str(form["password1"])
    assert 'autocomplete="new-password"' in str(form["password2"])
    assert "maxlength" not in str(form["password1"])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("(201) 555-0199", "+12015550199"),
        ("201.555.0199", "+12015550199"),
        ("1 201 555 0199", "+12015550199"),
        ("+44 7700 900123", "+447700900123"),
    ],
)
def test_mobile_phone_is_normalised_to_e164(typed, expected):
    assert mobile_phone(typed) == expected


def test_challenge_questions_must_differ(make_customer):
    data = profile_data()
    errors = _profile_errors(make_customer(), question_3=data["question_1"])
    assert errors["question_3"] == ["Choose a different question for each."]


def test_challenge_answers_differ_ignoring_case_and_spaces(make_customer):
    errors = _profile_errors(make_customer(), answer_2="  blue   RIDGE ")
    assert errors["answer_2"] == ["Use an answer different from your other answers."]


def test_challenge_answers_need_three_characters_after_normalising(make_customer):
    errors = _profile_errors(make_customer(), answer_1="  ab  ")
    assert errors["answer_1"] == ["Your answer must be at least 3 characters."]


def test_question_must_come_from_the_list(make_customer):
    errors = _profile_errors(make_customer(), question_1="favourite_password")
    assert "question_1" in errors


@pytest.mark.parametrize("refused", ["password", "dana.r-2026 password"])
def test_a_refused_password_empties_both_boxes(make_customer, refused):
    form = ProfileForm(
        data=profile_data(password1=refused, password2=refused), customer=make_customer()
    )
    assert not form.is_valid() and "password1" in form.errors
    assert "value=" not in str(form["password1"]) + str(form["password2"])


def test_typed_values_and_answers_are_kept_after_an_error(make_customer):
    form = ProfileForm(
        data=profile_data(password2="not the same at all", answer_3="ab"), customer=make_customer()
    )
    assert not form.is_valid()
    assert 'value="dana.r-2026"' in str(form["username"])
    assert 'value="Blue Ridge"' in str(form["answer_1"])
    assert 'value="rex the dog"' in str(form["answer_2"])
    # A text box that was wrong keeps what was typed, to be corrected.
    assert "answer_3" in form.errors and 'value="ab"' in str(form["answer_3"])
