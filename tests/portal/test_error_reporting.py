"""Errors reported to Sentry carry no personal data: no cookie, form field, query, token or
identity of the customer beyond an id."""

from __future__ import annotations

import json

import pytest
import sentry_sdk
from django.test import Client
from django.urls import path
from sentry_sdk.transport import Transport

from portal.error_reporting import scrub

pytestmark = pytest.mark.django_db

PASSWORD = " ".join(["velvet", "canyon", "mortar", "lantern", "58"])
# Built at run time: the reported stack carries source lines, and this file's must not hold it.
TOKEN = "Zk3_" + "a1B2c3D4" * 3


def broken_view(request, token):
    secret_local = PASSWORD  # noqa: F841 - a local variable must not travel with the stack
    raise RuntimeError(f"could not finish /not-me/{token}/")


urlpatterns = [path("not-me/<str:token>/boom/", broken_view)]


class CapturingTransport(Transport):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def capture_envelope(self, envelope) -> None:
        for item in envelope.items:
            self.sent.append(item.payload.get_bytes().decode())


@pytest.fixture
def reported(settings):
    settings.ROOT_URLCONF = __name__
    transport = CapturingTransport()
    sentry_sdk.init(
        dsn="https://public@errors.example/1",
        transport=transport,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub,
    )
    yield transport.sent
    sentry_sdk.get_client().close()
    sentry_sdk.init(dsn=None)


def test_a_server_error_is_reported_without_personal_data(reported, make_user, settings):
    user = make_user()
    browser = Client(raise_request_exception=False)
    browser.force_login(user)
    browser.cookies["portal_device"] = "device-secret-value"

    response = browser.post(
        f"/not-me/{TOKEN}/boom/?email=dana%40example.com",
        {"password": PASSWORD, "tin_last4": "8642"},
        secure=True,
        headers={"Authorization": "Bearer metrics-secret", "X-Request-ID": "req-sentry-1234"},
    )
    sentry_sdk.flush()

    assert response.status_code == 500
    assert len(reported) == 1
    payload = reported[0]
    event = json.loads(payload)
    assert event["exception"]["values"][0]["type"] == "RuntimeError"
    assert event["request"]["url"].endswith("/not-me/[redacted]/boom/")
    assert event["tags"]["request_id"] == "req-sentry-1234"
    assert set(event["request"]["headers"]) <= {"User-Agent", "X-Request-Id", "Content-Type"}
    for secret in (
        PASSWORD,
        TOKEN,
        "8642",
        "dana@example.com",
        "dana%40example.com",
        "device-secret-value",
        "metrics-secret",
        user.username,
        user.email,
        browser.cookies[settings.SESSION_COOKIE_NAME].value,
    ):
        assert secret not in payload, secret


def test_scrub_keeps_only_the_user_id():
    event = {"user": {"id": 7, "username": "dana.r", "email": "d@example.com", "ip_address": "1"}}
    assert scrub(event)["user"] == {"id": 7}
