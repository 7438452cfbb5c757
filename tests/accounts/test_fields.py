"""accounts.fields: one rule per field, the same wherever the field is typed or imported.

Each edge case is checked on the rule itself and on every form (and the servicing import) that
takes the field, so a copy that drifts from the rule shows up here.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from accounts import fields
from accounts.forms import IdentityForm
from accounts.importing import ImportRejected, accounts_import
from enrollment.forms import ProfileForm
from online_profile.forms import ContactForm
from support.forms import IdentityCheckForm
from tests.accounts.test_import_accounts import demo_rows, write_csv
from tests.conftest import make_vin
from tests.enrollment.conftest import profile_data

GOOD_VIN = make_vin(4242)
ARABIC_INDIC_1234 = "\u0661\u0662\u0663\u0664"
FULL_WIDTH_1234 = "\uff11\uff12\uff13\uff14"


def refused(rule, value) -> str:
    with pytest.raises(ValidationError) as error:
        rule(value)
    (message,) = error.value.messages
    return message


# --- How each interface takes a value ------------------------------------------------------------
def enrollment_errors(customer, **data: str) -> dict[str, list[str]]:
    form = ProfileForm(data=profile_data(**data), customer=customer)
    form.is_valid()
    return {name: list(errors) for name, errors in form.errors.items()}


def contact_errors(mobile_phone: str) -> list[str]:
    user = SimpleNamespace(email="dana@example.com", mobile_phone="")
    form = ContactForm(data={"email": user.email, "mobile_phone": mobile_phone}, user=user)
    form.is_valid()
    return list(form.errors.get("mobile_phone", []))


def identity_errors(**data: str) -> dict[str, list[str]]:
    values = {"tin_last4": "1234", "birth_date": "04/12/1985", "reference": "0123456789"}
    form = IdentityForm(data={**values, **data})
    form.is_valid()
    return {name: list(errors) for name, errors in form.errors.items()}


def support_errors(**data: str) -> dict[str, list[str]]:
    values = {"tin_last4": "1234", "birth_date": "1985-04-12"}
    form = IdentityCheckForm(data={**values, **data})
    form.is_valid()
    return {name: list(errors) for name, errors in form.errors.items()}


def import_problems(tmp_path: Path, **row: str) -> list[str]:
    """The problems the import reports for the first demo row changed by `row` ("" if none)."""
    rows = demo_rows()
    rows[0].update(row)
    try:
        accounts_import(path=write_csv(tmp_path / "export.csv", rows))
    except ImportRejected as rejected:
        return [f"{problem.field}: {problem.problem}" for problem in rejected.problems]
    return []


# --- Mobile phone ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("(201) 555-0123", "+12015550123"),
        ("201.555.0123", "+12015550123"),
        ("1 201 555 0123", "+12015550123"),
        ("+1 (201) 555-0123", "+12015550123"),
        ("+44 7700 900123", "+447700900123"),
        ("+33 6 12 34 56 78", "+33612345678"),
    ],
)
def test_a_mobile_number_is_normalised_to_e164(typed, e164):
    assert fields.mobile_phone(typed) == e164


@pytest.mark.parametrize(
    "typed",
    [
        "(001) 555-0123",  # no US area code starts with 0
        "+1 011 555 0123",
        "555-0123",  # no area code
        "1-800-555-0142",  # toll-free: cannot take a text message
        "+44 20 7946 0958",  # a London landline
        "1-800-FLOWERS",
        "201 555 0123 ext 5",
        "+0 123456789",
        "(\u0662\u0660\u0661) \u0665\u0665\u0665-\u0660\u0661\u0662\u0663",  # Arabic-Indic digits
        "\uff12\uff10\uff11\uff15\uff15\uff15\uff10\uff11\uff12\uff13",  # full-width digits
        "",
    ],
)
def test_a_number_that_cannot_take_texts_or_is_not_ascii_is_refused(typed):
    assert refused(fields.mobile_phone, typed) == fields.PHONE_MESSAGE


def test_001_area_code_is_refused_on_the_contact_page():
    assert contact_errors("(001) 555-0123") == [fields.PHONE_MESSAGE]


@pytest.mark.django_db
@pytest.mark.parametrize("written", ["(001) 555-0123", "+10015550123"])
def test_001_area_code_is_refused_by_the_import(tmp_path, written):
    (problem,) = import_problems(tmp_path, mobile_phone=written)
    assert problem == "mobile_phone: is not a mobile number (in E.164 form, such as +12015550123)"


@pytest.mark.django_db
def test_the_import_takes_a_valid_number_only_in_e164_form(tmp_path):
    assert import_problems(tmp_path, mobile_phone="+12015550123") == []
    assert import_problems(tmp_path, mobile_phone="+447700900123") == []
    assert import_problems(tmp_path, mobile_phone="(201) 555-0123") == [
        "mobile_phone: must be in E.164 form, such as +12015550123"
    ]


# --- Last 4 of the TIN ----------------------------------------------------------------------------
def test_tin_last4_ignores_spaces_typed_between_digits():
    assert fields.tin_last4(" 12 34 ") == "1234"
    assert identity_errors(tin_last4="12 34") == {}
    assert support_errors(tin_last4="12 34") == {}


@pytest.mark.parametrize("typed", ["123", "12345", "12a4", ARABIC_INDIC_1234, FULL_WIDTH_1234])
def test_tin_last4_is_exactly_four_ascii_digits(typed):
    assert refused(fields.tin_last4, typed) == fields.TIN_LAST4_MESSAGE


@pytest.mark.parametrize("typed", [ARABIC_INDIC_1234, FULL_WIDTH_1234])
def test_tin_in_other_digits_is_refused_by_the_identity_form(typed):
    assert identity_errors(tin_last4=typed) == {"tin_last4": [fields.TIN_LAST4_MESSAGE]}


@pytest.mark.parametrize("typed", [ARABIC_INDIC_1234, FULL_WIDTH_1234, "123"])
def test_tin_in_other_digits_is_refused_by_the_support_console(typed):
    assert support_errors(tin_last4=typed) == {"tin_last4": ["Enter the 4 digits the caller says."]}


@pytest.mark.django_db
@pytest.mark.parametrize("written", [ARABIC_INDIC_1234, FULL_WIDTH_1234, "12 34"])
def test_tin_in_other_digits_is_refused_by_the_import(tmp_path, written):
    assert import_problems(tmp_path, tin_last4=written) == ["tin_last4: must be exactly 4 digits"]


# --- Date of birth --------------------------------------------------------------------------------
TODAY = date(2026, 11, 28)
travel_to_today = time_machine.travel(
    datetime(2026, 11, 28, 23, 30, tzinfo=ZoneInfo("America/New_York")), tick=False
)


@pytest.mark.parametrize(
    "typed",
    [
        "04/12/1985",  # the form the hint shows
        "04121985",  # digits only, as a phone's number pad types them
        "04-12-1985",
        "04.12.1985",
        "04 12 1985",
        "4/12/1985",  # single-digit month
        "4-12-1985",
        "4.12.1985",
        "4 12 1985",
        " 04 / 12 / 1985 ",  # spaces around the separators and the date
    ],
)
def test_a_date_of_birth_is_taken_month_first_with_any_usual_separator_or_none(typed):
    assert fields.birth_date(typed) == date(1985, 4, 12)
    assert identity_errors(birth_date=typed) == {}


@pytest.mark.parametrize(
    ("typed", "born"), [("12/4/1985", date(1985, 12, 4)), ("1/2/1985", date(1985, 1, 2))]
)
def test_a_single_digit_day_is_taken_with_separators(typed, born):
    assert fields.birth_date(typed) == born


@pytest.mark.parametrize(
    "typed",
    [
        "4121985",  # 7 digits: April 12 or 41/2?
        "041285",  # a 2-digit year: 1985 or 2085?
        "4/12/85",
        "04/12",  # no year
        "041219850",  # too long
        "04//12/1985",  # two separators in a row
        "04\\12\\1985",  # not a separator people use for dates
        "April 12 1985",
        "1985",
    ],
)
def test_ambiguous_short_or_other_forms_are_refused_with_the_expected_form(typed):
    message = "Enter your date of birth as month, day and year, for example 04/12/1985."
    assert refused(fields.birth_date, typed) == message
    assert identity_errors(birth_date=typed) == {"birth_date": [message]}


@pytest.mark.parametrize("typed", ["02/30/1990", "02301990", "25/12/1985", "25.12.1985"])
def test_an_impossible_date_says_the_month_comes_first(typed):
    assert refused(fields.birth_date, typed) == (
        "That date does not exist. Enter your date of birth as month, day and year, for example "
        "04/12/1985."
    )


def test_an_empty_date_of_birth_asks_for_it():
    assert identity_errors(birth_date="") == {"birth_date": ["Enter your date of birth."]}


@travel_to_today
def test_a_future_date_typed_in_any_accepted_form_is_refused():
    for typed in ("11/29/2026", "11292026", "11-29-2026", "1.1.2027"):
        assert refused(fields.birth_date, typed) == "A date of birth cannot be in the future."


@travel_to_today
def test_a_date_of_birth_may_be_today_but_not_tomorrow():
    assert fields.birth_date("11/28/2026") == TODAY
    assert refused(fields.birth_date, "11/29/2026") == "A date of birth cannot be in the future."


@travel_to_today
def test_a_future_date_of_birth_is_refused_by_every_form():
    assert identity_errors(birth_date="11/29/2026") == {
        "birth_date": ["A date of birth cannot be in the future."]
    }
    assert support_errors(birth_date="2026-11-29") == {
        "birth_date": ["A date of birth cannot be in the future."]
    }


def test_a_date_of_birth_before_1900_is_refused_by_every_form():
    message = "Check the year of the date of birth: it cannot be before 1900."
    assert refused(fields.birth_date, "12/31/1899") == message
    assert fields.birth_date("01/01/1900") == date(1900, 1, 1)
    assert identity_errors(birth_date="12/31/1899") == {"birth_date": [message]}
    assert support_errors(birth_date="1899-12-31") == {"birth_date": [message]}


@pytest.mark.django_db
@pytest.mark.parametrize("written", ["1899-12-31", "2999-01-01"])
def test_a_date_of_birth_out_of_range_is_refused_by_the_import(tmp_path, written):
    assert import_problems(tmp_path, birth_date=written) == [
        "birth_date: must be a date of birth in the past, from 1900-01-01 on"
    ]


@pytest.mark.parametrize("typed", ["02/30/1990", "13/01/1990", "00/10/1990", "02/29/2023"])
def test_an_impossible_date_of_birth_is_refused(typed):
    assert "does not exist" in refused(fields.birth_date, typed)


def test_an_impossible_date_of_birth_is_refused_by_the_support_console():
    assert support_errors(birth_date="1990-02-30") == {
        "birth_date": ["Enter the date of birth the caller says."]
    }


@pytest.mark.django_db
def test_an_impossible_date_of_birth_is_refused_by_the_import(tmp_path):
    assert import_problems(tmp_path, birth_date="1990-02-30") == ["birth_date: is not a real date"]


def test_a_date_of_birth_in_other_digits_is_refused():
    typed = "\u0660\u0664/\u0661\u0662/\u0661\u0669\u0668\u0665"  # 04/12/1985 in Arabic-Indic
    assert refused(fields.birth_date, typed) == fields.BIRTH_DATE_FORMAT_MESSAGE
    assert identity_errors(birth_date=typed) == {"birth_date": [fields.BIRTH_DATE_FORMAT_MESSAGE]}


# --- Account number -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "number"),
    [("abcd", "ABCD"), (" 12-34 56 ", "123456"), ("a" * 20, "A" * 20)],
)
def test_an_account_number_is_normalised(typed, number):
    assert fields.account_number(typed) == number


@pytest.mark.parametrize(
    "typed",
    [
        "ABC",  # too short
        "A" * 21,  # too long
        "stra\u00dfe1",  # "ß" would upper-case to "SS"
        "\ufb01sh12",  # the "fi" ligature would upper-case to "FI"
        "\u0131d1234",  # the dotless i would upper-case to "I"
        FULL_WIDTH_1234 + "56",
        "1234_5678",
    ],
)
def test_an_account_number_is_4_to_20_ascii_letters_and_digits(typed):
    assert (
        refused(fields.account_number, typed) == "An account number has 4 to 20 letters and digits."
    )
    (message,) = identity_errors(reference=typed)["reference"]
    assert message == fields.REFERENCE_MESSAGE


def test_the_identity_form_takes_account_numbers_at_both_bounds():
    assert identity_errors(reference="ab12") == {}
    assert identity_errors(reference="9" * 20) == {}


@pytest.mark.django_db
@pytest.mark.parametrize(("written", "ok"), [("ABC", False), ("A" * 21, False), ("ab-12", True)])
def test_the_import_takes_the_same_account_numbers(tmp_path, written, ok):
    problems = import_problems(tmp_path, account_number=written)
    assert problems == ([] if ok else ["account_number: must be 4 to 20 letters or digits"])


# --- VIN ------------------------------------------------------------------------------------------
def test_a_vin_is_normalised_like_any_reference():
    assert fields.vin(GOOD_VIN.lower()) == GOOD_VIN
    assert fields.reference(f" {GOOD_VIN[:8]}-{GOOD_VIN[8:]} ".lower()) == GOOD_VIN


@pytest.mark.parametrize("letter", ["I", "O", "Q", "i", "o", "q"])
def test_a_vin_with_i_o_or_q_is_refused_everywhere(tmp_path, db, letter):
    vin = GOOD_VIN[:11] + letter + GOOD_VIN[12:]
    message = "A VIN never contains the letters I, O or Q."
    assert refused(fields.vin, vin) == message
    assert identity_errors(reference=vin) == {"reference": [message]}
    assert import_problems(tmp_path, vin=vin) == [f"vin: {message}"]


def test_a_vin_in_full_width_characters_is_refused():
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in GOOD_VIN)
    assert refused(fields.vin, full_width) == "A VIN has only letters and digits."
    assert identity_errors(reference=full_width) == {
        "reference": ["A VIN has only letters and digits."]
    }


def test_seventeen_digits_are_an_account_number_not_a_vin():
    assert not fields.looks_like_vin("12345678901234567")
    assert fields.looks_like_vin(GOOD_VIN)


# --- Username -------------------------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["dana.r", "Dana_Rivera-2026", "d" * 30, "  dana.rivera  "])
def test_a_username_of_6_to_30_ascii_characters_is_taken(typed):
    assert fields.username(typed) == typed.strip()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("dana", "Your username must be 6 to 30 characters long."),
        ("d" * 31, "Your username must be 6 to 30 characters long."),
        (
            "da\u00f1a.rivera",
            "Use only letters, digits, periods (.), underscores (_) and hyphens (-).",
        ),
        (
            "dana\u0661\u0662\u0663",
            "Use only letters, digits, periods (.), underscores (_) and hyphens (-).",
        ),
        (
            "\uff44\uff41\uff4e\uff41\uff52\uff49",
            "Use only letters, digits, periods (.), underscores (_) and hyphens (-).",
        ),
        ("dana rivera", "Use only letters, digits, periods (.), underscores (_) and hyphens (-)."),
    ],
)
def test_a_username_is_ascii_letters_digits_and_three_marks_only(make_customer, typed, message):
    assert refused(fields.username, typed) == message
    assert enrollment_errors(make_customer(), username=typed)["username"] == [message]
