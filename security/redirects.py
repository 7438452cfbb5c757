"""Where a page may send the customer next: the one check of a `next` parameter."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_next_url(request: HttpRequest, candidate: str | None) -> str:
    """The path of `candidate` on this site, or "" when it cannot be used as a redirect target.

    Accepted: a path such as "/my/vehicles/?sort=year", or a full https URL of this very host
    (request.get_host()), which is returned as its path and query only.

    Refused: anything that leaves the site or https ("//evil.example", "https://evil.example/",
    "http://...", "javascript:..."); control characters (a line break would end the Location
    header); and anything that is not a path from the root, such as "abc", which a browser
    would resolve against the current page and redirect() would first try as a URL name.
    Callers fall back to their own default page on "".
    """
    if (
        not candidate
        or _CONTROL.search(candidate)
        or not url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=True
        )
    ):
        return ""
    parts = urlsplit(candidate)
    path = parts.path
    # "//host" and "/\host" are read by browsers as another host, so a path must start with one
    # "/" followed by something else (url_has_allowed_host_and_scheme refuses them too).
    if not path.startswith("/") or path.startswith(("//", "/\\")):
        return ""
    return path + (f"?{parts.query}" if parts.query else "")
