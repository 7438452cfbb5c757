"""No secret from a URL reaches a log line."""

from __future__ import annotations

import logging

from django.test import Client

from portal.log_redaction import redact_tokens
from security.notifications import not_me_token_create


def test_a_csrf_failure_on_a_not_me_link_logs_the_path_without_its_token(make_user, caplog):
    token = not_me_token_create(user=make_user())
    browser = Client(enforce_csrf_checks=True)
    with caplog.at_level(logging.INFO):
        response = browser.post(f"/not-me/{token}/", secure=True)
    assert response.status_code == 403
    warnings = [r.getMessage() for r in caplog.records if r.name == "django.security.csrf"]
    assert warnings, "Django logs a CSRF failure"
    assert all("/not-me/[redacted]/" in line for line in warnings)
    assert not any(token in r.getMessage() for r in caplog.records)


def test_a_not_found_not_me_link_is_logged_without_its_token(client, caplog):
    token = "Zk3_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    with caplog.at_level(logging.INFO):
        client.get(f"/not-me/{token}/extra/")
    assert caplog.records
    assert not any(token in r.getMessage() for r in caplog.records)


def test_readable_paths_are_logged_as_they_are():
    for path in (
        "/my/profile/electronic-communications/",
        "/my/profile/challenge-questions/",
        "/forgot-password/code/resend/",
        "/my/profile/devices/12345/remove/",
    ):
        assert redact_tokens(f"Not Found: {path}") == f"Not Found: {path}"
    assert redact_tokens("Forbidden (x): /not-me/AbCdEfGh_1234567890xyz/") == (
        "Forbidden (x): /not-me/[redacted]/"
    )
