"""Per-client-IP rate limits on the shared cache (Redis in production), failing closed."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited

logger = logging.getLogger(__name__)


def ip_limit_reached(request: HttpRequest, group: str, rate: str, *, count: bool = True) -> bool:
    """True when this client IP has used up `rate` for `group` (and counts this attempt).

    If the cache cannot be reached the answer is True: a limit that silently stops limiting is
    worse than a clear "try again later". The request is marked so that the refusal page says
    the service is temporarily unavailable (503) rather than blaming the customer.
    """
    try:
        return bool(
            is_ratelimited(
                request,
                group=group,
                key="ip",
                rate=rate,
                method=is_ratelimited.ALL,
                increment=count,
            )
        )
    except Exception:  # any cache failure: fail closed
        logger.warning("rate limit store unavailable for %s; refusing the attempt", group)
        request.limit_store_down = True  # type: ignore[attr-defined]
        return True


def too_many_attempts(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The page for a refused attempt (also django-ratelimit's RATELIMIT_VIEW)."""
    return render(request, "security/too_many_attempts.html", status=429)
