"""Shared fixtures: an HTTPS test client, an HTTPS live server, factories and the browser."""

from __future__ import annotations

import os
import ssl
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.test import Client
from django.test.testcases import LiveServerThread
from pytest_django.live_server_helper import LiveServer

# Playwright's sync API runs an event loop in the test thread; the ORM calls tests make beside it
# are still synchronous, which Django refuses inside a running event loop unless told otherwise.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

DEMO_PASSWORD = "correct horse battery staple 42"
# The request headers of a browser set to Spanish.
SPANISH = {"Accept-Language": "es"}


# --- Translations ---------------------------------------------------------------------------------
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def compile_messages(locale_dir: Path = LOCALE_DIR) -> None:
    """Compiles each language's django.po to django.mo when the .mo is missing or older, as
    `manage.py compilemessages` does, but into a temporary file renamed into place: xdist workers
    compiling at once then never let a test read a half-written catalogue."""
    import subprocess
    import tempfile

    from django.utils.translation.reloader import translation_file_changed

    for po in sorted(locale_dir.glob("*/LC_MESSAGES/django.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        fd, temporary = tempfile.mkstemp(dir=po.parent, prefix=".django.", suffix=".mo")
        os.close(fd)
        try:
            subprocess.run(["msgfmt", "--check-format", "-o", temporary, str(po)], check=True)
            os.replace(temporary, mo)
        finally:
            Path(temporary).unlink(missing_ok=True)
        # A catalogue read before this (by another test run's import) is read again.
        translation_file_changed(sender=None, file_path=mo)


@pytest.fixture(autouse=True, scope="session")
def compiled_messages() -> None:
    """The Spanish pages need the compiled catalogue; compiled once per test run."""
    compile_messages()


@pytest.fixture(autouse=True)
def _default_language_after_each_test() -> Iterator[None]:
    """A request leaves its language active in the thread (LocaleMiddleware never resets it), so
    a test after a Spanish request would otherwise run in Spanish."""
    yield
    from django.utils import translation

    translation.deactivate()


# --- HTTPS test client ----------------------------------------------------------------------------
class HttpsClient(Client):
    """The portal only speaks HTTPS; every request of this client arrives as HTTPS."""

    def request(self, **request: Any) -> Any:
        request["wsgi.url_scheme"] = "https"
        request.setdefault("SERVER_PORT", "443")
        return super().request(**request)


@pytest.fixture
def client() -> HttpsClient:
    return HttpsClient()


@pytest.fixture
def plain_http_client() -> Client:
    return Client()


@pytest.fixture(autouse=True)
def _isolated_cache(settings: Any) -> Iterator[None]:
    """A fresh cache namespace per test, so rate limits of one test never leak into another
    (also when several xdist workers share one Redis)."""
    caches = {alias: dict(conf) for alias, conf in settings.CACHES.items()}
    for conf in caches.values():
        conf["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches
    yield


@pytest.fixture(autouse=True)
def _rate_windows_start_with_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-ratelimit counts in fixed windows that end at a second of its choosing; one ending
    in the middle of a test would reset a count the test relies on (a rare, real flake). Here
    every window starts when the test starts and still moves on when a test travels in time."""
    import time

    import django_ratelimit.core

    anchor = int(time.time())

    def window_end(value: object, period: int) -> int:
        now = int(time.time())
        return now + period - ((now - anchor) % period)

    monkeypatch.setattr(django_ratelimit.core, "_get_window", window_end)


@pytest.fixture(autouse=True)
def _sms_outbox(settings: Any) -> Iterator[list[tuple[str, str]]]:
    from security.sms import LocmemSmsBackend

    settings.PORTAL_SMS_BACKEND = "security.sms.LocmemSmsBackend"
    LocmemSmsBackend.outbox = []
    yield LocmemSmsBackend.outbox


@pytest.fixture
def sms_outbox(_sms_outbox: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return _sms_outbox


# --- Outgoing email and text messages --------------------------------------------------------------
@pytest.fixture(autouse=True)
def _queued_messages_delivered_at_once(
    request: pytest.FixtureRequest, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """THE place where tests deliver queued messages at once. The portal queues every email and
    text message (security.outgoing) and a worker sends it after the commit; here each one is
    delivered the moment it is queued, inside the request, so a test finds it in
    django.core.mail.outbox or LocmemSmsBackend.outbox right after the request (pytest-django's
    per-test transaction never commits, so on-commit work would never run).

    Tests marked `message_queue` get the real thing: the database task backend and the enqueue
    on commit (see tests/security/test_outgoing.py)."""
    if request.node.get_closest_marker("message_queue"):
        return
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    monkeypatch.setattr("security.outgoing._after_commit", lambda callback: callback())


# --- Servicing data and online accounts -----------------------------------------------------------
_counter = iter(range(10_000, 10_000_000))


def make_vin(serial: int) -> str:
    from accounts.fields import vin_check_digit

    base = f"1HGCM826?{serial:08d}"[:17]
    base = base.replace("?", "0")
    return base[:8] + vin_check_digit(base) + base[9:]


@pytest.fixture
def make_customer(db: Any) -> Any:
    """Creates a servicing customer with `loans` loan accounts; returns the Customer."""
    from accounts.identity import identity_digest
    from accounts.models import Customer, LoanAccount, Vehicle

    def factory(
        *,
        tin_last4: str = "1234",
        birth_date: date = date(1985, 4, 12),
        first_name: str = "Dana",
        last_name: str = "Rivera",
        email: str | None = None,
        mobile_phone: str | None = None,
        loans: int = 1,
    ) -> Customer:
        n = next(_counter)
        # Each customer a number of their own (in the 555-01xx range kept for fiction): codes
        # to one number wait out the resend interval, whoever asks (security.codes).
        mobile_phone = f"+12015550{100 + n % 100}" if mobile_phone is None else mobile_phone
        customer = Customer.objects.create(
            customer_number=f"C{n}",
            first_name=first_name,
            last_name=last_name,
            identity_digest=identity_digest(tin_last4, birth_date),
            email=email or f"customer{n}@example.com",
            mobile_phone=mobile_phone,
        )
        models = [("Honda", "Accord", 2021), ("Toyota", "RAV4", 2023), ("Ford", "F-150", 2019)]
        for i in range(loans):
            make, model, year = models[i % len(models)]
            vehicle = Vehicle.objects.create(
                vin=make_vin(n * 10 + i), year=year, make=make, model=model
            )
            LoanAccount.objects.create(
                account_number=f"{n:06d}{i:04d}",
                customer=customer,
                vehicle=vehicle,
                balance=Decimal("15234.56"),
                payment_amount=Decimal("412.90"),
                payment_due_date=date(2026, 12, 15),
            )
        return customer

    return factory


@pytest.fixture
def make_user(make_customer: Any) -> Any:
    """An enrolled customer: online account, every loan linked, three challenge answers
    ("blue", "rex", "paris" for the first three questions)."""
    from accounts.models import User
    from security.challenge import QUESTIONS, hash_answer
    from security.models import ChallengeAnswer

    def factory(
        *, username: str | None = None, password: str = DEMO_PASSWORD, **customer_kwargs: Any
    ) -> User:
        customer = make_customer(**customer_kwargs)
        user = User.objects.create_user(
            username=username or f"user{customer.customer_number.lower()}",
            password=password,
            email=customer.email,
            first_name=customer.first_name,
            last_name=customer.last_name,
            mobile_phone=customer.mobile_phone,
            customer=customer,
        )
        user.loan_accounts.set(customer.loan_accounts.all())
        for key, answer in zip(list(QUESTIONS)[:3], ["blue", "rex", "paris"], strict=True):
            ChallengeAnswer.objects.create(user=user, question=key, answer_hash=hash_answer(answer))
        return user

    return factory


@pytest.fixture
def spanish_customer(make_user: Any) -> Any:
    """An enrolled customer who chose Spanish: their record says so."""
    user = make_user()
    user.language = "es"
    user.save(update_fields=["language"])
    return user


# --- HTTPS live server ----------------------------------------------------------------------------
@pytest.fixture
def passkey_origin(settings: Any) -> None:
    """Passkeys made for localhost, as the tests' software authenticator signs them (its
    client data names https://localhost:8443)."""
    settings.PORTAL_WEBAUTHN_RP_ID = "localhost"
    settings.PORTAL_WEBAUTHN_ORIGINS = ["https://localhost:8443"]


class _HttpsRequestHandler(WSGIRequestHandler):
    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ["HTTPS"] = "on"  # wsgiref then sets wsgi.url_scheme to https
        return environ


class _HttpsWSGIServer(ThreadedWSGIServer):
    ssl_context: ssl.SSLContext

    def get_request(self) -> Any:
        sock, address = super().get_request()
        # The handshake happens in the request's own thread, on first read.
        return self.ssl_context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        ), address


class _HttpsLiveServerThread(LiveServerThread):
    ssl_context: ssl.SSLContext

    def _create_server(self, connections_override: Any = None) -> Any:
        server = _HttpsWSGIServer(
            (self.host, self.port),
            _HttpsRequestHandler,
            allow_reuse_address=False,
            connections_override=connections_override,
        )
        server.ssl_context = self.ssl_context
        return server


class HttpsLiveServer(LiveServer):
    def __init__(self, addr: str, ssl_context: ssl.SSLContext) -> None:
        super().__init__(addr, start=False)
        plain = self.thread
        self.thread = _HttpsLiveServerThread(
            plain.host,
            plain.static_handler,
            connections_override=plain.connections_override,
            port=plain.port,
        )
        self.thread.ssl_context = ssl_context
        self.thread.daemon = True
        self.start()

    @property
    def url(self) -> str:
        return f"https://localhost:{self.thread.port}"


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from portal.tls import ensure_localhost_certificate

    return ensure_localhost_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def live_server(
    django_db_setup: Any, django_db_blocker: Any, tls_files: tuple[Path, Path]
) -> Iterator[HttpsLiveServer]:
    """Overrides pytest-django's live_server: the same server, speaking HTTPS on localhost."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(tls_files[0]), str(tls_files[1]))
    with django_db_blocker.unblock():
        server = HttpsLiveServer("localhost", context)
    yield server
    server.stop()


# --- Browser --------------------------------------------------------------------------------------
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Debian's Chromium, never one Playwright downloads: every launch names it. (BrowserType's
# executable_path, shown in a failing test's fixture values, is Playwright's own default path
# whatever was launched; the guard below reads the browser process itself.)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_BINARY = "/usr/lib/chromium/chromium"  # what Debian's /usr/bin/chromium script runs


def browser_executable(browser: Any) -> str:
    """The executable of the running browser process (Linux: /proc/<pid>/exe)."""
    info = browser.new_browser_cdp_session().send("SystemInfo.getProcessInfo")
    pid = next(p["id"] for p in info["processInfo"] if p["type"] == "browser")
    return os.readlink(f"/proc/{pid}/exe")


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    """How every browser of the tests is launched (pytest-playwright's fixtures, should it ever
    be installed, read the same fixture)."""
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser(browser_type_launch_args: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(**browser_type_launch_args)
        running = browser_executable(chromium)
        assert running == CHROMIUM_BINARY, f"the tests must drive {CHROMIUM}, not {running}"
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, live_server: HttpsLiveServer) -> Iterator[Any]:
    """A page in a fresh browser context (no cookies), against the HTTPS live server."""
    context = browser.new_context(ignore_https_errors=True, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def registered_device_cookie(user: Any, url: str) -> dict[str, Any]:
    """The cookie a browser keeps for a device `user` registered earlier, for `add_cookies`."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from security.devices import DEVICE_COOKIE, device_register

    response = HttpResponse()
    device_register(user=user, request=RequestFactory().get("/"), response=response)
    return {
        "name": DEVICE_COOKIE,
        "value": response.cookies[DEVICE_COOKIE].value,
        "url": url,
        "secure": True,
        "httpOnly": True,
        "sameSite": "Lax",
    }


def log_in_on_registered_device(page: Any, user: Any, url: str) -> None:
    """Logs in, in English, from a device registered earlier, so the password is enough."""
    page.context.add_cookies([registered_device_cookie(user, url)])
    page.goto("/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log In").click()


@pytest.fixture
def live_server_passkeys(settings: Any, live_server: HttpsLiveServer) -> None:
    """Passkeys made by Chromium's virtual authenticator on the HTTPS live server's pages."""
    settings.PORTAL_WEBAUTHN_RP_ID = "localhost"
    settings.PORTAL_WEBAUTHN_ORIGINS = [live_server.url]


@pytest.fixture
def axe_check(browser: Any, live_server: HttpsLiveServer) -> Any:
    """Runs axe-core on a URL and fails on any violation of any impact.

    Injecting axe needs a context that bypasses CSP; it is used only for this check, the page
    under test keeps the real CSP.
    """
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context = browser.new_context(ignore_https_errors=True, bypass_csp=True)

    def check(url_or_page: Any) -> None:
        target = context.new_page()
        if isinstance(url_or_page, str):
            target.goto(
                live_server.url + url_or_page if url_or_page.startswith("/") else url_or_page
            )
        else:
            # The same session as the page under test, re-opened (GET) where axe may be injected.
            context.clear_cookies()
            context.add_cookies(url_or_page.context.cookies())
            target.goto(url_or_page.url)
        results = axe.run(target)
        violations = results.response["violations"]
        target.close()
        assert violations == [], results.generate_report()

    yield check
    context.close()
