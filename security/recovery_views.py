"""Account recovery pages and the "This wasn't me" confirmation. Thin: forms validate, the flows
in security.flows act."""

from __future__ import annotations

from django.contrib import auth
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from portal.conf import portal
from security.flows.not_me import not_me_report, not_me_token_check
from security.ratelimits import ip_limit_reached

_NOT_ME_INVALID_STATUS = {"invalid": 404, "expired": 410, "used": 410}


def _too_many_attempts(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/too_many_attempts.html", status=429)


def _private(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Recovery pages are never cached, and a page whose URL holds a token never sends it on
    as a Referer."""
    request.no_store = True  # type: ignore[attr-defined]
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_http_methods(["GET", "POST"])
def not_me(request: HttpRequest, token: str) -> HttpResponse:
    """GET only shows what the link will do (mail scanners prefetch links); POST acts, once."""
    if request.method == "POST":
        if ip_limit_reached(request, "recovery-not-me", portal.login_ip_rate):
            return _too_many_attempts(request)
        result = not_me_report(token=token, request=request)
        if result.status == "done":
            if result.token is not None and request.user.pk == result.token.user_id:
                auth.logout(request)
            return _private(request, render(request, "security/recovery/not_me_done.html"))
    else:
        result = not_me_token_check(token=token)
        if result.status == "valid":
            return _private(request, render(request, "security/recovery/not_me_confirm.html"))
    return _private(
        request,
        render(
            request,
            "security/recovery/not_me_invalid.html",
            {"status": result.status},
            status=_NOT_ME_INVALID_STATUS.get(result.status, 404),
        ),
    )
