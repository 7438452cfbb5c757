"""The header's and footer's links are rendered once per process and language and reused
(templates/base.html): a page must still show its own language's wording and the lender's current
settings, and never another customer's or another request's details."""

from __future__ import annotations

import re

import pytest

from tests.profile.profile_support import sign_in

pytestmark = pytest.mark.django_db


def test_the_signed_in_menu_follows_the_customer_language_each_time(client, make_user):
    user = make_user()
    sign_in(client, user)
    for language, menu, other in [
        ("en", "Manage My Profile", "Administrar mi perfil"),
        ("es", "Administrar mi perfil", "Manage My Profile"),
        ("en", "Manage My Profile", "Administrar mi perfil"),
    ]:
        user.language = language
        user.save(update_fields=["language"])
        page = client.get("/my/vehicles/").content.decode()
        assert menu in page
        assert other not in page


def account_nav(page: str) -> str:
    return re.search(r'<nav aria-label="Account">.*?</nav>', page, re.S).group(0)


def test_signed_out_and_signed_in_pages_keep_their_own_links(client, make_user):
    signed_out = account_nav(client.get("/").content.decode())
    assert 'href="/login/"' in signed_out and 'href="/my/vehicles/"' not in signed_out
    sign_in(client, make_user())
    signed_in = account_nav(client.get("/").content.decode())
    assert 'href="/login/"' not in signed_in and 'href="/my/vehicles/"' in signed_in


def test_the_footer_shows_the_lender_settings_of_the_moment(client, settings):
    settings.PORTAL_LENDER_NAME = "First Example Auto"
    assert "First Example Auto will never ask" in client.get("/help/").content.decode()
    settings.PORTAL_LENDER_NAME = "Second Example Auto"
    page = client.get("/help/").content.decode()
    assert "Second Example Auto will never ask" in page
    assert "First Example Auto" not in page


def test_each_page_has_its_own_csrf_token_and_address(client):
    first = client.get("/help/").content.decode()
    client.cookies.clear()
    second = client.get("/contact/").content.decode()
    tokens = [
        re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page) for page in (first, second)
    ]
    assert tokens[0] and tokens[1] and tokens[0][0] != tokens[1][0]
    assert "?next=%2Fcontact%2F" in second and "%2Fhelp%2F" not in second
