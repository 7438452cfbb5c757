"""security.challenge's set rules: one wording per rule, at enrollment and in the profile."""

from __future__ import annotations

import pytest

from enrollment.forms import ProfileForm
from online_profile.forms import ChallengeQuestionsResetForm, ChallengeQuestionUpdateForm
from security.challenge import (
    ANSWER_REPEATED,
    ANSWER_TOO_SHORT,
    QUESTION_REPEATED,
    QUESTION_UNKNOWN,
    QUESTIONS,
    challenge_answer_rows,
    challenge_set_problems,
    check_full_set,
)
from security.models import ChallengeAnswer
from tests.enrollment.conftest import profile_data

KEYS = list(QUESTIONS)


def test_the_later_of_two_repeats_is_the_one_marked():
    problems = challenge_set_problems(
        [(KEYS[0], "blue"), (KEYS[1], " BLUE "), (KEYS[0], "ab"), ("", None)]
    )
    assert problems == [
        (None, None),
        (None, ANSWER_REPEATED),
        (QUESTION_REPEATED, ANSWER_TOO_SHORT),
        (None, None),
    ]


def test_a_question_not_on_the_list_is_refused():
    assert challenge_set_problems([("mothers_maiden_name", "smith")]) == [(QUESTION_UNKNOWN, None)]


@pytest.mark.parametrize(
    "pairs",
    [
        [(KEYS[0], "blue"), (KEYS[1], "rex")],
        [(KEYS[0], "blue"), (KEYS[0], "rex"), (KEYS[2], "paris")],
        [(KEYS[0], "blue"), (KEYS[1], "Blue"), (KEYS[2], "paris")],
        [(KEYS[0], "blue"), (KEYS[1], "rx"), (KEYS[2], "paris")],
        [("", "blue"), (KEYS[1], "rex"), (KEYS[2], "paris")],
    ],
)
def test_services_refuse_anything_but_a_full_set(pairs):
    with pytest.raises(ValueError):
        check_full_set([q for q, _ in pairs], [a for _, a in pairs])
    with pytest.raises(ValueError):
        challenge_answer_rows(user=None, answers=pairs)


def test_a_full_set_passes_with_or_without_the_answers_in_clear():
    check_full_set(KEYS[:3], ["blue", "rex", "paris"])
    check_full_set(KEYS[:3])
    with pytest.raises(ValueError):
        check_full_set([KEYS[0], KEYS[0], KEYS[1]])


# --- The same messages in every form --------------------------------------------------------------
def enrollment_errors(customer, **data: str) -> dict[str, list[str]]:
    form = ProfileForm(data=profile_data(**data), customer=customer)
    form.is_valid()
    return {name: list(errors) for name, errors in form.errors.items()}


def reset_errors(**data: str) -> dict[str, list[str]]:
    values = {
        "question_1": KEYS[0],
        "answer_1": "Blue Ridge",
        "question_2": KEYS[1],
        "answer_2": "rex the dog",
        "question_3": KEYS[2],
        "answer_3": "Paris",
    }
    form = ChallengeQuestionsResetForm(data={**values, **data})
    form.is_valid()
    return {name: list(errors) for name, errors in form.errors.items()}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"question_3": KEYS[0]}, "question_3", QUESTION_REPEATED),
        ({"answer_2": "  blue   RIDGE "}, "answer_2", ANSWER_REPEATED),
        ({"answer_1": "  ab  "}, "answer_1", ANSWER_TOO_SHORT),
    ],
)
def test_enrollment_and_the_profile_reset_give_the_same_message(
    make_customer, change, field, message
):
    # profile_data answers the first three questions with the same answers as reset_errors.
    assert enrollment_errors(make_customer(), **change) == {field: [message]}
    assert reset_errors(**change) == {field: [message]}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"current": KEYS[0], "new_question": KEYS[1], "answer": "maple"},
            "new_question",
            QUESTION_REPEATED,
        ),
        (
            {"current": KEYS[0], "new_question": KEYS[6], "answer": " REX "},
            "answer",
            ANSWER_REPEATED,
        ),
        ({"current": KEYS[0], "new_question": "", "answer": "ab"}, "answer", ANSWER_TOO_SHORT),
    ],
)
def test_replacing_one_answer_gives_the_same_messages(make_user, data, field, message):
    user = make_user()  # answers "blue", "rex", "paris" to KEYS[0..2]
    assert ChallengeAnswer.objects.filter(user=user).count() == 3
    form = ChallengeQuestionUpdateForm(data=data, user=user)
    assert not form.is_valid()
    assert form.errors == {field: [message]}
