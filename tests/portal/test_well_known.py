"""The well-known addresses that password managers and security researchers look for."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = pytest.mark.django_db


def fields_of(body: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in body.splitlines() if line)


def test_security_txt_names_the_configured_contact_and_expiry(client, settings):
    settings.PORTAL_SECURITY_CONTACT = "mailto:security@lender.example"
    settings.PORTAL_SECURITY_TXT_EXPIRES = dt.date(2027, 6, 30)

    response = client.get("/.well-known/security.txt", secure=True)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    fields = fields_of(response.content.decode())
    assert fields["Contact"] == "mailto:security@lender.example"
    assert fields["Expires"] == "2027-06-30T23:59:59Z"
    assert fields["Canonical"] == "https://testserver/.well-known/security.txt"
    assert fields["Policy"] == "https://testserver/security/"


def test_security_txt_defaults_to_the_support_phone_and_a_future_expiry(client, settings):
    settings.PORTAL_SECURITY_CONTACT = "tel:18005550142"
    settings.PORTAL_SECURITY_TXT_EXPIRES = None

    fields = fields_of(client.get("/.well-known/security.txt", secure=True).content.decode())

    assert fields["Contact"] == "tel:18005550142"
    expires = dt.datetime.strptime(fields["Expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    # RFC 9116: an expiry in the future, and less than a year ahead.
    ahead = expires - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=170) < ahead < dt.timedelta(days=365)


def test_security_txt_refuses_a_post(client):
    assert client.post("/.well-known/security.txt", secure=True).status_code == 405


def test_change_password_sends_a_signed_in_customer_to_the_password_page(client, make_user):
    user = make_user()
    client.force_login(user)

    response = client.get("/.well-known/change-password", secure=True)

    assert response.status_code == 302
    assert response["Location"] == "/my/profile/password/"


def test_change_password_asks_a_visitor_to_log_in_first(client):
    response = client.get("/.well-known/change-password", secure=True, follow=True)

    assert response.redirect_chain[0] == ("/my/profile/password/", 302)
    assert response.status_code == 200
    assert "Log In" in response.content.decode()


def test_favicon_ico_points_at_the_portals_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.svg")
    assert client.get(response["Location"]).status_code == 200
