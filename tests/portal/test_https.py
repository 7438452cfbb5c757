"""HTTPS everywhere: redirects, security headers, cookies, health check."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_plain_http_request_is_redirected_to_https(plain_http_client):
    response = plain_http_client.get("/help/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/help/"


def test_every_page_carries_the_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    csp = response["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "script-src 'self'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


# The one script: same-origin, a file, loaded after the page (the error summary's focus).
ERROR_SUMMARY_SCRIPT = '<script src="/static/js/error-summary.js" defer>'
# Log In's second one, also a same-origin file: "Use a passkey" (static/js/passkeys.js).
PASSKEYS_SCRIPT = '<script src="/static/js/passkeys.js" defer>'


def test_pages_have_no_inline_script_or_style(client):
    for url in ("/", "/help/", "/security/", "/contact/", "/login/", "/enroll/"):
        html = client.get(url).content.decode()
        scripts = [PASSKEYS_SCRIPT] if url == "/login/" else []
        assert re.findall(r"<script\b[^>]*>", html) == [*scripts, ERROR_SUMMARY_SCRIPT], url
        assert "style=" not in html and "<style" not in html


def test_csrf_cookie_is_host_prefixed_secure_httponly(client):
    response = client.get("/login/")
    cookie = response.cookies.get("__Host-csrftoken")
    if cookie is None:  # the login page sets it once it has a form
        return
    assert cookie["secure"] and cookie["httponly"] and cookie["path"] == "/"


def test_trace_is_refused(client):
    response = client.generic("TRACE", "/")
    assert response.status_code == 405


def test_healthz_reports_database_and_cache(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_spoofed_forwarded_for_does_not_change_client_ip(rf, settings):
    from portal.net import client_ip

    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_ip(request) == "10.0.0.5"
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert client_ip(request) == "203.0.113.9"
