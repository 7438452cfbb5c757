"""Project-wide middleware: client IP, session time limits, no-store for signed-in pages."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils.cache import patch_cache_control

from portal.conf import portal
from portal.net import client_ip

Handler = Callable[[HttpRequest], HttpResponse]

SIGNED_IN_AT = "portal:signed_in_at"
LAST_SEEN_AT = "portal:last_seen_at"
# Recording activity at most once a minute keeps plain page views from writing the session.
_SEEN_RESOLUTION = 60


class RefuseTraceMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in {"TRACE", "TRACK", "CONNECT"}:
            return HttpResponseNotAllowed(["GET", "POST", "HEAD"])
        return self.get_response(request)


class ClientIPMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.client_ip = client_ip(request)  # type: ignore[attr-defined]
        return self.get_response(request)


def mark_session_start(sender: object, request: HttpRequest, **kwargs: object) -> None:
    """At login (signal user_logged_in): start both clocks in the session being saved anyway,
    so the first signed-in page does not write the session again."""
    now = int(time.time())
    request.session[SIGNED_IN_AT] = request.session[LAST_SEEN_AT] = now


class SessionTimeoutMiddleware:
    """Ends a signed-in session after the idle limit and after the absolute limit: customers'
    and staff's alike (a staff session ends back at the support console's login)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            signed_in_at = session.get(SIGNED_IN_AT)
            last_seen_at = session.get(LAST_SEEN_AT, signed_in_at)
            if signed_in_at is None:
                session[SIGNED_IN_AT] = session[LAST_SEEN_AT] = now
            elif (
                now - int(last_seen_at) > portal.session_idle_seconds
                or now - int(signed_in_at) > portal.session_max_seconds
            ):
                auth.logout(request)
                if request.path.startswith("/" + portal.admin_path):
                    return redirect("admin:login")
                messages.info(
                    request, "For your security, you were logged out. Please log in again."
                )
                return redirect("signin:login")
            elif now - int(last_seen_at) >= _SEEN_RESOLUTION:
                session[LAST_SEEN_AT] = now
        return self.get_response(request)


class NoStoreWhenSignedInMiddleware:
    """Signed-in pages (and any page carrying a sign-in in progress) are never cached."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or getattr(request, "no_store", False):
            patch_cache_control(response, no_store=True, private=True)
        return response


class LimitStoreOutageMiddleware:
    """A refusal made because the rate-limit store (Redis) could not be reached is shown as a
    temporary outage (503), not as the customer's "too many attempts" (429). The attempt stays
    refused either way: the limits fail closed."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 429 and getattr(request, "limit_store_down", False):
            from portal.views import service_unavailable

            return service_unavailable(request)
        return response
