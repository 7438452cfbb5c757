"""Challenge questions: the list customers choose from, and answer normalising and hashing.

Answers are compared ignoring case, surrounding and repeated spaces (and Unicode look-alikes via
NFKC), then hashed like passwords. They are never a second factor on their own.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from django.contrib.auth.hashers import check_password, make_password

if TYPE_CHECKING:
    from accounts.models import User
    from security.models import ChallengeAnswer

QUESTIONS: dict[str, str] = {
    "first_car": "What was the make and model of your first car?",
    "childhood_street": "What was the name of the street you grew up on?",
    "first_pet": "What was the name of your first pet?",
    "elementary_school": "What was the name of your elementary school?",
    "first_job_city": "In what city did you have your first job?",
    "parents_met_city": "In what city did your parents meet?",
    "childhood_friend": "What is the first name of your childhood best friend?",
    "first_concert": "What was the first concert you attended?",
    "favorite_teacher": "What was the last name of your favorite teacher?",
    "oldest_cousin": "What is the first name of your oldest cousin?",
    "honeymoon_city": "In what city did you spend your honeymoon?",
    "first_phone_last4": "What were the last four digits of your first phone number?",
}

MIN_ANSWER_LENGTH = 3
REQUIRED_QUESTIONS = 3


def question_text(key: str) -> str:
    return QUESTIONS.get(key, "")


def question_choices() -> list[tuple[str, str]]:
    return list(QUESTIONS.items())


def normalize_answer(answer: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", answer or "").casefold().split())


def hash_answer(answer: str) -> str:
    return make_password(normalize_answer(answer))


def answer_matches(answer: str, answer_hash: str) -> bool:
    """Constant-time comparison through Django's hashers (no rehash-on-check saving)."""
    return check_password(normalize_answer(answer), answer_hash)


def challenge_answer_rows(*, user: User, answers: list[tuple[str, str]]) -> list[ChallengeAnswer]:
    """Unsaved ChallengeAnswer rows for a full set of `answers` ([(question_key, answer)]).

    Hashes every answer here, so callers can do it before opening their write transaction
    (SQLite serialises writers, and a slow hash must not hold the lock). Forms validate first;
    this re-checks the invariants so no caller can store duplicates or unknown questions.
    """
    from security.models import ChallengeAnswer

    keys = [key for key, _ in answers]
    normalized = [normalize_answer(answer) for _, answer in answers]
    if (
        len(answers) != REQUIRED_QUESTIONS
        or len(set(keys)) != len(keys)
        or any(key not in QUESTIONS for key in keys)
        or len(set(normalized)) != len(normalized)
        or any(len(a) < MIN_ANSWER_LENGTH for a in normalized)
    ):
        raise ValueError("three distinct questions with distinct answers are needed")
    return [
        ChallengeAnswer(user=user, question=key, answer_hash=hash_answer(answer))
        for key, answer in answers
    ]
