"""My Online Profile: Password."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils.html import escape

from security.models import SecurityEvent
from tests.conftest import DEMO_PASSWORD, HttpsClient
from tests.profile.profile_support import sign_in

pytestmark = pytest.mark.django_db

URL = "/my/profile/password/"
NEW = "velvet lantern orbit cactus 9"


@pytest.fixture
def customer(make_user):
    return make_user()


def change(current: str = DEMO_PASSWORD, new1: str = NEW, new2: str | None = None) -> dict:
    return {"current_password": current, "new_password1": new1, "new_password2": new2 or new1}


def test_changing_the_password_keeps_this_session_and_ends_the_others(client, customer):
    other_session = sign_in(HttpsClient(), customer)
    sign_in(client, customer)
    old_key = client.session.session_key
    response = client.post(URL, change())
    assert response.status_code == 302 and response["Location"] == "/my/profile/"
    customer.refresh_from_db()
    assert customer.check_password(NEW) and not customer.check_password(DEMO_PASSWORD)
    assert client.session.session_key != old_key  # a new session key for this session
    assert client.get("/my/profile/").status_code == 200
    elsewhere = other_session.get("/my/profile/")
    assert elsewhere.status_code == 302 and elsewhere["Location"].startswith("/login/")


def test_password_change_records_one_event_and_sends_the_password_email(client, customer):
    sign_in(client, customer)
    client.post(URL, change())
    assert (
        SecurityEvent.objects.filter(
            user=customer, kind=SecurityEvent.Kind.PASSWORD_CHANGED
        ).count()
        == 1
    )
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [customer.email]
    assert "password" in mail.outbox[0].subject.lower()
    assert NEW not in mail.outbox[0].body


@pytest.mark.parametrize(
    "data, message, kept",
    [
        (
            change(current="not my password at all"),
            "This is not your current password",
            {"new_password1", "new_password2"},
        ),
        (
            change(new2="velvet lantern orbit cactus 8"),
            "do not match",
            {"current_password", "new_password1"},
        ),
        (change(new1="short pass"), "too short", {"current_password"}),
        (change(new1="password password password"), "commonly used", {"current_password"}),
    ],
)
def test_a_refused_change_keeps_the_old_password_and_shows_again_only_what_was_accepted(
    client, customer, data, message, kept
):
    sign_in(client, customer)
    response = client.post(URL, data)
    assert response.status_code == 200
    # Passwords are shown again only on a page the browser must not store.
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert message in page
    shown = {
        name for name, value in data.items() if f'name="{name}" value="{escape(value)}"' in page
    }
    assert shown == kept
    customer.refresh_from_db()
    assert customer.check_password(DEMO_PASSWORD)
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PASSWORD_CHANGED).exists()
    assert mail.outbox == []


def test_the_new_password_must_not_contain_the_username(client, customer):
    sign_in(client, customer)
    page = client.post(URL, change(new1=f"{customer.username} orbit lantern")).content.decode()
    assert "username" in page
    customer.refresh_from_db()
    assert customer.check_password(DEMO_PASSWORD)


def test_password_fields_have_the_right_autocomplete(client, customer):
    sign_in(client, customer)
    page = client.get(URL).content.decode()
    assert 'autocomplete="current-password"' in page
    assert page.count('autocomplete="new-password"') == 2


def test_a_short_and_mismatched_new_password_gets_both_messages_at_once(client, customer):
    # One round trip tells the customer everything, as at enrollment and password recovery.
    sign_in(client, customer)
    page = client.post(URL, change(new1="short pass", new2="short pasx")).content.decode()
    assert "do not match" in page and "too short" in page
    customer.refresh_from_db()
    assert customer.check_password(DEMO_PASSWORD)
