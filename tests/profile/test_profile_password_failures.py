"""A wrong current password on Change password counts exactly as a wrong password on the
re-authentication page: the same per-IP limit, the same event, the same count in the session
(the two pages together), the same end of the session at the threshold."""

from __future__ import annotations

import pytest
from django.core import mail

from security.models import SecurityEvent
from tests.conftest import DEMO_PASSWORD
from tests.profile.profile_support import sign_in

pytestmark = pytest.mark.django_db

URL = "/my/profile/password/"
NEW = "velvet lantern orbit cactus 9"
WRONG = "guess guess guess"


@pytest.fixture
def customer(make_user):
    return make_user()


def change(current: str = DEMO_PASSWORD, new: str = NEW, confirm: str | None = None) -> dict:
    return {"current_password": current, "new_password1": new, "new_password2": confirm or new}


def failures(user) -> list[SecurityEvent]:
    return list(SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.LOGIN_FAILED))


def test_a_wrong_current_password_is_recorded_like_a_wrong_reauth_password(client, customer):
    sign_in(client, customer)
    client.post("/my/reauth/", {"password": WRONG})
    client.post(URL, change(current=WRONG))

    events = failures(customer)
    assert len(events) == 2
    assert events[0].detail == events[1].detail
    assert WRONG not in events[0].detail


def test_five_wrong_current_passwords_end_the_session(client, customer):
    sign_in(client, customer)
    for _ in range(4):
        assert client.post(URL, change(current=WRONG)).status_code == 200
    response = client.post(URL, change(current=WRONG))
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session
    assert client.get("/my/vehicles/").status_code == 302
    customer.refresh_from_db()
    assert customer.check_password(DEMO_PASSWORD)
    assert mail.outbox == []


def test_wrong_passwords_on_both_pages_count_together(client, customer):
    sign_in(client, customer)
    for _ in range(2):
        client.post("/my/reauth/", {"password": WRONG})
    for _ in range(2):
        client.post(URL, change(current=WRONG))
    response = client.post("/my/reauth/", {"password": WRONG})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "_auth_user_id" not in client.session


def test_a_right_current_password_restarts_the_count(client, customer):
    sign_in(client, customer)
    for _ in range(4):
        client.post(URL, change(current=WRONG))
    # Right, but the new password is refused: the current password still counts as right.
    assert client.post(URL, change(confirm=NEW + "x")).status_code == 200
    for _ in range(4):
        assert client.post(URL, change(current=WRONG)).status_code == 200
    assert "_auth_user_id" in client.session


def test_other_errors_of_the_form_do_not_count(client, customer):
    sign_in(client, customer)
    for _ in range(5):
        assert client.post(URL, change(new="short pass")).status_code == 200
        assert client.post(URL, {"new_password1": NEW, "new_password2": NEW}).status_code == 200
    assert failures(customer) == []
    assert "_auth_user_id" in client.session


def test_both_pages_share_one_per_ip_limit(client, customer, settings):
    settings.PORTAL_LOGIN_IP_RATE = "3/m"
    sign_in(client, customer)
    client.post("/my/reauth/", {"password": WRONG})
    client.post(URL, change(current=WRONG))
    client.post("/my/reauth/", {"password": WRONG})
    assert client.post(URL, change()).status_code == 429
    customer.refresh_from_db()
    assert customer.check_password(DEMO_PASSWORD)


@pytest.mark.parametrize("url", [URL, "/my/reauth/"])
def test_an_empty_post_shows_the_form_and_counts_nothing(client, customer, url):
    sign_in(client, customer)
    response = client.post(url, {})
    assert response.status_code == 200
    assert failures(customer) == []
