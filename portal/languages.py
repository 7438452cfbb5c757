"""The customer's language: English or Spanish.

A first visit follows the browser's Accept-Language (Django's LocaleMiddleware). The English |
Español switch on every page (a form, no JavaScript) keeps the choice in a cookie and, for a
signed-in customer, on their record, which then wins on every device and decides the language
of their emails and text messages. The support console stays in English.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_POST

from portal.conf import portal
from security.redirects import safe_next_url

LANGUAGE_CODES = frozenset(code for code, _ in settings.LANGUAGES)

# PORTAL_SUPPORT_HOURS's default (portal/settings.py), here so the catalogue has it and Spanish
# pages show it in Spanish; hours a lender sets itself are shown as it wrote them.
gettext_noop("Monday to Friday 8 a.m. to 9 p.m., Saturday 9 a.m. to 5 p.m. ET")


def support_hours() -> str:
    """The support hours in the active language, when the catalogue has them."""
    hours = portal.support_hours
    return gettext(hours) if hours else hours  # gettext("") is the catalogue's header


def language_cookie_set(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path="/",
        secure=True,
        httponly=True,
        samesite="Lax",
    )


class CustomerLanguageMiddleware:
    """After authentication: a signed-in customer's recorded language, English for staff pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/" + portal.admin_path):
            language = "en"
        else:
            user = request.user
            language = (
                user.language
                if user.is_authenticated and not user.is_staff and user.language in LANGUAGE_CODES
                else request.LANGUAGE_CODE
            )
        if language != translation.get_language():
            translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """English | Español: back to the page the customer was on, in the language they chose."""
    language = request.POST.get("language", "")
    # The footer's switch sends the page in its form's address (?next=), a script may post it.
    next_url = (
        safe_next_url(request, request.POST.get("next") or request.GET.get("next", "")) or "/"
    )
    response = HttpResponseRedirect(next_url)
    if language not in LANGUAGE_CODES:
        return response
    language_cookie_set(response, language)
    user = request.user
    if user.is_authenticated and not user.is_staff and user.language != language:
        get_user_model().objects.filter(pk=user.pk).update(language=language)
    return response
