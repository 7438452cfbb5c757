"""Pages anyone can see, the health check, and the project's error pages."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime, time, timedelta

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from portal.conf import portal
from portal.context_processors import lender
from portal.help import search_faq
from portal.request_log import request_id_of
from security.lockout import LockNotice

logger = logging.getLogger(__name__)

# An unreachable Redis (django-redis wraps some of its errors) or a database that is restarting
# or refusing connections: outages to explain, not bugs. Django rolls the request's
# transactions back, so nothing half-done is kept.
STORE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    ConnectionInterrupted,
    RedisConnectionError,
    RedisTimeoutError,
    OperationalError,
    InterfaceError,
)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@require_safe
def help_center(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    sections = search_faq(query)
    return render(
        request,
        "portal/help_center.html",
        {
            "query": query,
            "sections": sections,
            "match_count": sum(len(section.faqs) for section in sections),
        },
    )


@require_safe
def security_center(request: HttpRequest) -> HttpResponse:
    return render(
        request, "portal/security_center.html", {"password_min": portal.password_min_length}
    )


@require_safe
def contact(request: HttpRequest) -> HttpResponse:
    # A lock in general: how long it lasts (PORTAL_LOCKOUT_SECONDS) and what to do.
    return render(request, "portal/contact.html", {"lock": LockNotice()})


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """For the load balancer: 200 when the database and the cache both answer, else 503."""
    checks = {"database": "ok", "cache": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        logger.exception("health check: database unavailable")
        checks["database"] = "unavailable"
    try:
        cache.set("healthz", "1", 5)
        if cache.get("healthz") != "1":
            raise RuntimeError("cache did not return what was stored")
    except Exception:
        logger.exception("health check: cache unavailable")
        checks["cache"] = "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )


@require_safe
def security_txt(request: HttpRequest) -> HttpResponse:
    """RFC 9116: where to report a vulnerability, and until when this file may be trusted."""
    expires = portal.security_txt_expires
    if expires is None:
        expires_at = timezone.now() + timedelta(days=180)
    else:
        expires_at = datetime.combine(expires, time(23, 59, 59), tzinfo=UTC)
    lines = [
        f"Contact: {portal.security_contact}",
        f"Expires: {expires_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"Canonical: {request.build_absolute_uri()}",
        f"Policy: {request.build_absolute_uri(reverse('security_center'))}",
        "Preferred-Languages: en",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


@require_safe
def change_password(request: HttpRequest) -> HttpResponse:
    """Where password managers send a customer to change a password (W3C well-known URL)."""
    return redirect("profile:password")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "portal/csrf_failure.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "portal/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its exception handler, so the cause is at hand.
    if isinstance(sys.exc_info()[1], STORE_UNAVAILABLE):
        return service_unavailable(request)
    return render(request, "portal/500.html", status=500)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """503 without touching the session or the cache (either may be what is down)."""
    context = {
        **lender(request),
        "user": AnonymousUser(),
        "messages": [],
        "reference": request_id_of(request),
    }
    html = render_to_string("portal/503.html", context)
    return HttpResponse(html, status=503, headers={"Retry-After": "30"})
