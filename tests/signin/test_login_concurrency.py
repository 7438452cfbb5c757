"""Lockout under real concurrency: gunicorn with three worker processes over TLS, one database
file (or a throw-away PostgreSQL database when the suite runs on PostgreSQL), twenty wrong
passwords fired at one username at the same moment."""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.conftest import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
USERNAME = "parallel.target"
LOCK_TEXT = "Online access is temporarily locked"
WRONG_TEXT = "The username or password you entered is not right"

# Written into the server's config: every Argon2 computation (a check, or the dummy hash for an
# unknown username) appends one line to a file, from whichever worker made it.
GUNICORN_CONFIG = """
import os

def post_worker_init(worker):
    from django.contrib.auth.hashers import Argon2PasswordHasher

    log = os.environ["HASHER_LOG"]
    verify, encode = Argon2PasswordHasher.verify, Argon2PasswordHasher.encode

    def note(kind):
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (kind + "\\n").encode())
        finally:
            os.close(fd)

    def counting_verify(self, password, encoded):
        note("verify")
        return verify(self, password, encoded)

    def counting_encode(self, password, salt):
        note("encode")
        return encode(self, password, salt)

    Argon2PasswordHasher.verify = counting_verify
    Argon2PasswordHasher.encode = counting_encode
"""

SETUP_SCRIPT = f"""
from django.http import HttpResponse
from django.test import RequestFactory
from accounts.models import Customer, User
from security.devices import DEVICE_COOKIE, device_register

customer = Customer.objects.create(customer_number="C1", first_name="Dana", last_name="Rivera",
                                   identity_digest="0" * 64, email="target@example.com")
user = User.objects.create_user(username={USERNAME!r}, password={DEMO_PASSWORD!r},
                                email="target@example.com", customer=customer)
response = HttpResponse()
device_register(user=user, request=RequestFactory().get("/"), response=response)
print("TOKEN=" + response.cookies[DEVICE_COOKIE].value)
"""

