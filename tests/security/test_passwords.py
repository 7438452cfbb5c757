"""Password rules: length, similarity, blocklist and strength, each refusal saying why."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts.models import User
from security import passwords

ROOT = Path(__file__).resolve().parents[2]
STRONG = "velvet canyon mortar lantern 58"


def _user(**kwargs):
    defaults = {
        "username": "dana.rivera",
        "first_name": "Dana",
        "last_name": "Rivera",
        "email": "dana.rivera@example.com",
    }
    return User(**{**defaults, **kwargs})


def _refusals(password, user=None):
    try:
        validate_password(password, user if user is not None else _user())
    except ValidationError as error:
        return [(e.code, e.messages[0]) for e in error.error_list]
    return []


def test_a_long_unrelated_passphrase_is_accepted():
    assert _refusals(STRONG) == []


def test_fourteen_characters_are_refused_as_too_short(settings):
    codes = dict(_refusals("kx9!vq2#lm7$zp"))
    assert "password_too_short" in codes
    assert "at least 15 characters" in codes["password_too_short"]


def test_minimum_length_follows_the_setting(settings):
    settings.PORTAL_PASSWORD_MIN_LENGTH = 20
    message = dict(_refusals("velvet canyon mort"))["password_too_short"]
    assert "at least 20 characters" in message


def test_length_counts_characters_not_bytes():
    # 15 characters that are 45 bytes in UTF-8: long enough; 14 of them: too short.
    assert "password_too_short" not in dict(_refusals("雪山湖森風光虹星川谷海林月夜空"))
    assert "password_too_short" in dict(_refusals("雪山湖森風光虹星川谷海林月夜"))


def test_sixty_four_characters_and_more_are_allowed_up_to_128():
    long_password = ("velvet canyon mortar lantern " * 5)[:128]
    assert len(long_password) == 128
    assert "password_too_long" not in dict(_refusals(long_password))
    refusals = dict(_refusals(long_password + "x"))
    assert "at most 128 characters" in refusals["password_too_long"]


def test_password_is_not_truncated_or_case_folded_before_hashing(db):
    user = User.objects.create_user(username="casecheck", password=STRONG + " ABC")
    assert user.check_password(STRONG + " ABC")
    assert not user.check_password(STRONG + " abc")
    assert not user.check_password(STRONG)


def test_password_containing_the_username_is_refused():
    message = dict(_refusals("dana.rivera plus more words"))["password_too_similar"]
    assert "username" in message


def test_password_close_to_the_name_is_refused():
    message = dict(_refusals("Dana Rivera 1985!!", _user(username="other.name")))[
        "password_too_similar"
    ]
    assert "name" in message


def test_password_containing_the_email_is_refused():
    message = dict(_refusals("x dana.rivera@example.com", _user(username="someone")))[
        "password_too_similar"
    ]
    assert "email address" in message


@pytest.mark.parametrize(
    "password",
    [
        "iloveyouiloveyou",
        "I love you I love you",
        "PasswordPassword1",
        "qwertyuiopasdfgh",
        "1qaz2wsx3edc4rfv",
        "correct horse battery staple",
        "sunshine123456789",
    ],
)
def test_predictable_long_passwords_are_blocklisted_ignoring_case_and_spaces(password):
    message = dict(_refusals(password, _user(username="unrelated")))["password_blocklisted"]
    assert "list of passwords" in message


def test_blocklist_has_at_least_3000_entries_of_at_least_15_characters():
    entries = passwords.blocklist()
    assert len(entries) >= 3000
    assert min(len(entry) for entry in entries) >= 15
    assert isinstance(entries, frozenset)


def test_blocklist_is_read_once():
    passwords.blocklist.cache_clear()
    passwords.blocklist()
    passwords.blocklist()
    assert passwords.blocklist.cache_info().misses == 1


def test_committed_blocklist_is_what_the_generator_builds(tmp_path):
    committed = (ROOT / "security" / "data" / "password-blocklist.txt").read_text()
    script = (ROOT / "scripts" / "build_password_blocklist.py").read_text()
    # Run the generator against a copy so the committed file is not touched.
    copy = tmp_path / "scripts" / "build_password_blocklist.py"
    copy.parent.mkdir()
    copy.write_text(script)
    result = subprocess.run(
        [sys.executable, str(copy)], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert "entries" in result.stdout
    assert (tmp_path / "security" / "data" / "password-blocklist.txt").read_text() == committed


def test_guessable_password_is_refused_by_the_strength_estimate():
    codes = dict(_refusals("abcdefghijklmnopqrs", _user(username="unrelated")))
    assert "password_too_weak" in codes
    assert "too easy to guess" in codes["password_too_weak"]


def test_strength_estimate_is_told_the_lenders_name(settings):
    settings.PORTAL_LENDER_NAME = "Example Auto Finance"
    # Long, not blocklisted, unrelated to the customer: only the lender's name makes it weak.
    assert dict(_refusals("exampleautofinance2", _user(username="unrelated")))["password_too_weak"]
    settings.PORTAL_LENDER_NAME = "Northwind Lending"
    assert _refusals("exampleautofinance2", _user(username="unrelated")) == []


def test_first_and_last_name_together_are_refused_in_any_order():
    user = _user(
        username="zz.unrelated", email="zz@example.com", first_name="Genevieve", last_name="Okonkwo"
    )
    assert "password_too_similar" in dict(_refusals("okonkwogenevieve!", user))
    # A first name alone inside a long passphrase is fine.
    assert _refusals("my friend genevieve likes sailing boats", user) == []


def test_every_refusal_has_a_reason_and_each_validator_has_help_text():
    for validator in (
        passwords.LengthValidator(),
        passwords.SimilarityValidator(),
        passwords.BlocklistValidator(),
        passwords.StrengthValidator(),
    ):
        assert validator.get_help_text()
    for code, message in _refusals("aaaaaaaa"):
        assert code and len(message) > 20


def test_very_long_input_is_refused_quickly_without_running_the_costly_checks():
    import time

    started = time.perf_counter()
    refusals = dict(_refusals("a" * 100_000))
    assert set(refusals) == {"password_too_long"}
    assert time.perf_counter() - started < 1
