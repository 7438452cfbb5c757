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
from pathlib import Path


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


def gunicorn_arguments(
    *, port: int, host: str, tls: tuple[Path, Path] | None, workers: int, threads: int = 4
) -> list[str]:
    tls_arguments = [f"--certfile={tls[0]}", f"--keyfile={tls[1]}"] if tls else []
    return [
        "gunicorn",
        "portal.wsgi:application",
        f"--bind={host}:{port}",
        *tls_arguments,
        f"--workers={workers}",
        # gthread unless one thread is asked for (WEB_THREADS=1: the sync worker, for comparison).
        f"--worker-class={'gthread' if threads > 1 else 'sync'}",
        # Threads keep TLS connections alive between requests; sync workers would pay a new
        # handshake on every request (a Django login flow measured on 2 cores: 28.6 -> 18.9 flows/s).
        f"--threads={threads}",
        "--keep-alive=30",
        "--max-requests=20000",
        "--max-requests-jitter=2000",
        "--graceful-timeout=20",
        "--forwarded-allow-ips=127.0.0.1",
        "--error-logfile=-",
        "--no-control-socket",
    ]


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
        from portal import env, settings
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    try:
        port = env.integer("PORT", 8443, minimum=1, maximum=65535)
        host = env.text("HOST") or "127.0.0.1"
        # One process shares the process-local cache; with Redis, several can share it.
        workers = env.integer("WEB_CONCURRENCY", 2 if settings.REDIS_URL else 1, minimum=1)
        threads = env.integer("WEB_THREADS", 4, minimum=1, maximum=64)
        if workers > 1 and not settings.REDIS_URL:
            raise ConfigError("WEB_CONCURRENCY", "above 1 needs REDIS_URL (shared rate limits)")
        # Behind a TLS-terminating proxy (see deploy/) the instances speak plain HTTP on loopback.
        serve_tls = env.boolean("PORTAL_SERVE_TLS", default=True)
        if not serve_tls and not settings.PORTAL_TRUSTED_PROXY_COUNT:
            raise ConfigError("PORTAL_SERVE_TLS", "off needs TRUSTED_PROXY_COUNT (the TLS proxy)")
        cert_file, key_file = env.text("TLS_CERT_FILE"), env.text("TLS_KEY_FILE")
        if bool(cert_file) != bool(key_file):
            raise ConfigError("TLS_CERT_FILE", "and TLS_KEY_FILE must be set together")
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    tls: tuple[Path, Path] | None = None
    if cert_file:
        tls = Path(cert_file), Path(key_file)
    elif serve_tls:
        from portal.tls import ensure_localhost_certificate

        tls = ensure_localhost_certificate(settings.VAR_DIR / "tls")

    url = f"https://localhost:{port}/" if tls else f"http://{host}:{port}/ (behind the TLS proxy)"
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

    sys.argv = gunicorn_arguments(port=port, host=host, tls=tls, workers=workers, threads=threads)
    run()


if __name__ == "__main__":
    main()
