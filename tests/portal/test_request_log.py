"""Log lines are JSON tied to their request; the request id reaches the customer and nginx."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from django.test import Client

from portal.request_log import JsonFormatter
from security.notifications import not_me_token_create

pytestmark = pytest.mark.django_db

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the portal's console handler would print, captured (one JSON object per line)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def parsed(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_every_response_carries_a_new_request_id(client):
    first = client.get("/")["X-Request-ID"]
    second = client.get("/")["X-Request-ID"]
    assert HEX_ID.match(first) and HEX_ID.match(second)
    assert first != second


def test_the_proxys_request_id_is_kept(client):
    response = client.get("/", headers={"X-Request-ID": "3f2a9c1e-nginx-77"})
    assert response["X-Request-ID"] == "3f2a9c1e-nginx-77"


@pytest.mark.parametrize("offered", ["short", "two words here", "id\nforged line", "x" * 65])
def test_a_request_id_that_is_not_an_id_is_replaced(client, offered):
    assert HEX_ID.match(client.get("/", headers={"X-Request-ID": offered})["X-Request-ID"])


def test_a_log_line_inside_a_request_is_json_with_its_request(client, json_lines):
    response = client.get("/no-such-page/", headers={"X-Request-ID": "req-404-abcdef"})

    assert response.status_code == 404
    lines = [line for line in parsed(json_lines) if line["logger"] == "django.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["level"] == "WARNING"
    assert line["message"] == "Not Found: /no-such-page/"
    assert line["request_id"] == "req-404-abcdef"
    assert line["client_ip"] == "127.0.0.1"
    assert line["path"] == "/no-such-page/"
    assert "user_id" not in line
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$", line["timestamp"])


def test_a_signed_in_customers_lines_carry_their_user_id(client, make_user, json_lines):
    user = make_user()
    client.force_login(user)

    client.get("/my/no-such-page/")

    line = next(line for line in parsed(json_lines) if line["logger"] == "django.request")
    assert line["user_id"] == user.pk


def test_a_token_in_the_path_is_removed_from_the_json_line(make_user, json_lines):
    token = not_me_token_create(user=make_user())
    Client(enforce_csrf_checks=True).post(f"/not-me/{token}/", secure=True)

    text = json_lines.getvalue()
    assert text, "the CSRF failure was logged"
    assert token not in text
    line = next(line for line in parsed(json_lines) if line["logger"] == "django.security.csrf")
    assert line["path"] == "/not-me/[redacted]/"


def test_the_error_pages_show_the_reference_to_quote(client):
    response = client.get("/no-such-page/", headers={"X-Request-ID": "req-for-support-1"})
    assert "please quote reference <code>req-for-support-1</code>" in response.content.decode()


def test_the_server_error_and_outage_pages_show_the_reference(rf):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage

    from portal import views

    request = rf.get("/")
    request.request_id = "req-500-abcdef"
    request.user = AnonymousUser()
    request.session = {}
    request._messages = FallbackStorage(request)
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = views.server_error(request)
    assert response.status_code == 500
    assert "<code>req-500-abcdef</code>" in response.content.decode()

    outage = views.service_unavailable(request)
    assert outage.status_code == 503
    assert "<code>req-500-abcdef</code>" in outage.content.decode()


def test_a_line_after_the_response_belongs_to_no_request(client, json_lines):
    client.get("/")
    logging.getLogger("portal.test").warning("between requests")

    line = parsed(json_lines)[-1]
    assert line["message"] == "between requests"
    assert "request_id" not in line and "path" not in line
