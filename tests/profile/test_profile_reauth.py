"""Re-authentication before sensitive profile changes (ASVS 7.5.1)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import time_machine
from django.core import mail

from security.models import ChallengeAnswer, SecurityEvent
from tests.conftest import DEMO_PASSWORD
from tests.profile.profile_support import sign_in

pytestmark = pytest.mark.django_db

T0 = "2026-11-28 10:00:00+00:00"
SENSITIVE = [
    "/my/profile/challenge-questions/",
    "/my/profile/password/",
    "/my/profile/contact/",
    "/my/profile/devices/",
    "/my/profile/two-step/",
]


@pytest.fixture
def customer(make_user):
    return make_user()


@pytest.mark.parametrize("url", SENSITIVE)
def test_sensitive_pages_ask_for_the_password_after_five_minutes(client, customer, url):
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, customer)
        assert client.get(url).status_code == 200
        clock.shift(5 * 60)
        assert client.get(url).status_code == 200
        clock.shift(2)
        response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/my/reauth/?next={quote(url, safe='')}"


@pytest.mark.parametrize(
    "url, data",
    [
        ("/my/profile/challenge-questions/", {"current": "first_car", "answer": "civic"}),
        ("/my/profile/password/", {"current_password": DEMO_PASSWORD}),
        ("/my/profile/devices/remove-all/", {}),
        ("/my/profile/two-step/backup-codes/", {}),
        ("/my/profile/two-step/app/start/", {}),
        ("/my/profile/contact/", {"email": "new@example.org"}),
    ],
)
def test_a_stale_change_is_not_made_and_goes_to_reauth(client, customer, url, data):
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, customer)
        clock.shift(10 * 60)
        response = client.post(url, data)
    assert response.status_code == 302 and response["Location"].startswith("/my/reauth/")
    assert not SecurityEvent.objects.exclude(kind=SecurityEvent.Kind.LOGIN_FAILED).exists()
    assert mail.outbox == []


def test_pages_without_changes_do_not_ask_again(client, customer):
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, customer)
        clock.shift(10 * 60)
        for url in ("/my/vehicles/", "/my/profile/", "/my/profile/activity/"):
            assert client.get(url).status_code == 200


def test_entering_the_password_returns_to_the_page(client, customer):
    url = "/my/profile/challenge-questions/"
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, customer)
        clock.shift(10 * 60)
        page = client.get(f"/my/reauth/?next={quote(url)}").content.decode()
        assert f'name="next" value="{url}"' in page
        response = client.post("/my/reauth/", {"password": DEMO_PASSWORD, "next": url})
        assert response.status_code == 302 and response["Location"] == url
        assert client.get(url).status_code == 200
        response = client.post(url, {"current": "first_car", "new_question": "", "answer": "civic"})
    assert response.status_code == 302
    assert ChallengeAnswer.objects.filter(user=customer).count() == 3


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/x", "http://testserver/my/profile/", "javascript:x"],
)
def test_reauth_never_redirects_off_site(client, customer, next_url):
    sign_in(client, customer)
    response = client.post("/my/reauth/", {"password": DEMO_PASSWORD, "next": next_url})
    assert response.status_code == 302 and response["Location"] == "/my/profile/"


def test_a_wrong_password_is_refused_and_shown_in_sign_in_activity(client, customer):
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, customer)
        clock.shift(10 * 60)
        page = client.post("/my/reauth/", {"password": "guess guess guess"}).content.decode()
        assert "This password is not correct" in page and "guess guess" not in page
        assert client.get("/my/profile/password/").status_code == 302
    assert (
        SecurityEvent.objects.filter(user=customer, kind=SecurityEvent.Kind.LOGIN_FAILED).count()
        == 1
    )


def test_five_wrong_passwords_end_the_session(client, customer):
    sign_in(client, customer)
    for _ in range(4):
        assert client.post("/my/reauth/", {"password": "guess guess guess"}).status_code == 200
    response = client.post("/my/reauth/", {"password": DEMO_PASSWORD + "x"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/my/vehicles/").status_code == 302  # logged out
    assert "_auth_user_id" not in client.session


def test_reauth_attempts_are_rate_limited_per_ip(client, customer, settings):
    settings.PORTAL_LOGIN_IP_RATE = "2/m"
    sign_in(client, customer)
    client.post("/my/reauth/", {"password": "guess guess guess"})
    client.post("/my/reauth/", {"password": "guess guess guess"})
    response = client.post("/my/reauth/", {"password": DEMO_PASSWORD})
    assert response.status_code == 429
