"""Challenge questions: the list customers choose from, the rules of a set, and answer
normalising and hashing.

Answers are compared ignoring case, surrounding and repeated spaces (and Unicode look-alikes via
NFKC), then hashed like passwords. They are never a second factor on their own.

A set is REQUIRED_QUESTIONS different questions from QUESTIONS, each answered with at least
MIN_ANSWER_LENGTH characters (once normalised), no two answers the same. Every form that takes
answers (enrollment, replacing one answer, replacing all three) asks challenge_set_problems or
replacement_problems, so the rules and their messages are these only.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.contrib.auth.hashers import check_password, make_password
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy, gettext_noop, ngettext

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from accounts.models import User
    from security.models import ChallengeAnswer

# The texts in English: they are the catalogue's message ids, translated when shown
# (question_text, question_choices). Answers are stored against the KEYS, so a customer who
# enrolled in one language is asked the same question, and checked the same way, in the other.
QUESTIONS: dict[str, str] = {
    "first_car": gettext_noop("What was the make and model of your first car?"),
    "childhood_street": gettext_noop("What was the name of the street you grew up on?"),
    "first_pet": gettext_noop("What was the name of your first pet?"),
    "elementary_school": gettext_noop("What was the name of your elementary school?"),
    "first_job_city": gettext_noop("In what city did you have your first job?"),
    "parents_met_city": gettext_noop("In what city did your parents meet?"),
    "childhood_friend": gettext_noop("What is the first name of your childhood best friend?"),
    "first_concert": gettext_noop("What was the first concert you attended?"),
    "favorite_teacher": gettext_noop("What was the last name of your favorite teacher?"),
    "oldest_cousin": gettext_noop("What is the first name of your oldest cousin?"),
    "honeymoon_city": gettext_noop("In what city did you spend your honeymoon?"),
    "first_phone_last4": gettext_noop("What were the last four digits of your first phone number?"),
}

MIN_ANSWER_LENGTH = 3
REQUIRED_QUESTIONS = 3


def _answer_too_short() -> str:
    return ngettext(
        "Your answer must be at least %(count)d character.",
        "Your answer must be at least %(count)d characters.",
        MIN_ANSWER_LENGTH,
    ) % {"count": MIN_ANSWER_LENGTH}


QUESTION_UNKNOWN = gettext_lazy("Choose a question from the list.")
QUESTION_REPEATED = gettext_lazy("Choose a different question for each.")
ANSWER_TOO_SHORT = lazy(_answer_too_short, str)()
ANSWER_REPEATED = gettext_lazy("Use an answer different from your other answers.")

# (problem with the question, problem with the answer); None where there is none.
Problems = tuple["StrOrPromise | None", "StrOrPromise | None"]


def question_text(key: str) -> str:
    """The question in the active language ("" for an unknown key)."""
    return gettext(QUESTIONS[key]) if key in QUESTIONS else ""


def question_choices() -> list[tuple[str, StrOrPromise]]:
    """(key, text) for a choice field; each text is translated when the field is rendered, so
    the list can be built once at import."""
    return [(key, gettext_lazy(text)) for key, text in QUESTIONS.items()]


def normalize_answer(answer: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", answer or "").casefold().split())


def answer_problem(answer: str) -> StrOrPromise | None:
    """What is wrong with an answer on its own (too short once normalised), or None."""
    return ANSWER_TOO_SHORT if len(normalize_answer(answer)) < MIN_ANSWER_LENGTH else None


def challenge_set_problems(pairs: Iterable[tuple[str | None, str | None]]) -> list[Problems]:
    """What is wrong at each position of a set of (question key, answer) pairs.

    A question must be one of QUESTIONS and not chosen at an earlier position; an answer must be
    long enough and differ from the answers at earlier positions, so the later of two repeats
    is the one marked. An empty or None question or answer is skipped (the form's field has
    already said it is required).
    """
    problems: list[Problems] = []
    seen_questions: set[str] = set()
    seen_answers: set[str] = set()
    for question, answer in pairs:
        question_error: StrOrPromise | None = None
        answer_error: StrOrPromise | None = None
        if question:
            if question not in QUESTIONS:
                question_error = QUESTION_UNKNOWN
            elif question in seen_questions:
                question_error = QUESTION_REPEATED
            seen_questions.add(question)
        if answer is not None:
            normalized = normalize_answer(answer)
            answer_error = answer_problem(answer)
            if answer_error is None and normalized in seen_answers:
                answer_error = ANSWER_REPEATED
            seen_answers.add(normalized)
        problems.append((question_error, answer_error))
    return problems


def replacement_problems(
    question: str, answer: str | None, *, others: Sequence[ChallengeAnswer]
) -> Problems:
    """What is wrong with replacing one question of a saved set by (question, answer), checked
    against the user's `others` saved rows under the same rules (answers through their hashes)."""
    question_error: StrOrPromise | None = None
    answer_error: StrOrPromise | None = None
    if question not in QUESTIONS:
        question_error = QUESTION_UNKNOWN
    elif question in {row.question for row in others}:
        question_error = QUESTION_REPEATED
    if answer is not None:
        answer_error = answer_problem(answer)
        if answer_error is None and any(answer_matches(answer, row.answer_hash) for row in others):
            answer_error = ANSWER_REPEATED
    return question_error, answer_error


def check_full_set(questions: Sequence[str], answers: Sequence[str] | None = None) -> None:
    """Raises ValueError unless `questions` (and `answers`, when they are at hand in clear) make
    a full set: the last check of the services that store one, after the forms told the
    customer what to correct."""
    if len(questions) != REQUIRED_QUESTIONS or (
        answers is not None and len(answers) != len(questions)
    ):
        raise ValueError(f"{REQUIRED_QUESTIONS} challenge questions are needed")
    pairs = zip(questions, answers if answers is not None else [None] * len(questions), strict=True)
    if not all(questions) or any(
        problems != (None, None) for problems in challenge_set_problems(pairs)
    ):
        raise ValueError("three distinct questions from the list with distinct answers are needed")


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

    check_full_set([key for key, _ in answers], [answer for _, answer in answers])
    return [
        ChallengeAnswer(user=user, question=key, answer_hash=hash_answer(answer))
        for key, answer in answers
    ]
