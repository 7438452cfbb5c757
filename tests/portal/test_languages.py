"""English | Español: the first visit follows the browser, the switch is remembered in a cookie
and on the customer's record, and the support console stays in English."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import HttpsClient

pytestmark = pytest.mark.django_db

COOKIE = settings.LANGUAGE_COOKIE_NAME


def test_a_first_visit_follows_accept_language(client):
    assert (
        client.get("/", headers={"Accept-Language": "es-MX,es;q=0.9"})["Content-Language"] == "es"
    )
    assert client.get("/", headers={"Accept-Language": "fr-FR"})["Content-Language"] == "en"


def test_the_switch_keeps_the_choice_in_a_secure_cookie_and_goes_back(client):
    response = client.post("/language/", {"language": "es", "next": "/help/?q=pago"})

    assert response.status_code == 302
    assert response["Location"] == "/help/?q=pago"
    cookie = response.cookies[COOKIE]
    assert cookie.value == "es"
    assert cookie["secure"] and cookie["httponly"] and cookie["path"] == "/"
    # The cookie now beats the browser's own preference.
    assert client.get("/", headers={"Accept-Language": "en"})["Content-Language"] == "es"


@pytest.mark.parametrize("next_url", ["//evil.example/", "https://evil.example/", "abc", ""])
def test_the_switch_never_leaves_the_site(client, next_url):
    response = client.post("/language/", {"language": "es", "next": next_url})
    assert response["Location"] == "/"


def test_an_unknown_language_changes_nothing(client):
    response = client.post("/language/", {"language": "fr", "next": "/help/"})
    assert response["Location"] == "/help/"
    assert COOKIE not in response.cookies


def test_the_switch_needs_the_csrf_token():
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/language/", {"language": "es"}, secure=True).status_code == 403


def test_the_switch_is_a_post(client):
    assert client.get("/language/?language=es").status_code == 405


def test_a_signed_in_customers_choice_is_kept_on_their_record(client, make_user):
    user = make_user()
    client.force_login(user)

    client.post("/language/", {"language": "es", "next": "/my/vehicles/"})

    user.refresh_from_db()
    assert user.language == "es"
    other_device = HttpsClient()
    other_device.force_login(user)
    response = other_device.get("/my/vehicles/", headers={"Accept-Language": "en-US"})
    assert response["Content-Language"] == "es"


def test_the_support_console_stays_in_english(client):
    client.cookies[COOKIE] = "es"
    response = client.get(f"/{settings.PORTAL_ADMIN_PATH}login/", headers={"Accept-Language": "es"})
    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert "Contraseña" not in response.content.decode()
