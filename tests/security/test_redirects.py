"""security.redirects.safe_next_url: the one check of a `next` parameter, and the pages using it."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from security.devices import DEVICE_COOKIE
from security.redirects import safe_next_url
from tests.conftest import DEMO_PASSWORD
from tests.profile.profile_support import sign_in
from tests.signin.test_login import register_device_for


def on_this_site(candidate: str | None) -> str:
    return safe_next_url(RequestFactory().get("/login/", secure=True), candidate)


@pytest.mark.parametrize(
    ("candidate", "kept"),
    [
        ("/my/vehicles/", "/my/vehicles/"),
        ("/my/vehicles/?sort=year", "/my/vehicles/?sort=year"),
        ("https://testserver/my/profile/?tab=contact", "/my/profile/?tab=contact"),
    ],
)
def test_a_path_on_this_site_is_kept(candidate, kept):
    assert on_this_site(candidate) == kept


@pytest.mark.parametrize(
    "candidate",
    [
        None,
        "",
        "abc",  # relative: would resolve against the current page (or be taken as a URL name)
        "profile:vehicles",
        "my/vehicles/",
        "//evil.example",
        "//evil.example/my/vehicles/",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "https://testserver.evil.example/",
        "http://testserver/my/profile/",  # this host, but not over https
        "javascript:alert(1)",
        "/my/\nvehicles/",
        "/my/\x00vehicles/",
    ],
)
def test_anything_else_is_refused(candidate):
    assert on_this_site(candidate) == ""


# --- Log In ---------------------------------------------------------------------------------------
def log_in_to(client, user, next_url: str):
    client.cookies[DEVICE_COOKIE] = register_device_for(user)  # no step-up: straight in
    return client.post(
        f"/login/?{next_url}", {"username": user.username, "password": DEMO_PASSWORD}
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "next_url", ["next=abc", "next=//evil.example", "next=https://evil.example/"]
)
def test_a_bad_next_after_login_lands_on_my_vehicles(client, make_user, next_url):
    response = log_in_to(client, make_user(), next_url)
    assert response.status_code == 302 and response["Location"] == "/my/vehicles/"


@pytest.mark.django_db
def test_a_next_path_on_this_site_is_kept_after_login(client, make_user):
    response = log_in_to(client, make_user(), "next=/my/profile/")
    assert response.status_code == 302 and response["Location"] == "/my/profile/"


@pytest.mark.django_db
def test_a_signed_in_visit_to_login_with_a_bad_next_goes_to_my_vehicles(client, make_user):
    sign_in(client, make_user())
    response = client.get("/login/?next=abc")
    assert response.status_code == 302 and response["Location"] == "/my/vehicles/"


# --- Re-authentication ----------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("next_url", "location"),
    [
        ("abc", "/my/profile/"),
        ("//evil.example", "/my/profile/"),
        ("/my/vehicles/", "/my/vehicles/"),
    ],
)
def test_reauth_uses_the_same_rule(client, make_user, next_url, location):
    sign_in(client, make_user())
    response = client.post("/my/reauth/", {"password": DEMO_PASSWORD, "next": next_url})
    assert response.status_code == 302 and response["Location"] == location
