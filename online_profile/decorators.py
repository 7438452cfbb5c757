"""Guards for signed-in profile pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from security.sessions import password_recently_verified

View = Callable[..., HttpResponse]


def reauth_required(view: View) -> View:
    """Signed in, and the password entered within portal.reauth_seconds (ASVS 7.5.1).

    Otherwise the customer is sent to accounts:reauth, which returns to this page afterwards.
    Applies to showing the page as well as to submitting it, so nobody fills in a form only to
    be stopped at the end.
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not password_recently_verified(request):
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('profile:reauth')}?{query}")
        return view(request, *args, **kwargs)

    return login_required(guarded)
