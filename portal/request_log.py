"""One JSON object per log line, each tied to the request it came from.

`RequestIdMiddleware` (first in MIDDLEWARE) takes the request id nginx sends in `X-Request-ID`
(or makes one), returns it in the response's `X-Request-ID` and shows it on the error pages, so
a customer can quote it to support and an operator can find every line of that request. While
the request runs, the request is kept in a context variable, and `JsonFormatter` adds its id,
client IP, path (tokens removed) and, once the customer is known, user id to every record.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse

from portal.log_redaction import redact_tokens

REQUEST_ID_HEADER = "X-Request-ID"
# What we accept from the proxy: an id, not free text that could forge log lines.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)


def request_id_of(request: HttpRequest) -> str:
    return str(getattr(request, "request_id", ""))


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # META, not request.headers: that builds a dict of every header, on every request.
        offered = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = offered if _VALID_REQUEST_ID.match(offered) else uuid.uuid4().hex  # type: ignore[attr-defined]
        # Kept until the response is closed (request_finished), not only until the middleware
        # returns: Django logs "Not Found" and server errors after the middleware chain.
        _current_request.set(request)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id  # type: ignore[attr-defined]
        return response


def current_request() -> HttpRequest | None:
    """The request this thread is answering, if any."""
    return _current_request.get()


def request_forget(**kwargs: object) -> None:
    """Connected to request_finished: lines after the response are not the request's."""
    _current_request.set(None)


def _user_id(request: HttpRequest) -> int | None:
    # Only a user the request has already loaded: logging must never query the database.
    user = request.__dict__.get("_cached_user")
    return user.pk if user is not None and user.is_authenticated else None


class JsonFormatter(logging.Formatter):
    """timestamp, level, logger, message and, inside a request, request_id, client_ip, path and
    user_id. Messages already had URL tokens removed (portal.log_redaction)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request = _current_request.get()
        if request is not None:
            entry["request_id"] = request_id_of(request)
            entry["client_ip"] = getattr(request, "client_ip", None) or request.META.get(
                "REMOTE_ADDR"
            )
            entry["method"] = request.method
            entry["path"] = redact_tokens(request.path)
            user_id = _user_id(request)
            if user_id is not None:
                entry["user_id"] = user_id
        if record.exc_info:
            entry["exception"] = redact_tokens(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)
