"""VIN validation (ISO 3779 with the North American check digit) and identity hashing."""

from __future__ import annotations

from datetime import date

import pytest

from accounts.fields import vin_check_digit, vin_problem
from accounts.identity import identity_digest

KNOWN_GOOD_VIN = "1HGCM82633A004352"


def test_a_real_vin_with_a_correct_check_digit_is_valid():
    assert vin_problem(KNOWN_GOOD_VIN) is None


def test_the_check_digit_of_a_real_vin_is_computed():
    assert vin_check_digit(KNOWN_GOOD_VIN[:8] + "0" + KNOWN_GOOD_VIN[9:]) == "3"


def test_a_check_digit_of_ten_is_written_x():
    assert vin_problem("1FTEW1E4XKF330912") is None
    assert vin_check_digit("1FTEW1E40KF330912") == "X"


@pytest.mark.parametrize("wrong", "012456789X")  # every check character but the right "3"
def test_a_wrong_check_digit_is_refused(wrong):
    vin = KNOWN_GOOD_VIN[:8] + wrong + KNOWN_GOOD_VIN[9:]
    assert vin_problem(vin) == (
        "This VIN's check digit does not match; please check each character."
    )


@pytest.mark.parametrize("letter", ["I", "O", "Q"])
def test_the_letters_i_o_and_q_are_refused(letter):
    vin = KNOWN_GOOD_VIN[:11] + letter + KNOWN_GOOD_VIN[12:]
    assert vin_problem(vin) == "A VIN never contains the letters I, O or Q."


@pytest.mark.parametrize("vin", ["", KNOWN_GOOD_VIN[:16], KNOWN_GOOD_VIN + "1"])
def test_a_vin_must_have_17_characters(vin):
    assert vin_problem(vin) == "A VIN has 17 characters."


def test_a_vin_has_only_letters_and_digits():
    assert vin_problem(KNOWN_GOOD_VIN[:16] + "-") == "A VIN has only letters and digits."


def test_identity_digest_is_a_keyed_hash_that_hides_the_values(settings):
    settings.PORTAL_IDENTITY_KEY = "first key"
    digest = identity_digest("1234", date(1985, 4, 12))
    assert len(digest) == 64
    assert "1985" not in digest
    assert digest == identity_digest("1234", date(1985, 4, 12))
    assert digest != identity_digest("1235", date(1985, 4, 12))
    assert digest != identity_digest("1234", date(1985, 4, 13))
    # Without the key (kept outside the database) the digest cannot be recomputed.
    settings.PORTAL_IDENTITY_KEY = "another key"
    assert identity_digest("1234", date(1985, 4, 12)) != digest
