"""Password rules (NIST SP 800-63B rev 4, ASVS 6.2): length, similarity, blocklist, strength.

No composition rules: any Unicode, spaces and pasting are allowed, and nothing is truncated or
case-folded before hashing. Each validator's message says why a password was refused. They are
named in settings.AUTH_PASSWORD_VALIDATORS, so every flow checks a new password with
`django.contrib.auth.password_validation.validate_password(password, user)`.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from portal.conf import portal

MAX_LENGTH = 128
BLOCKLIST_PATH = Path(__file__).resolve().parent / "data" / "password-blocklist.txt"


def _too_long(password: str) -> bool:
    # The length validator reports this; the costlier checks below skip such input.
    return len(password) > MAX_LENGTH


class LengthValidator:
    """At least `portal.password_min_length` characters (15 by default), at most 128.

    Counts characters, not bytes, so a password in any script is measured the same way.
    """

    def __init__(self, max_length: int = MAX_LENGTH) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        min_length = portal.password_min_length
        if len(password) < min_length:
            raise ValidationError(
                ngettext(
                    "Your password is too short: use at least %(min_length)d character. A few "
                    "unrelated words with spaces between them are easy to remember.",
                    "Your password is too short: use at least %(min_length)d characters. A few "
                    "unrelated words with spaces between them are easy to remember.",
                    min_length,
                )
                % {"min_length": min_length},
                code="password_too_short",
            )
        if len(password) > self.max_length:
            raise ValidationError(
                _("Your password is too long: use at most %(max_length)d characters.")
                % {"max_length": self.max_length},
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return _(
            "Use %(min_length)d to %(max_length)d characters. Spaces and any characters are "
            "allowed."
        ) % {"min_length": portal.password_min_length, "max_length": self.max_length}


def _normalize(value: str) -> str:
    return unicodedata.normalize("NFKC", value).casefold()


def _user_words(user: Any) -> dict[str, list[str]]:
    """The values a password must not be built from, per the name shown to the customer."""
    if user is None:
        return {}
    username = str(getattr(user, "username", "") or "")
    first = str(getattr(user, "first_name", "") or "")
    last = str(getattr(user, "last_name", "") or "")
    email = str(getattr(user, "email", "") or "")
    words: dict[str, list[str]] = {
        "username": [username],
        "name": [first, last, f"{first}{last}", f"{first} {last}"],
        "email": [email, email.partition("@")[0]],
    }
    return {label: [v for v in values if v.strip()] for label, values in words.items()}


# Whole sentences per value, so each reads right once translated.
TOO_SIMILAR = {
    "username": gettext_lazy(
        "Your password is too similar to your username. "
        "Choose one that does not contain your username."
    ),
    "name": gettext_lazy(
        "Your password is too similar to your name. Choose one that does not contain your name."
    ),
    "email": gettext_lazy(
        "Your password is too similar to your email address. "
        "Choose one that does not contain your email address."
    ),
}


class SimilarityValidator:
    """Refuses a password that contains, or closely resembles, the username, name or email.

    NIST 800-63B asks to refuse context-specific words such as the username. A password that
    merely contains a first name is left to the strength estimate (which is told the name), so
    "my friend dana likes sailing boats" is not refused for its own sake; first and last name
    together are.
    """

    def __init__(self, max_similarity: float = 0.7, min_contained: int = 4) -> None:
        self.max_similarity = max_similarity
        self.min_contained = min_contained

    def validate(self, password: str, user: Any = None) -> None:
        if _too_long(password):
            return
        candidate = _normalize(password)
        compact = re.sub(r"\s+", "", candidate)
        for label, values in _user_words(user).items():
            for value in values:
                normalized = _normalize(value)
                value_compact = re.sub(r"\s+", "", normalized)
                contained = (
                    label != "name"
                    and len(value_compact) >= self.min_contained
                    and value_compact in compact
                )
                similar = any(
                    self._similar(SequenceMatcher(a=part, b=normalized))
                    for part in {candidate, compact}
                )
                if contained or similar:
                    raise ValidationError(TOO_SIMILAR[label], code="password_too_similar")
        first = re.sub(r"\s+", "", _normalize(str(getattr(user, "first_name", "") or "")))
        last = re.sub(r"\s+", "", _normalize(str(getattr(user, "last_name", "") or "")))
        if first and last and first in compact and last in compact:
            raise ValidationError(TOO_SIMILAR["name"], code="password_too_similar")

    def _similar(self, matcher: SequenceMatcher[str]) -> bool:
        # quick_ratio is an upper bound of ratio and much cheaper.
        return (
            matcher.quick_ratio() >= self.max_similarity and matcher.ratio() >= self.max_similarity
        )

    def get_help_text(self) -> str:
        return _("It must not contain your username, name or email address.")


def _blocklist_key(value: str) -> str:
    # Compared ignoring case and spaces: "I love you I love you" is "iloveyouiloveyou".
    return re.sub(r"\s+", "", _normalize(value))


@cache
def blocklist() -> frozenset[str]:
    """The blocklist, read once on first use (scripts/build_password_blocklist.py makes it)."""
    with BLOCKLIST_PATH.open(encoding="utf-8") as handle:
        return frozenset(
            _blocklist_key(line) for line in handle if line.strip() and not line.startswith("#")
        )


class BlocklistValidator:
    """Refuses passwords on a list of long passwords attackers try first (>= 3,000 entries)."""

    def validate(self, password: str, user: Any = None) -> None:
        if _too_long(password):
            return
        if _blocklist_key(password) in blocklist():
            raise ValidationError(
                _(
                    "This password is on a list of passwords that attackers try first. "
                    "Choose a different one."
                ),
                code="password_blocklisted",
            )

    def get_help_text(self) -> str:
        return _("It must not be a commonly used password.")


# zxcvbn keeps the user's words in a module-level dictionary while it scores, so two threads
# scoring at once could see each other's words.
_zxcvbn_lock = threading.Lock()


def _user_inputs(user: Any) -> list[str]:
    inputs = [value for values in _user_words(user).values() for value in values]
    inputs += [*portal.lender_name.split(), portal.lender_name.replace(" ", "")]
    return [value for value in inputs if value]


# Why zxcvbn found a password weak, in our own (translatable) words: its own feedback is English
# only. Keyed by the kind of pattern its feedback is about (the longest match).
WEAKNESS_REASONS = {
    "dictionary": gettext_lazy("Common words, names and passwords are easy to guess."),
    "spatial": gettext_lazy("Patterns of keys next to each other are easy to guess."),
    "repeat": gettext_lazy("Repeated characters or words are easy to guess."),
    "sequence": gettext_lazy("Sequences like “abc” or “6543” are easy to guess."),
    "regex": gettext_lazy("Recent years are easy to guess."),
    "date": gettext_lazy("Dates are easy to guess."),
}


def _weakness_message(result: dict[str, Any]) -> str:
    """The refusal for a zxcvbn result: the reason zxcvbn would give (if any), told our way."""
    reason = ""
    if (result.get("feedback") or {}).get("warning"):
        sequence = result.get("sequence") or []
        longest: dict[str, Any] = max(
            sequence, key=lambda match: len(match.get("token", "")), default={}
        )
        reason = str(WEAKNESS_REASONS.get(longest.get("pattern", ""), ""))
    if reason:
        return _(
            "This password would be too easy to guess. %(reason)s Add more words that are not "
            "common phrases."
        ) % {"reason": reason}
    return _(
        "This password would be too easy to guess. Add more words that are not common phrases."
    )


class StrengthValidator:
    """Refuses a password that zxcvbn scores below `min_score` (0-4), told the user's words."""

    def __init__(self, min_score: int = 3) -> None:
        self.min_score = min_score

    def validate(self, password: str, user: Any = None) -> None:
        if _too_long(password) or not password:
            return
        # Imported here, not at the top: Django loads the validators to show their help text on
        # every new-password form, and zxcvbn's dictionaries take ~11 MB in each worker that
        # imports them; only checking a new password needs them.
        from zxcvbn import zxcvbn

        with _zxcvbn_lock:
            result = zxcvbn(password, user_inputs=_user_inputs(user), max_length=MAX_LENGTH)
        if result["score"] < self.min_score:
            raise ValidationError(_weakness_message(result), code="password_too_weak")

    def get_help_text(self) -> str:
        return _("It must not be easy to guess.")
