"""The `next` page of a login that goes through step-up and Register this device?: a value that
is not a path on this site lands on My Vehicles, never a 500 or another site."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from signin.flow import FLOW_KEY
from tests.conftest import DEMO_PASSWORD
from tests.signin.test_step_up import asked_answer, last_code, send_code, verify

pytestmark = pytest.mark.django_db

BAD_NEXT = ["abc", "//evil.example", "javascript:alert(1)", "https://evil.example/"]


def _step_up_with_next(client, user, next_url: str) -> None:
    response = client.post(
        f"/login/?next={quote(next_url, safe='')}",
        {"username": user.username, "password": DEMO_PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/login/verify/"
    send_code(client)
    response = verify(client, answer=asked_answer(client), code=last_code())
    assert response.status_code == 302 and response["Location"] == "/login/device/"


@pytest.mark.parametrize("next_url", BAD_NEXT)
@pytest.mark.parametrize("choice", ["skip", "register"])
def test_a_bad_next_then_step_up_then_register_device_lands_on_my_vehicles(
    client, make_user, next_url, choice
):
    _step_up_with_next(client, make_user(), next_url)
    response = client.post("/login/device/", {"choice": choice})
    assert response.status_code == 302 and response["Location"] == "/my/vehicles/"
    assert client.get("/my/vehicles/").status_code == 200


def test_a_good_next_is_kept_through_step_up(client, make_user):
    _step_up_with_next(client, make_user(), "/my/profile/?tab=contact")
    response = client.post("/login/device/", {"choice": "skip"})
    assert response.status_code == 302 and response["Location"] == "/my/profile/?tab=contact"


@pytest.mark.parametrize("next_url", BAD_NEXT)
def test_a_bad_next_kept_in_the_login_flow_is_checked_again(client, make_user, next_url):
    """A login flow stored before the Log In page checked `next` (or by any other path) still
    lands on My Vehicles."""
    _step_up_with_next(client, make_user(), "")
    session = client.session
    data = dict(session[FLOW_KEY])
    data["next_url"] = next_url
    session[FLOW_KEY] = data
    session.save()

    response = client.post("/login/device/", {"choice": "skip"})
    assert response.status_code == 302 and response["Location"] == "/my/vehicles/"
