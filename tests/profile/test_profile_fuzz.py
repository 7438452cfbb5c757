"""Whatever is posted to the profile forms, the answer is a page or a redirect, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from security.challenge import QUESTIONS
from tests.profile.profile_support import sign_in

pytestmark = pytest.mark.django_db

FIELDS = [
    "reference",
    "tin_last4",
    "birth_date",
    "current",
    "new_question",
    "answer",
    "question_1",
    "answer_1",
    "current_password",
    "new_password1",
    "new_password2",
    "email",
    "mobile_phone",
    "email_code",
    "phone_code",
    "code",
    "password",
    "next",
]
URLS = [
    "/my/vehicles/add/",
    "/my/profile/challenge-questions/",
    "/my/profile/password/",
    "/my/profile/contact/",
    "/my/profile/contact/confirm/",
    "/my/profile/two-step/app/",
    "/my/reauth/",
]
_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from([*QUESTIONS, "04/12/1985", "1234", "+12015550123", "a@b.co", "//x.example"]),
    st.text(alphabet="0123456789 -/", max_size=20),
)


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(st.sampled_from(FIELDS), _text))
def test_profile_forms_never_answer_with_a_server_error(client, make_user, settings, data):
    settings.PORTAL_VERIFY_IP_RATE = settings.PORTAL_LOGIN_IP_RATE = "100000/h"
    sign_in(client, make_user())
    for url in URLS:
        assert client.post(url, data).status_code in {200, 302, 429}, url
    flagged = make_user()
    flagged.must_reset_challenge_questions = True
    flagged.save(update_fields=["must_reset_challenge_questions"])
    sign_in(client, flagged)
    assert client.post("/my/profile/challenge-questions/", data).status_code in {200, 302}
