"""The client's IP address, taken from the connection unless trusted proxies are configured."""

from __future__ import annotations

import ipaddress

from django.http import HttpRequest

from portal.conf import portal


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or with N trusted proxies the N-th address from the right of X-Forwarded-For.

    Only addresses our own proxies appended are trusted: a client can prepend anything it likes
    to X-Forwarded-For, so counting from the left would let it choose its own IP.
    """
    # "0.0.0.0" here is a value for a missing address, not an address to bind to.
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104  # nosec B104
    hops = portal.trusted_proxy_count
    if hops:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                return remote
    return remote


def client_ip_for_ratelimit(request: HttpRequest) -> str:
    return getattr(request, "client_ip", None) or client_ip(request)
