"""A small closed-loop HTTPS load generator for the portal's real flows.

Each virtual user keeps one TLS connection alive (as a browser does) and its own cookies, reads
CSRF tokens from the pages it gets, and repeats a flow (a function of steps) for a fixed time
after a warm-up. It records the latency of every named step and counts completed flows.
"""

from __future__ import annotations

import http.client
import re
import ssl
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36"


class FlowError(Exception):
    pass


class Exhausted(FlowError):
    """The flow has no more data to work with (e.g. customers left to enroll): stop this user."""


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def csrf(self) -> str:
        match = CSRF.search(self.body)
        if not match:
            raise FlowError("no CSRF token on the page")
        return match.group(1).decode()


@dataclass
class Recorder:
    measuring: bool = False
    steps: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    flows: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, exc: Exception) -> None:
        with self.lock:
            self.errors += 1
            if len(self.error_samples) < 3:
                self.error_samples.append(f"{type(exc).__name__}: {exc}"[:200])

    def step(self, name: str, seconds: float) -> None:
        if self.measuring:
            with self.lock:
                self.steps[name].append(seconds)


class Browser:
    """One virtual user: a kept-alive TLS connection and a cookie jar."""

    def __init__(self, base_url: str, recorder: Recorder, cookies: dict[str, str] | None = None):
        parts = urlsplit(base_url)
        self.base = base_url.rstrip("/")
        self.host, self.port = parts.hostname or "localhost", parts.port or 443
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE  # the bench's own self-signed certificate
        self.cookies: dict[str, str] = dict(cookies or {})
        self.recorder = recorder
        self.conn: http.client.HTTPSConnection | None = None

    def _connection(self) -> http.client.HTTPSConnection:
        if self.conn is None:
            self.conn = http.client.HTTPSConnection(
                self.host, self.port, context=self.context, timeout=30
            )
        return self.conn

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        *,
        step: str = "",
        expect_ok: bool = True,
    ) -> Response:
        headers = {"Host": f"localhost:{self.port}", "User-Agent": USER_AGENT}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.base
            headers["Referer"] = self.base + path
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                conn = self._connection()
                conn.request(method, path, body=body, headers=headers)
                raw = conn.getresponse()
                data = raw.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed a kept-alive connection (worker recycled): reconnect once.
                self.close()
                if attempt == 2:
                    raise
        if step:
            self.recorder.step(step, time.perf_counter() - started)
        for header in raw.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if raw.status >= 500 and expect_ok:
            raise FlowError(f"{method} {path} answered {raw.status}")
        return Response(raw.status, raw.headers, data)

    def get(self, path: str, *, step: str = "") -> Response:
        return self.request("GET", path, step=step)

    def post(self, path: str, form: dict[str, str], *, step: str = "") -> Response:
        return self.request("POST", path, form, step=step)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


Flow = Callable[[Browser, int], None]
CpuProbe = Callable[[], float]


class CpuWindow:
    """CPU seconds spent by the server (through `server_cpu`) and by this load generator over
    the measured window: what a flow costs besides the hash, and what the load generator takes
    from the same two cores."""

    def __init__(self, server_cpu: CpuProbe | None) -> None:
        self.server_cpu = server_cpu
        self.start_server = server_cpu() if server_cpu else 0.0
        self.start_own = time.process_time()

    def result(self, flows: int) -> dict[str, float]:
        own = time.process_time() - self.start_own
        out = {"loadgen_cpu_ms_per_flow": round(own * 1000 / flows, 2) if flows else 0.0}
        if self.server_cpu:
            server = self.server_cpu() - self.start_server
            out["server_cpu_ms_per_flow"] = round(server * 1000 / flows, 2) if flows else 0.0
        return out


def run_closed_loop(
    *,
    base_url: str,
    flow: Flow,
    users: int,
    warmup: float,
    duration: float,
    browser_factory: Callable[[int, Recorder], Browser] | None = None,
    min_flows: int = 0,
    max_extra: float = 60.0,
    server_cpu: CpuProbe | None = None,
) -> dict[str, Any]:
    """`users` threads each repeat `flow` back to back; measures only after the warm-up."""
    recorder = Recorder()
    stop = threading.Event()

    def user(index: int) -> None:
        browser = (
            browser_factory(index, recorder) if browser_factory else Browser(base_url, recorder)
        )
        iteration = 0
        while not stop.is_set():
            try:
                flow(browser, index * 1_000_000 + iteration)
                if recorder.measuring:
                    with recorder.lock:
                        recorder.flows += 1
            except Exhausted:
                browser.close()
                return  # no data left for this user: not an error of the portal
            except Exception as exc:
                if recorder.measuring:
                    recorder.error(exc)
                browser.close()
            iteration += 1
        browser.close()

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    recorder.measuring = True
    cpu = CpuWindow(server_cpu)
    started = time.perf_counter()
    time.sleep(duration)
    # A smoke run on a busy machine may not finish one slow flow in its short window: keep
    # measuring (bounded) until it has, so "no flows" always means "broken", never "slow".
    deadline = time.perf_counter() + max_extra
    while recorder.flows < min_flows and time.perf_counter() < deadline:
        time.sleep(0.1)
    recorder.measuring = False
    elapsed = time.perf_counter() - started
    spent = cpu.result(recorder.flows)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    return {**summarize(recorder, elapsed), **spent}


def run_open_loop(
    *,
    base_url: str,
    flow: Flow,
    rate: float,
    users: int,
    duration: float,
    browser_factory=None,
    server_cpu: CpuProbe | None = None,
) -> dict[str, Any]:
    """Paced load: `users` threads together start `rate` flows per second (no warm-up here)."""
    recorder = Recorder(measuring=True)
    interval = users / rate

    def user(index: int) -> None:
        browser = (
            browser_factory(index, recorder) if browser_factory else Browser(base_url, recorder)
        )
        next_at = time.perf_counter() + interval * index / users
        end = time.perf_counter() + duration
        iteration = 0
        while next_at < end:
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                flow(browser, index * 1_000_000 + iteration)
                with recorder.lock:
                    recorder.flows += 1
            except Exception as exc:
                recorder.error(exc)
                browser.close()
            iteration += 1
            next_at += interval
        browser.close()

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    cpu = CpuWindow(server_cpu)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 60)
    elapsed = time.perf_counter() - started
    return {**summarize(recorder, elapsed), **cpu.result(recorder.flows)}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def summarize(recorder: Recorder, elapsed: float) -> dict[str, Any]:
    steps = {
        name: {
            "count": len(values),
            "p50_ms": round(statistics.median(values) * 1000, 1),
            "p90_ms": round(percentile(values, 0.90) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1),
        }
        for name, values in recorder.steps.items()
        if values
    }
    return {
        "flows": recorder.flows,
        "errors": recorder.errors,
        "error_samples": recorder.error_samples,
        "seconds": round(elapsed, 2),
        "flows_per_s": round(recorder.flows / elapsed, 2) if elapsed else 0.0,
        "steps": steps,
    }