REPORT_SCRIPT = """
import json
from security.models import SecurityEvent, SignInLock
from django.db.models import Count
kinds = dict(SecurityEvent.objects.values_list("kind").annotate(n=Count("id")).order_by())
lock = SignInLock.objects.values("failure_count", "locked_until").get()
print("REPORT=" + json.dumps({"kinds": kinds, "failures": lock["failure_count"],
                              "locked": lock["locked_until"] is not None}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    env: dict[str, str]
    context: ssl.SSLContext
    hasher_log: Path
    device_token: str

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def report(self) -> dict[str, Any]:
        out = self.manage("shell", "-c", REPORT_SCRIPT)
        return dict(json.loads(out.split("REPORT=", 1)[1]))

    def hashes(self) -> int:
        return len(self.hasher_log.read_text().split()) if self.hasher_log.exists() else 0


def _throwaway_postgres() -> Iterator[str]:
    """A fresh PostgreSQL database beside the test database (never the test database itself)."""
    import psycopg

    params = connection.settings_dict
    name = f"portal_lockout_{secrets.token_hex(4)}"
    admin = psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        autocommit=True,
    )
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        user = urllib.parse.quote(params["USER"] or "", safe="")
        password = urllib.parse.quote(params["PASSWORD"] or "", safe="")
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = params["HOST"] or "localhost"
        port = f":{params['PORT']}" if params["PORT"] else ""
        yield f"postgres://{credentials}{host}{port}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    if connection.vendor == "postgresql":
        yield from _throwaway_postgres()
    else:
        yield f"sqlite:///{tmp_path / 'portal.sqlite3'}"


@pytest.fixture
def server(tmp_path: Path, tls_files: tuple[Path, Path], database_url: str) -> Iterator[Server]:
    """gunicorn, 3 sync workers, TLS with the test certificate, a database of its own."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    hasher_log = tmp_path / "hashes.log"
    env.update(
        PORTAL_VAR_DIR=str(tmp_path / "var"),
        PORTAL_OUTBOX_DIR=str(tmp_path / "outbox"),
        DATABASE_URL=database_url,
        PORTAL_LOGIN_IP_RATE="1000/m",  # this test is about the account lock, not the IP limit
        HASHER_LOG=str(hasher_log),
    )
    bare = Server("", env, ssl.create_default_context(cafile=str(tls_files[0])), hasher_log, "")
    bare.manage("migrate", "--noinput", "-v0")
    token = bare.manage("shell", "-c", SETUP_SCRIPT).split("TOKEN=", 1)[1].strip()
    config = tmp_path / "gunicorn_conf.py"
    config.write_text(GUNICORN_CONFIG)
    port = _free_port()
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "portal.wsgi:application",
            "-w",
            "3",
            "-b",
            f"127.0.0.1:{port}",
            "--certfile",
            str(tls_files[0]),
            "--keyfile",
            str(tls_files[1]),
            "-c",
            str(config),
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    running = Server(f"https://localhost:{port}", env, bare.context, hasher_log, token)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(  # noqa: S310 (https to our own test server)
                    running.url + "/healthz", context=running.context, timeout=5
                )
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        # every worker must be up (and patched) before the burst
        time.sleep(2)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Browser:
    """One client with its own cookies, speaking to the server like a browser form."""

    def __init__(self, server: Server, device_token: str = "") -> None:
        self.server = server
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=server.context), _NoRedirect()
        )
        self.cookies: dict[str, str] = {}
        if device_token:
            self.cookies["__Host-device"] = device_token
        self.csrf = ""

    def _request(self, path: str, data: bytes | None = None) -> tuple[int, str, Any]:
        headers = {"Referer": self.server.url + "/login/"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = urllib.request.Request(  # noqa: S310 (https to our own test server)
            self.server.url + path, data=data, headers=headers
        )
        try:
            response = self.opener.open(request, timeout=60)
            status, body, response_headers = (
                response.status,
                response.read().decode(),
                response.headers,
            )
        except urllib.error.HTTPError as answer:  # 3xx (redirects are not followed), 4xx
            status, body, response_headers = answer.code, answer.read().decode(), answer.headers
        for header in response_headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in header.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return status, body, response_headers

    def open_login(self) -> None:
        _, html, _ = self._request("/login/")
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert found, html[:500]
        self.csrf = found.group(1)

    def log_in(self, password: str) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": self.csrf, "username": USERNAME, "password": password}
        ).encode()
        status, html, headers = self._request("/login/", data=body)
        return status, html, headers.get("Location", "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_twenty_parallel_wrong_passwords_lock_after_exactly_five(server):
    browsers = [Browser(server) for _ in range(20)]
    for browser in browsers:
        browser.open_login()
    before = server.hashes()
    barrier = threading.Barrier(len(browsers))
    results: list[tuple[int, str, str]] = []

    def attack(browser: Browser) -> None:
        barrier.wait()
        results.append(browser.log_in("a wrong password, guessed"))

    threads = [threading.Thread(target=attack, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 20
    assert all(status == 200 for status, _, _ in results), results
    assert all(LOCK_TEXT in body or WRONG_TEXT in body for _, body, _ in results)
    assert sum(LOCK_TEXT in body for _, body, _ in results) >= 15
    assert server.hashes() - before == 5  # nothing past the threshold reached the hasher
    report = server.report()
    assert report["kinds"].get("login_failed") == 5
    assert report["kinds"].get("locked") == 1
    assert report["failures"] == 5 and report["locked"] is True

    # During the lock the right password from a new client gets the same lock message, unhashed.
    late = Browser(server)
    late.open_login()
    status, body, _ = late.log_in(DEMO_PASSWORD)
    assert status == 200 and LOCK_TEXT in body
    assert server.hashes() - before == 5

    # The customer's registered phone still signs in.
    phone = Browser(server, device_token=server.device_token)
    phone.open_login()
    status, _, location = phone.log_in(DEMO_PASSWORD)
    assert status == 302 and location == "/my/vehicles/"
    assert server.report()["kinds"].get("login_ok") == 1
