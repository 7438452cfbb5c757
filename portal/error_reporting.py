"""Optional error reporting to Sentry (SENTRY_DSN), with personal data removed before sending.

Only the error itself leaves the portal: its type, message and stack (without local variables),
the view and the request id. Cookies, headers, query strings, form data, the user's identity and
any URL token are removed by `scrub` before an event is sent, whatever the SDK collected.
"""

from __future__ import annotations

from typing import Any

from portal.log_redaction import redact_tokens
from portal.request_log import current_request, request_id_of

# Headers worth keeping to understand an error; everything else (Cookie, Authorization, ...) goes.
_SAFE_HEADERS = {"user-agent", "x-request-id", "accept-language", "content-type"}


def scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's before_send: the event without personal data."""
    # What the SDK collected about the request is replaced by what we choose to tell.
    event.pop("request", None)
    request = current_request()
    if request is not None:
        event["request"] = {
            "method": request.method,
            "url": redact_tokens(request.path),  # no query string: it may carry an address
            "headers": {k: v for k, v in request.headers.items() if k.lower() in _SAFE_HEADERS},
        }
        event.setdefault("tags", {})["request_id"] = request_id_of(request)
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    event.pop("extra", None)
    for entry in (event.get("exception") or {}).get("values", []):
        if "value" in entry:
            entry["value"] = redact_tokens(str(entry["value"]))
        for frame in (entry.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    # Only log lines (already free of secrets and tokens) go along as breadcrumbs: the SDK's
    # others record database queries and cache commands, whose keys include session keys.
    kept = [
        {
            "type": "log",
            "category": crumb.get("category"),
            "level": crumb.get("level"),
            "timestamp": crumb.get("timestamp"),
            "message": redact_tokens(str(crumb.get("message", ""))),
        }
        for crumb in (event.get("breadcrumbs") or {}).get("values", [])
        if crumb.get("type") == "log"
    ]
    if "breadcrumbs" in event:
        event["breadcrumbs"] = {"values": kept}
    if "message" in event:
        event["message"] = redact_tokens(str(event["message"]))
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        logentry["message"] = redact_tokens(str(logentry.get("message", "")))
        logentry.pop("params", None)
    return event


def error_reporting_start(dsn: str, *, environment: str, release: str) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration()],
        # No personal data is collected by default (send_default_pii stays off).
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        before_send=scrub,  # type: ignore[arg-type]
    )
