"""My Online Profile: Challenge Questions, and the must-reset gate set by support."""

from __future__ import annotations

import pytest
from django.core import mail

from security.challenge import QUESTIONS, answer_matches
from security.models import ChallengeAnswer, SecurityEvent
from tests.profile.profile_support import sign_in

pytestmark = pytest.mark.django_db

URL = "/my/profile/challenge-questions/"
KEYS = list(QUESTIONS)  # the user has KEYS[0..2] with answers "blue", "rex", "paris"


@pytest.fixture
def customer(make_user):
    return make_user()


def answers_of(user) -> dict[str, str]:
    return dict(ChallengeAnswer.objects.filter(user=user).values_list("question", "answer_hash"))


def test_page_shows_the_three_questions_never_the_answers(client, customer):
    sign_in(client, customer)
    page = client.get(URL).content.decode()
    for key in KEYS[:3]:
        assert QUESTIONS[key].replace("'", "&#x27;") in page
    for answer in ("blue", "rex", "paris"):
        assert answer not in page
    for answer_hash in answers_of(customer).values():
        assert answer_hash not in page
    assert ">Update</button>" in page


def test_changing_one_question_and_its_answer(client, customer):
    sign_in(client, customer)
    before = answers_of(customer)
    response = client.post(
        URL, {"current": KEYS[0], "new_question": KEYS[5], "answer": "  Lincoln   Elementary "}
    )
    assert response.status_code == 302
    after = answers_of(customer)
    assert set(after) == {KEYS[5], KEYS[1], KEYS[2]}
    assert answer_matches("lincoln elementary", after[KEYS[5]])
    assert after[KEYS[1]] == before[KEYS[1]] and after[KEYS[2]] == before[KEYS[2]]
    assert (
        SecurityEvent.objects.filter(
            user=customer, kind=SecurityEvent.Kind.QUESTIONS_CHANGED
        ).count()
        == 1
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [customer.email]
    assert "Your challenge questions were changed" in mail.outbox[0].body
    assert "lincoln" not in mail.outbox[0].body.lower()


def test_keeping_the_question_changes_only_the_answer(client, customer):
    sign_in(client, customer)
    client.post(URL, {"current": KEYS[1], "new_question": "", "answer": "Buddy"})
    after = answers_of(customer)
    assert set(after) == set(KEYS[:3])
    assert answer_matches("buddy", after[KEYS[1]]) and not answer_matches("rex", after[KEYS[1]])


@pytest.mark.parametrize(
    "data, message, answer_kept",
    [
        (
            {"current": KEYS[0], "new_question": KEYS[1], "answer": "maple"},
            "Choose a different question for each",
            True,
        ),
        ({"current": KEYS[0], "new_question": KEYS[6], "answer": "ab"}, "at least 3", False),
        (
            {"current": KEYS[0], "new_question": KEYS[6], "answer": " REX "},
            "different from",
            False,
        ),
        (
            {"current": KEYS[7], "new_question": KEYS[6], "answer": "maple"},
            "Choose one of the options shown.",
            True,
        ),
        (
            {"current": "", "new_question": KEYS[6], "answer": "maple"},
            "Select the question you want to change.",
            True,
        ),
    ],
)
def test_a_failed_update_changes_nothing_and_keeps_the_choices_and_an_accepted_answer(
    client, customer, data, message, answer_kept
):
    sign_in(client, customer)
    before = answers_of(customer)
    response = client.post(URL, data)
    assert response.status_code == 200
    # The answer is shown again only on a page the browser must not store.
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert message in page and "There is a problem" in page
    assert answers_of(customer) == before
    assert (f'name="answer" value="{data["answer"]}"' in page) is answer_kept
    if data["new_question"]:
        assert f'<option value="{data["new_question"]}" selected>' in page
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.QUESTIONS_CHANGED).exists()
    assert mail.outbox == []


# --- must_reset_challenge_questions ----------------------------------------------------------------
@pytest.fixture
def flagged(customer):
    customer.must_reset_challenge_questions = True
    customer.save(update_fields=["must_reset_challenge_questions"])
    return customer


@pytest.mark.parametrize(
    "url",
    [
        "/my/vehicles/",
        "/my/vehicles/add/",
        "/my/profile/",
        "/my/profile/password/",
        "/my/profile/devices/",
        "/my/profile/activity/",
        "/",
    ],
)
def test_a_flagged_customer_is_sent_to_choose_new_questions_first(client, flagged, url):
    sign_in(client, flagged)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == URL


def test_the_flagged_customer_can_still_log_out_and_see_the_questions_page(client, flagged):
    sign_in(client, flagged)
    page = client.get(URL).content.decode()
    assert "Choose new Challenge Questions" in page
    assert 'name="question_3"' in page and 'name="answer_3"' in page
    assert client.post("/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_saving_three_new_questions_clears_the_flag_in_one_change(client, flagged):
    sign_in(client, flagged)
    response = client.post(
        URL,
        {
            "question_1": KEYS[3],
            "answer_1": "Lincoln",
            "question_2": KEYS[4],
            "answer_2": "Dayton",
            "question_3": KEYS[0],
            "answer_3": "Civic",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/my/vehicles/"
    flagged.refresh_from_db()
    assert flagged.must_reset_challenge_questions is False
    after = answers_of(flagged)
    assert set(after) == {KEYS[3], KEYS[4], KEYS[0]}
    assert answer_matches("civic", after[KEYS[0]]) and not answer_matches("blue", after[KEYS[0]])
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.QUESTIONS_CHANGED).count() == 1
    assert "Your challenge questions were replaced" in mail.outbox[0].body
    assert client.get("/my/vehicles/").status_code == 200


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {
                "question_1": KEYS[3],
                "answer_1": "aaa",
                "question_2": KEYS[3],
                "answer_2": "bbb",
                "question_3": KEYS[0],
                "answer_3": "ccc",
            },
            "Choose a different question for each",
        ),
        (
            {
                "question_1": KEYS[3],
                "answer_1": "Same",
                "question_2": KEYS[4],
                "answer_2": "same",
                "question_3": KEYS[0],
                "answer_3": "ccc",
            },
            "Use an answer different from your other answers",
        ),
        (
            {"question_1": KEYS[3], "answer_1": "aaa", "question_2": KEYS[4], "answer_2": "bbb"},
            "Choose question 3.",
        ),
    ],
)
def test_an_incomplete_reset_keeps_the_flag_and_the_old_answers(client, flagged, data, message):
    sign_in(client, flagged)
    before = answers_of(flagged)
    page = client.post(URL, data).content.decode()
    assert message in page
    flagged.refresh_from_db()
    assert flagged.must_reset_challenge_questions is True
    assert answers_of(flagged) == before
    assert client.get("/my/vehicles/").status_code == 302


def test_a_refused_reset_shows_again_the_answers_that_were_accepted(client, flagged):
    sign_in(client, flagged)
    data = {
        "question_1": KEYS[3],
        "answer_1": "maple",
        "question_2": KEYS[4],
        "answer_2": "ab",
        "question_3": KEYS[0],
        "answer_3": "civic",
    }
    response = client.post(URL, data)
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "Answer to question 2: Your answer must be at least 3 characters." in page
    assert 'name="answer_1" value="maple"' in page and 'name="answer_3" value="civic"' in page
    assert 'name="answer_2" value=' not in page


def test_the_gate_does_not_touch_customers_without_the_flag(client, customer):
    sign_in(client, customer)
    assert client.get("/my/vehicles/").status_code == 200
