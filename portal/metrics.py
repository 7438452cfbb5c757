"""The Prometheus endpoint and the request latency histogram.

`/metrics` answers only a client on a configured network (PORTAL_METRICS_NETWORKS; loopback by
default) or one presenting PORTAL_METRICS_TOKEN as a bearer token; anyone else gets the portal's
404, so its existence is not advertised. Under gunicorn's several worker processes (and beside
the message worker) the counters are shared through PROMETHEUS_MULTIPROC_DIR, which
`portal.serve` sets up; one scrape then sees every process.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Callable, Iterator

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    Metric,
    generate_latest,
    multiprocess,
)

from portal.conf import portal
from security.metrics import OutgoingMessagesCollector

REQUEST_SECONDS = Histogram(
    "portal_request_duration_seconds",
    "Time to answer a request, by view and status class",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        # The view's name, never the path: paths carry ids and tokens, and would be unbounded.
        view = match.view_name if match is not None else "unmatched"
        REQUEST_SECONDS.labels(
            view=view, method=request.method, status=f"{response.status_code // 100}xx"
        ).observe(time.perf_counter() - started)
        return response


def _allowed(request: HttpRequest) -> bool:
    token = portal.metrics_token
    if token:
        offered = request.headers.get("Authorization", "")
        if hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
            return True
    client = getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR", "")
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in network for network in portal.metrics_networks)


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_ProcessMetrics())
    registry.register(OutgoingMessagesCollector())
    return registry


class _ProcessMetrics:
    """This process's own metrics (one process: no multiprocess directory)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        raise Http404
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
