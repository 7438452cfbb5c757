"""`make run`'s server: gunicorn over TLS, in the foreground.

Validates the configuration first (one line naming the variable on a problem), generates a
self-signed certificate for localhost on first run unless TLS_CERT_FILE/TLS_KEY_FILE are given,
prints how to try the portal, then hands over to gunicorn.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _demo_customer(path: Path) -> str:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            row = next(csv.DictReader(handle))
    except (OSError, StopIteration, csv.Error):
        return ""
    year, month, day = row["birth_date"].split("-")
    return (
        f"  Demo customer to enroll with: {row['first_name']} {row['last_name']}\n"
        f"    Last 4 digits of SSN or TIN: {row['tin_last4']}\n"
        f"    Date of birth: {month}/{day}/{year}\n"
        f"    Account number or VIN: {row['account_number']}\n"
    )


# The gunicorn configuration file operators run (`gunicorn -c deploy/gunicorn.conf.py`) and
# main() hands to gunicorn, so `make run`, the systemd unit and the scale test serve alike.
GUNICORN_CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"

# The access log line: who, nginx's request id, the path without its query string (tokens in it
# redacted by portal.access_log), status, bytes and milliseconds. No referrer: a page's full
# address, which can carry a token, is what it holds.
ACCESS_LOG_FORMAT = '%(h)s %({x-request-id}i)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'


@dataclass(frozen=True)
class ServerOptions:
    port: int
    host: str
    workers: int
    threads: int
    tls: tuple[Path, Path] | None
    metrics_dir: Path


def server_options() -> ServerOptions:
    """The server's environment (PORT, HOST, WEB_CONCURRENCY, WEB_THREADS, PORTAL_SERVE_TLS,
    TLS_CERT_FILE, TLS_KEY_FILE), validated; ConfigError names the first bad variable."""
    from portal import env, settings

    port = env.integer("PORT", 8443, minimum=1, maximum=65535)
    host = env.text("HOST") or "127.0.0.1"
    # One process shares the process-local cache; with Redis, several can share it.
    workers = env.integer("WEB_CONCURRENCY", 2 if settings.REDIS_URL else 1, minimum=1)
    threads = env.integer("WEB_THREADS", 4, minimum=1, maximum=64)
    if workers > 1 and not settings.REDIS_URL:
        raise env.ConfigError("WEB_CONCURRENCY", "above 1 needs REDIS_URL (shared rate limits)")
    # Behind a TLS-terminating proxy (see deploy/) the instances speak plain HTTP on loopback.
    serve_tls = env.boolean("PORTAL_SERVE_TLS", default=True)
    if not serve_tls and not settings.PORTAL_TRUSTED_PROXY_COUNT:
        raise env.ConfigError("PORTAL_SERVE_TLS", "off needs TRUSTED_PROXY_COUNT (the TLS proxy)")
    cert_file, key_file = env.text("TLS_CERT_FILE"), env.text("TLS_KEY_FILE")
    if bool(cert_file) != bool(key_file):
        raise env.ConfigError("TLS_CERT_FILE", "and TLS_KEY_FILE must be set together")
    tls: tuple[Path, Path] | None = None
    if cert_file:
        tls = Path(cert_file), Path(key_file)
    elif serve_tls:
        from portal.tls import ensure_localhost_certificate

        tls = ensure_localhost_certificate(settings.VAR_DIR / "tls")
    # The instance's worker processes share their counters here (prometheus_client's
    # multiprocess mode), so one scrape of /metrics sees every process of the instance.
    metrics_dir = Path(
        os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.VAR_DIR / "metrics" / f"web-{port}"
    )
    return ServerOptions(
        port=port, host=host, workers=workers, threads=threads, tls=tls, metrics_dir=metrics_dir
    )


def metrics_dir_prepare(path: Path) -> None:
    """Before the workers start: an empty counter directory, named in the environment they
    inherit (counters of an earlier run of the instance must not add up with this one's)."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


@dataclass(frozen=True)
class MetricsDirPrepare:
    """gunicorn's on_starting hook (a value, so two settings built alike compare equal)."""

    path: Path

    def __call__(self, server: object) -> None:
        metrics_dir_prepare(self.path)


def _child_exit(server: object, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def gunicorn_settings(options: ServerOptions) -> dict[str, object]:
    """gunicorn's settings by name, as its configuration file sets them."""
    tls = {"certfile": str(options.tls[0]), "keyfile": str(options.tls[1])} if options.tls else {}
    return {
        "wsgi_app": "portal.wsgi:application",
        "bind": [f"{options.host}:{options.port}"],
        **tls,
        "workers": options.workers,
        # gthread unless one thread is asked for (WEB_THREADS=1: the sync worker, for comparison).
        "worker_class": "gthread" if options.threads > 1 else "sync",
        # Threads keep TLS connections alive between requests; sync workers would pay a new
        # handshake on every request (a Django login flow measured on 2 cores: 28.6 -> 18.9
        # flows/s).
        "threads": options.threads,
        "keepalive": 30,
        "max_requests": 20000,
        "max_requests_jitter": 2000,
        "graceful_timeout": 20,
        "forwarded_allow_ips": "127.0.0.1",
        "errorlog": "-",
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "logger_class": "portal.access_log.RedactingLogger",
        "control_socket_disable": True,
        "on_starting": MetricsDirPrepare(options.metrics_dir),
        "child_exit": _child_exit,
    }


# glibc's malloc settings for the server's processes (gunicorn's workers inherit them). glibc
# reads them at process start, hence the re-exec in main(); a value already set is kept.
MALLOC_ENVIRONMENT = {
    # glibc gives threads malloc arenas of their own; two bound what the worker's threads keep.
    "MALLOC_ARENA_MAX": "2",
    # Argon2 allocates a 19 MiB block per hash. glibc mmaps a block that large, but on its free
    # raises its dynamic mmap threshold above it, so later blocks come from the arenas, whose free
    # space other allocations then split: each worker kept 3-4 freed blocks (peak RSS 142 MB in
    # the benchmark). A fixed threshold (here glibc's initial one) turns the dynamic one off: each
    # block is mapped for its hash and unmapped after it (peak 85 MB; 99 MB once zxcvbn is used),
    # at the cost of faulting its pages in anew each time (~15 ms of system CPU per hash here).
    "MALLOC_MMAP_THRESHOLD_": str(128 * 1024),
    # ...which transparent huge pages (where the kernel offers them, as madvise) make ~2 MiB at a
    # time instead of 4 KiB: server CPU per login flow 94 -> 81 ms, peak unchanged (bench, one
    # run each). Without THP the setting does nothing.
    "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1",
}


def malloc_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The settings of MALLOC_ENVIRONMENT that `environ` lacks (an operator's own are kept)."""
    return {name: value for name, value in MALLOC_ENVIRONMENT.items() if name not in environ}


def main() -> None:
    missing = malloc_environment(os.environ)
    if missing:
        os.environ.update(missing)
        os.execv(sys.executable, [sys.executable, "-m", "portal.serve", *sys.argv[1:]])  # noqa: S606
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from portal.env import ConfigError

    try:
        from portal import settings

        options = server_options()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    port, host = options.port, options.host
    url = (
        f"https://localhost:{port}/"
        if options.tls
        else f"http://{host}:{port}/ (behind the TLS proxy)"
    )
    print(
        f"\n{settings.PORTAL_LENDER_NAME} customer portal\n"
        f"  Serving {url} (self-signed certificate for localhost: accept it once in the browser)\n"
        f"{_demo_customer(settings.BASE_DIR / 'data' / 'demo_accounts.csv')}"
        f"  Outgoing emails and text messages land in {settings.PORTAL_OUTBOX_DIR}/ "
        "(one file per message)\n"
        "  Stop with Ctrl-C.\n",
        flush=True,
    )
    from gunicorn.app.wsgiapp import run

    # The configuration file reads the same environment through server_options().
    sys.argv = ["gunicorn", f"--config={GUNICORN_CONFIG}"]
    run()


if __name__ == "__main__":
    main()
