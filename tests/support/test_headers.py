"""Console pages keep the project's security headers and need nothing the CSP would block."""

from __future__ import annotations

import re

import pytest

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle=", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+=", re.I)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.I)


@pytest.fixture
def console_pages(supervisor, console_url, customer_url, make_user):
    from security.models import SecurityEvent

    customer = make_user()
    SecurityEvent.objects.create(user=customer, kind="locked")
    supervisor.post(customer_url(customer, "unlock"), {"unlock-reason": "verified"})
    return [
        console_url(),
        console_url("support/customeraccount/"),
        console_url(f"support/customeraccount/?q={customer.username}"),
        customer_url(customer),
        console_url("security/securityevent/"),
        console_url(f"security/securityevent/{SecurityEvent.objects.first().pk}/change/"),
        console_url("support/staffauditentry/"),
        console_url("password_change/"),
    ]


def _assert_secure(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html)
    assert not STYLE_ATTRIBUTE.search(html)
    assert not EVENT_HANDLER.search(html)
    assert not STYLE_ELEMENT.search(html)


def test_login_page_has_the_security_headers_and_no_inline_code(client, console_url, db):
    response = client.get(console_url("login/"))
    assert response.status_code == 200
    _assert_secure(response)


def test_signed_in_console_pages_have_the_security_headers_and_are_never_cached(
    supervisor, console_pages
):
    for url in console_pages:
        response = supervisor.get(url)
        assert response.status_code == 200, url
        _assert_secure(response)
        assert "no-store" in response.headers["Cache-Control"], url


def test_console_is_not_at_admin(client, db):
    assert client.get("/admin/").status_code == 404
