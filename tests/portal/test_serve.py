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

ROOT = Path(__file__).resolve().parents[2]


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
