"""The rules of the fields customers type and the servicing export carries, one definition each.

Mobile phone, last 4 of the TIN, date of birth, loan account number, VIN and username. Each rule
is a plain function that takes the value as given and returns it normalised, or raises
ValidationError with the message the customer sees. Forms call them from their clean_<field>
methods; accounts.importing calls them for every row and reports a refusal in its own words.

Only ASCII digits and letters are accepted: str.isdigit(), \\d and \\w also take Arabic-Indic,
full-width and other scripts' characters, which no servicing system stores.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from phonenumbers import PhoneNumber


# --- Mobile phone ---------------------------------------------------------------------------------
PHONE_REGION = "US"
PHONE_MESSAGE = gettext_lazy(
    "Enter a 10-digit US mobile number like (201) 555-0123, or one with its country code, "
    "like +44 7700 900123."
)
# A leading + and ASCII digits with the usual separators; no letters (1-800-FLOWERS), no
# extensions, no other scripts' digits.
_PHONE_TYPED = re.compile(r"\+?[0-9\s().-]+")


def mobile_phone(value: str) -> str:
    """A mobile number as typed, in E.164: "(201) 555-0123" -> "+12015550123".

    Without a country code the number is a US one (10 digits, or 11 starting with 1); with "+"
    and a country code it may be any country's. Only ASCII digits, spaces, ( ) . - and a leading
    + may be typed. Numbers of the North American plan (+1, the US's) must be valid and able to
    take text messages, so toll-free and premium numbers and area codes such as 001 are refused.
    Elsewhere, where the library's ranges lag behind the operators and leave out the ones kept
    for examples (+44 7700 900123), a number must not be a known landline or service number and
    must have the length of a mobile number there.
    """
    raw = (value or "").strip()
    if not _PHONE_TYPED.fullmatch(raw):
        raise ValidationError(PHONE_MESSAGE, code="invalid")
    lib = _phonenumbers()
    try:
        number = lib.parse(raw, PHONE_REGION)
    except lib.NumberParseException:
        raise ValidationError(PHONE_MESSAGE, code="invalid") from None
    if not _can_take_texts(lib, number):
        raise ValidationError(PHONE_MESSAGE, code="invalid")
    return lib.format_number(number, lib.PhoneNumberFormat.E164)


@cache
def _phonenumbers() -> ModuleType:
    """The phonenumbers library (about 1 MB), loaded on first use: only enrollment, the contact
    page and the import check phone numbers."""
    import phonenumbers

    return phonenumbers


def _can_take_texts(lib: ModuleType, number: PhoneNumber) -> bool:
    kind = lib.number_type(number)
    if kind in (lib.PhoneNumberType.MOBILE, lib.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return True
    return bool(
        kind == lib.PhoneNumberType.UNKNOWN
        and number.country_code != lib.country_code_for_region(PHONE_REGION)
        and lib.is_possible_number_for_type(number, lib.PhoneNumberType.MOBILE)
    )


# --- Last 4 digits of the SSN or TIN --------------------------------------------------------------
TIN_LAST4_MESSAGE = gettext_lazy("Enter exactly 4 digits: the last 4 of your SSN or TIN.")
_TIN_LAST4 = re.compile(r"[0-9]{4}")


def tin_last4(value: str) -> str:
    """Exactly 4 ASCII digits; spaces typed between them are ignored ("12 34" -> "1234")."""
    digits = re.sub(r"\s", "", value or "")
    if not _TIN_LAST4.fullmatch(digits):
        raise ValidationError(TIN_LAST4_MESSAGE, code="invalid")
    return digits


# --- Date of birth --------------------------------------------------------------------------------
FIRST_BIRTH_YEAR = 1900
# Month first in every language: the loan records are US ones (the Spanish hint says so too).
BIRTH_DATE_HINT = gettext_lazy("Month, day and year. For example, 04121985 or 04/12/1985.")
BIRTH_DATE_FORMAT_MESSAGE = gettext_lazy(
    "Enter your date of birth as month, day and year, for example 04/12/1985."
)
BIRTH_DATE_IMPOSSIBLE_MESSAGE = gettext_lazy(
    "That date does not exist. Enter your date of birth as month, day and year, for example "
    "04/12/1985."
)
# Month and day of 1 or 2 digits and a 4-digit year, between them a slash, dash or dot (spaces
# around it allowed) or just spaces; or the 8 digits alone, as a phone's number pad types them.
_SEPARATOR = r"(?:\s*[/.-]\s*|\s+)"
_TYPED_DATE = re.compile(f"([0-9]{{1,2}}){_SEPARATOR}([0-9]{{1,2}}){_SEPARATOR}([0-9]{{4}})")
_TYPED_DIGITS = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{4})")


def birth_date(value: str, *, today: date | None = None) -> date:
    """A date of birth as customers type it, month first: "04/12/1985", "4/12/1985",
    "04-12-1985", "04.12.1985", "04 12 1985" or "04121985"; within birth_date_in_range.

    Without separators only all 8 digits are taken: "4121985" could be April 12 or 41/2, and a
    2-digit year could be 1920 or 2020, so those are refused with the expected form.
    """
    text = (value or "").strip()
    match = _TYPED_DATE.fullmatch(text) or _TYPED_DIGITS.fullmatch(text)
    if match is None:
        raise ValidationError(BIRTH_DATE_FORMAT_MESSAGE, code="invalid")
    month, day, year = (int(part) for part in match.groups())
    try:
        born = date(year, month, day)
    except ValueError:
        # Often a day typed first (25/12/1985): the message says the month comes first.
        raise ValidationError(BIRTH_DATE_IMPOSSIBLE_MESSAGE, code="impossible") from None
    return birth_date_in_range(born, today=today)


def birth_date_in_range(born: date, *, today: date | None = None) -> date:
    """A date of birth not in the future (today, in the portal's time zone, is allowed) and not
    before 1900. However the date was entered: typed, picked or imported."""
    if born > (today or timezone.localdate()):
        raise ValidationError(_("A date of birth cannot be in the future."), code="future")
    if born.year < FIRST_BIRTH_YEAR:
        raise ValidationError(
            _("Check the year of the date of birth: it cannot be before %(year)s.")
            % {"year": FIRST_BIRTH_YEAR},
            code="too_early",
        )
    return born


# --- Account number and VIN -----------------------------------------------------------------------
ACCOUNT_NUMBER_MIN, ACCOUNT_NUMBER_MAX = 4, 20
_ACCOUNT_NUMBER = re.compile(f"[A-Z0-9]{{{ACCOUNT_NUMBER_MIN},{ACCOUNT_NUMBER_MAX}}}")
# A message with numbers filled in, read in the language active when it is shown.
_interpolated = lazy(lambda text, values: str(text) % values, str)
REFERENCE_MESSAGE = _interpolated(
    gettext_lazy(
        "Enter your account number (%(min)s to %(max)s letters and digits) or your 17-character "
        "VIN."
    ),
    {"min": ACCOUNT_NUMBER_MIN, "max": ACCOUNT_NUMBER_MAX},
)

_VIN_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")


def normalize_reference(value: str) -> str:
    """An account number or VIN as typed: case, spaces and dashes ignored.

    Only ASCII is upper-cased: str.upper() turns "ß" into "SS" and the dotless i (U+0131) into "I",
    which would make a valid-looking reference out of other characters.
    """
    text = value or ""
    if not (text.isascii() and text.isalnum()):  # the common case needs no regex
        text = re.sub(r"[\s-]", "", text)
    return text.upper() if text.isascii() else text


def account_number(value: str) -> str:
    """A loan account number: 4 to 20 ASCII letters and digits, normalised like any reference."""
    number = normalize_reference(value)
    if not _ACCOUNT_NUMBER.fullmatch(number):
        raise ValidationError(
            _("An account number has %(min)s to %(max)s letters and digits.")
            % {"min": ACCOUNT_NUMBER_MIN, "max": ACCOUNT_NUMBER_MAX},
            code="invalid",
        )
    return number


def looks_like_vin(reference: str) -> bool:
    """Whether a normalised reference is meant as a VIN: 17 characters, not all digits."""
    return len(reference) == 17 and not (reference.isascii() and reference.isdigit())


def vin_problem(candidate: str) -> str | None:
    """Why a normalised reference is not a valid VIN (ISO 3779 with the North American check
    digit), or None."""
    if len(candidate) != 17:
        return _("A VIN has 17 characters.")
    if any(ch in "IOQ" for ch in candidate):
        return _("A VIN never contains the letters I, O or Q.")
    if not _VIN.fullmatch(candidate):
        return _("A VIN has only letters and digits.")
    if candidate[8] != vin_check_digit(candidate):
        return _("This VIN's check digit does not match; please check each character.")
    return None


def vin(value: str) -> str:
    """A VIN, normalised like any reference, with a right check digit."""
    normalised = normalize_reference(value)
    problem = vin_problem(normalised)
    if problem:
        raise ValidationError(problem, code="invalid")
    return normalised


def vin_check_digit(candidate: str) -> str:
    """The check digit for a 17-character VIN; its 9th character (the check digit's place) is
    not used, so it may be a placeholder."""
    total = sum(
        _VIN_TRANSLITERATION[ch] * w
        for i, (ch, w) in enumerate(zip(candidate, _VIN_WEIGHTS, strict=True))
        if i != 8
    )
    return "X" if total % 11 == 10 else str(total % 11)


def reference(value: str) -> str:
    """What the identity check asks for: an account number or a VIN, normalised.

    A 17-character reference that is not all digits is taken as a VIN and must be a valid one;
    anything else must be an account number.
    """
    normalised = normalize_reference(value)
    if looks_like_vin(normalised):
        return vin(normalised)
    try:
        return account_number(normalised)
    except ValidationError:
        raise ValidationError(REFERENCE_MESSAGE, code="invalid") from None


# --- Username -------------------------------------------------------------------------------------
USERNAME_MIN, USERNAME_MAX = 6, 30
USERNAME_HELP = _interpolated(
    gettext_lazy(
        "%(min)s to %(max)s characters: letters, digits, periods (.), underscores (_) or "
        "hyphens (-)."
    ),
    {"min": USERNAME_MIN, "max": USERNAME_MAX},
)
_USERNAME = re.compile(r"[A-Za-z0-9._-]+")


def username(value: str) -> str:
    """A new username: 6 to 30 ASCII letters, digits, periods, underscores or hyphens; spaces
    around it are dropped. Whether it is taken is for the caller to check."""
    name = (value or "").strip()
    if not USERNAME_MIN <= len(name) <= USERNAME_MAX:
        raise ValidationError(
            _("Your username must be %(min)s to %(max)s characters long.")
            % {"min": USERNAME_MIN, "max": USERNAME_MAX},
            code="length",
        )
    if not _USERNAME.fullmatch(name):
        raise ValidationError(
            _("Use only letters, digits, periods (.), underscores (_) and hyphens (-)."),
            code="characters",
        )
    return name
