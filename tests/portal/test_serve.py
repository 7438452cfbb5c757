"""`make run`'s server answers over HTTPS with the security headers."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from portal.serve import MALLOC_ENVIRONMENT, malloc_environment
from tests.portal.fresh_python import ROOT, run_python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_portal_serves_https_with_a_generated_localhost_certificate(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(PORTAL_VAR_DIR=str(tmp_path), PORT=str(port := free_port()))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "portal.serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        context = ssl.create_default_context(cafile=None)
        deadline = time.monotonic() + 30
        while True:
            try:
                cert = tmp_path / "tls" / "localhost.crt"
                context = ssl.create_default_context(cafile=str(cert))
                response = urllib.request.urlopen(
                    f"https://localhost:{port}/healthz", context=context, timeout=5
                )
                break
            except (OSError, ssl.SSLError):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        assert response.status == 200
        # The workers run with the malloc settings (set before the re-exec, inherited from the
        # arbiter, which is this same process).
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
        assert children
        for worker in children:
            environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
            for name, value in MALLOC_ENVIRONMENT.items():
                assert f"{name}={value}".encode() in environ
        home = urllib.request.urlopen(f"https://localhost:{port}/", context=context, timeout=5)
        assert home.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert "default-src 'self'" in home.headers["Content-Security-Policy"]
        assert home.headers["X-Frame-Options"] == "DENY"
        # The certificate verified against itself for the name localhost: it is real TLS.
        assert (tmp_path / "tls" / "localhost.key").stat().st_mode & 0o077 == 0
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert f"https://localhost:{port}/" in output
    assert "outbox" in output
    # gunicorn ran with deploy/gunicorn.conf.py, as the systemd unit runs it: its access log.
    assert '"GET /healthz HTTP/1.1" 200 ' in output


# Four threads verify passwords as a gthread worker's threads do, one hash at a time (the
# hasher's lock); prints how much RSS (KiB) the process kept after the hashes were done.
HASH_IN_THREADS = r"""
import re, threading
from pathlib import Path
from portal.hashers import PortalArgon2PasswordHasher

def rss_kib():
    return int(re.search(r"VmRSS:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))

hasher = PortalArgon2PasswordHasher()
encoded = hasher.encode("correct horse battery staple", hasher.salt())
before = rss_kib()
def verify():
    for _ in range(3):
        assert hasher.verify("correct horse battery staple", encoded)
threads = [threading.Thread(target=verify) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(rss_kib() - before)
"""


def kept_after_hashing(env: dict[str, str]) -> int:
    return int(run_python(HASH_IN_THREADS, env))


def test_argon2_blocks_are_returned_after_each_hash_under_the_servers_malloc_settings():
    plain = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_"))}
    # Without the settings glibc keeps freed 19 MiB blocks (the control: the measure sees them).
    assert kept_after_hashing(plain) >= 19 * 1024
    assert kept_after_hashing({**plain, **malloc_environment(plain)}) < 4 * 1024


def test_malloc_settings_already_in_the_environment_are_kept():
    missing = malloc_environment({"MALLOC_ARENA_MAX": "4"})
    assert "MALLOC_ARENA_MAX" not in missing
    assert missing["MALLOC_MMAP_THRESHOLD_"] == MALLOC_ENVIRONMENT["MALLOC_MMAP_THRESHOLD_"]
    assert malloc_environment({**MALLOC_ENVIRONMENT}) == {}  # nothing missing: no re-exec
