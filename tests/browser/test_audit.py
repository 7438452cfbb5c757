"""`make audit`: every customer page through Lighthouse (accessibility and best practices), axe
(with the Manage My Profile menu closed and open) and full-page screenshots at 375 and 1280 px,
and at 320 px no page may scroll sideways. Problems are collected over all pages and reported in
one assertion, so one run lists everything there is to fix; scores and findings are written to
var/audit/, screenshots to var/screenshots/.

"Every customer page" includes those that only exist in the middle of a flow (Confirm it's you,
the enrollment steps, password recovery, a paused identity check's code), the answers to a form
(a wrong password, a lock, "This wasn't me" done, new backup codes) and the error pages (not
found, CSRF refused). A page with an error status keeps its best-practices score at 95 or more:
Lighthouse's only loss there is the "errors in console" line its own status code writes.
Each is reached by driving its flow in a browser context of its own; the session it ends in is
what every checker of that page is given (its cookies, a copy of the session where the flow goes
on from there). A page that is the answer to a POST is re-posted for each checker: see
`ReplayPosts`.

Lighthouse comes from package.json (`npm ci`) and drives Debian's Chromium only (CHROME_PATH)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from django.utils.module_loading import import_string
from playwright.sync_api import expect

from accounts.identity import reference_key
from accounts.models import Customer, User
from portal.conf import portal
from security.lockout import hold_place
from security.models import HoldReason, IdentityVerificationThrottle
from security.notifications import not_me_token_create
from security.ratelimits import ip_limit_reached
from signin import flow as signin_flow
from tests.browser.test_profile import ANSWERS, log_in, newest_code
from tests.conftest import CHROMIUM, DEMO_PASSWORD

pytestmark = pytest.mark.audit

ROOT = Path(__file__).resolve().parents[2]
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
REPORT_DIR = ROOT / "var" / "audit"
SCREENSHOT_DIR = ROOT / "var" / "screenshots"
WIDTHS = (375, 1280)
NARROWEST = 320  # no page may scroll sideways at this width
MIN_ACCESSIBILITY = 100
MIN_BEST_PRACTICES = 95
LIGHTHOUSE_RUNS_AT_ONCE = 2  # about 12 s a page; the machines have two cores

# (file name, URL name): what a visitor reaches without data, and every signed-in page.
PUBLIC_PAGES = [
    ("home", "home"),
    ("log-in", "signin:login"),
    ("enroll", "enrollment:start"),
    ("forgot-username", "recovery:forgot_username"),
    ("forgot-password", "recovery:forgot_password"),
    ("help-center", "help_center"),
    ("security-center", "security_center"),
    ("contact-us", "contact"),
]
SIGNED_IN_PAGES = [
    ("my-vehicles", "profile:vehicles"),
    ("add-vehicle", "profile:add_vehicle"),
    ("my-online-profile", "profile:profile"),
    ("challenge-questions", "profile:challenge_questions"),
    ("password", "profile:password"),
    ("contact-information", "profile:contact"),
    ("registered-devices", "profile:devices"),
    ("two-step", "profile:two_step"),
    ("authenticator-set-up", "profile:two_step_app"),
    ("electronic-communications", "profile:esign"),
    ("log-in-activity", "profile:activity"),
    ("passkeys", "profile:passkeys"),
    ("re-authenticate", "profile:reauth"),
]
# Pages any visitor may meet: an address that is no page, a link that is no "This wasn't me" link.
NOT_FOUND_PAGES = [
    ("page-not-found", "/no-such-page/"),
    ("not-me-invalid", "/not-me/" + "x" * 43 + "/"),
]
MENU = "details.menu"
ENROLL_PASSWORD = "lantern orchard pebble 58"


# --- Lighthouse -----------------------------------------------------------------------------------
def lighthouse(
    url: str, report: Path, headers: Path | None, any_status: bool = False
) -> dict[str, Any]:
    """One Lighthouse run; returns its JSON report (also kept at `report`). With `any_status`
    a page that answers with an error status (429) is audited too."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--chrome-flags=--headless=new --no-sandbox --ignore-certificate-errors",
        "--only-categories=accessibility,best-practices",
        "--output=json",
        "--disable-full-page-screenshot",  # not needed for these two categories; saves seconds
        f"--output-path={report}",
        "--quiet",
    ]
    if headers is not None:
        command.append(f"--extra-headers={headers}")
    if any_status:
        command.append("--ignore-status-code")
    env = {**os.environ, "CHROME_PATH": CHROMIUM, "PUPPETEER_SKIP_DOWNLOAD": "1"}
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    if run.returncode != 0 or not report.exists():
        return {"runtimeError": {"message": (run.stderr or run.stdout)[-2000:]}}
    return json.loads(report.read_text())


def failing_audits(result: dict[str, Any]) -> list[str]:
    """The audits of both categories that did not pass, each with a few of its elements."""
    lines = []
    for category in result["categories"].values():
        for ref in category["auditRefs"]:
            audit = result["audits"][ref["id"]]
            if audit["score"] is None or audit["score"] >= 1:
                continue
            items = audit.get("details", {}).get("items", [])
            where = []
            for item in items[:5]:
                node = item.get("node") or {}
                where.append(
                    node.get("selector")
                    or item.get("description")
                    or item.get("source", {}).get("url")
                    or item.get("url")
                    or json.dumps(item)[:120]
                )
            more = f" (+{len(items) - 5} more)" if len(items) > 5 else ""
            lines.append(f"{ref['id']}: {audit['title']} [{'; '.join(map(str, where))}{more}]")
    return lines


def scores(result: dict[str, Any]) -> dict[str, int | None]:
    return {
        key: None if category["score"] is None else round(category["score"] * 100)
        for key, category in result.get("categories", {}).items()
    }


# --- axe ------------------------------------------------------------------------------------------
def axe_findings(axe: Any, page: Any, context: str | None = None) -> list[str]:
    """Every violation, and every color-contrast result axe could not decide (needs review),
    in `context` (a selector; the whole page without one)."""
    response = axe.run(page, context=context).response
    findings = [
        f"{v['id']} ({v['impact']}): {v['help']} [{'; '.join(' '.join(n['target']) for n in v['nodes'])}]"
        for v in response["violations"]
    ]
    for item in response["incomplete"]:
        if item["id"] == "color-contrast":
            for node in item["nodes"]:
                reason = node["any"][0]["message"] if node["any"] else ""
                findings.append(
                    f"color-contrast needs review: {' '.join(node['target'])}: {reason}"
                )
    return findings


# --- Pages in the middle of a flow ----------------------------------------------------------------
REPLAY_HEADER = "X-Audit-Replay"


@dataclass
class Visit:
    """One audited page: how every checker opens it."""

    name: str  # the file names of its reports and screenshots
    path: str
    cookies: list[dict[str, Any]] = field(default_factory=list)  # the session; none: a new visitor
    replay: str = ""  # a recorded POST the GET of `path` is turned into (ReplayPosts)
    ends_at: str = ""  # where the page is shown (after a POST's redirect); `path` by default
    status: int = 200
    menu: bool = False  # signed in: the Manage My Profile menu is in the header

    @property
    def shown_at(self) -> str:
        return self.ends_at or self.path


@dataclass
class Post:
    path: str
    fields: dict[str, str]
    remote_addr: str = ""  # another client address than the test's (a rate limit of its own)
    csrf: bool = True  # False: posted without the CSRF token (the page that refuses it)
    # The path really posted to, a new one for each replay (a link that works once).
    target: Callable[[], str] | None = None


class ReplayPosts:
    """Wraps the live server's WSGI application: a GET of a recorded POST's path that carries
    `X-Audit-Replay: <name>` is answered as that POST, with the CSRF token of the request's own
    cookie. Lighthouse only opens pages with a GET (its --extra-headers carry the header), and
    so does a Playwright context given the header, so a page that only exists as the answer to a
    form (a wrong password, a lock, a code just sent) is audited as a customer sees it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.posts: dict[str, Post] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        post = self.posts.get(environ.get("HTTP_X_AUDIT_REPLAY", ""))
        if post and environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"] == post.path:
            fields = dict(post.fields)
            if post.csrf:
                cookies = SimpleCookie(environ.get("HTTP_COOKIE", ""))
                fields["csrfmiddlewaretoken"] = cookies[settings.CSRF_COOKIE_NAME].value
            body = urlencode(fields).encode()
            origin = f"https://{environ['HTTP_HOST']}"
            environ = {
                **environ,
                "REQUEST_METHOD": "POST",
                "CONTENT_TYPE": "application/x-www-form-urlencoded",
                "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": BytesIO(body),
                "HTTP_ORIGIN": origin,
                "HTTP_REFERER": origin + post.path,
            }
            if post.remote_addr:
                environ["REMOTE_ADDR"] = post.remote_addr
            if post.target is not None:
                environ["PATH_INFO"] = post.target()
        return self.app(environ, start_response)


def session_copy(cookies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cookies with the session cookie pointing at a copy of the session: the flow can go
    on in the original while the page of this moment is audited with the copy."""
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")
    copied = []
    for cookie in cookies:
        if cookie["name"] == settings.SESSION_COOKIE_NAME:
            session = store()
            session.update(store(cookie["value"]).load())
            session.create()
            cookie = {**cookie, "value": session.session_key}
        copied.append(cookie)
    return copied


def _heading(page: Any, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def _identity(page: Any, account_number: str, button: str = "Continue") -> None:
    """The identity fields of make_customer's defaults, sent."""
    page.get_by_label("Last 4 digits of SSN or TIN", exact=True).fill("1234")
    page.get_by_label("Date of birth", exact=True).fill("04/12/1985")
    page.get_by_label("Account number or VIN", exact=True).fill(account_number)
    page.get_by_role("button", name=button).click()


def sign_in_pages(new_page: Any, make_user: Any, posts: dict[str, Post]) -> list[Visit]:
    """Log In after a wrong password, locked, and refused for too many attempts; Confirm it's
    you before and after Send code; Register this device?."""
    visits = []
    page = new_page()
    page.goto(reverse("signin:login"))
    posts["wrong-password"] = Post("/login/", {"username": make_user().username, "password": "x"})
    visits.append(
        Visit("log-in-wrong-password", "/login/", page.context.cookies(), "wrong-password")
    )

    locked = make_user()
    for _ in range(portal.lockout_threshold):
        page.get_by_label("Username").fill(locked.username)
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Log In").click()
    expect(page.get_by_role("alert")).to_contain_text("locked")
    posts["locked"] = Post("/login/", {"username": locked.username, "password": "x"})
    visits.append(Visit("log-in-locked", "/login/", page.context.cookies(), "locked"))

    # Another client address, whose attempts are used up.
    address = "192.0.2.25"
    request = RequestFactory().post("/login/", REMOTE_ADDR=address)
    while not ip_limit_reached(request, signin_flow.LIMIT_GROUP, portal.login_ip_rate):
        pass
    posts["too-many"] = Post("/login/", {"username": "someone", "password": "x"}, address)
    visits.append(
        Visit("too-many-attempts", "/login/", page.context.cookies(), "too-many", status=429)
    )

    user = make_user()
    page.goto(reverse("signin:login"))
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log In").click()
    _heading(page, "Confirm it\u2019s you")
    cookies = page.context.cookies()
    posts["step-up-send"] = Post("/login/verify/", {"action": "send", "channel": "email"})
    visits += [
        Visit("confirm-its-you", "/login/verify/", session_copy(cookies)),
        Visit("confirm-its-you-code-sent", "/login/verify/", session_copy(cookies), "step-up-send"),
    ]
    page.get_by_role("button", name="Send code").click()
    question = page.locator('label[for="id_answer"]').inner_text()
    page.get_by_role("textbox", name=question).fill(ANSWERS[question])
    page.get_by_role("textbox", name="Security code").fill(newest_code())
    page.get_by_role("button", name="Continue").click()
    _heading(page, "Register this device?")
    visits.append(Visit("register-this-device", "/login/device/", page.context.cookies()))
    page.context.close()
    return visits


def _enroll_to_confirm(page: Any, customer: Any, visits: list[Visit] | None = None) -> None:
    """Steps 1 to 4 of enrollment; with `visits`, each later step's page is added to them."""

    def seen(name: str, path: str) -> None:
        if visits is not None:
            visits.append(Visit(name, path, session_copy(page.context.cookies())))

    page.goto(reverse("enrollment:start"))
    _identity(page, customer.loan_accounts.first().account_number)
    _heading(page, "Add your vehicle(s)")
    seen("enroll-vehicles", "/enroll/vehicles/")
    page.get_by_role("button", name="Continue").click()
    _heading(page, "Create your username and password, and set up your profile")
    seen("enroll-profile", "/enroll/profile/")
    page.get_by_label("Username", exact=True).fill(f"audit-{customer.customer_number.lower()}")
    page.get_by_label("Password", exact=True).fill(ENROLL_PASSWORD)
    page.get_by_label("Confirm password", exact=True).fill(ENROLL_PASSWORD)
    for number in (1, 2, 3):
        page.get_by_label(f"Challenge question {number}", exact=True).select_option(index=number)
        page.get_by_label(f"Answer to challenge question {number}").fill(f"answer {number}")
    page.get_by_role("button", name="Continue").click()
    _heading(page, "Authorize electronic communications")
    seen("enroll-consent", "/enroll/consent/")
    seen("enroll-declined", "/enroll/consent/declined/")
    page.get_by_label(re.compile("I authorize .* to send me my account information")).check()
    page.get_by_role("button", name="Agree and continue").click()
    _heading(page, "Confirm it\u2019s you")


def enrollment_pages(new_page: Any, make_customer: Any, posts: dict[str, Post]) -> list[Visit]:
    """Steps 2 to 5 (5 before and after Send code), the declined consent, and Register this
    device? after enrolling. One customer stops at step 5 (a wizard whose customer enrolled
    since is not the same page), another enrolls."""
    visits: list[Visit] = []
    page = new_page()
    _enroll_to_confirm(page, make_customer(loans=2), visits)
    cookies = page.context.cookies()
    posts["enroll-send"] = Post("/enroll/confirm/send/", {"channel": "email"})
    visits += [
        Visit("enroll-confirm", "/enroll/confirm/", session_copy(cookies)),
        Visit(
            "enroll-confirm-code-sent",
            "/enroll/confirm/send/",
            session_copy(cookies),
            "enroll-send",
            ends_at="/enroll/confirm/",
        ),
    ]
    page.context.close()

    page = new_page()
    _enroll_to_confirm(page, make_customer())
    page.get_by_role("button", name="Send code").click()
    page.get_by_role("textbox", name="Security code").fill(newest_code())
    page.get_by_role("button", name="Finish enrollment").click()
    _heading(page, "Register this device?")
    visits.append(Visit("enroll-register-device", "/enroll/device/", page.context.cookies()))
    page.context.close()
    return visits


def recovery_pages(new_page: Any, make_user: Any) -> list[Visit]:
    """Forgot username's sent page; Forgot password's channel, code and new password pages."""
    page = new_page()
    page.goto(reverse("recovery:forgot_username"))
    _identity(page, make_user().loan_accounts.first().account_number, "Email my username")
    _heading(page, "Check your email")
    visits = [Visit("forgot-username-sent", "/forgot-username/sent/", page.context.cookies())]
    page.context.close()

    page = new_page()
    user = make_user()
    page.goto(reverse("recovery:forgot_password"))
    page.get_by_label("Username").fill(user.username)
    _identity(page, user.loan_accounts.first().account_number)
    _heading(page, "Get a security code")
    visits.append(
        Visit(
            "forgot-password-send", "/forgot-password/send/", session_copy(page.context.cookies())
        )
    )
    page.get_by_label(re.compile("^Email to")).check()
    page.get_by_role("button", name="Send code").click()
    _heading(page, "Enter your security code")
    visits.append(
        Visit(
            "forgot-password-code", "/forgot-password/code/", session_copy(page.context.cookies())
        )
    )
    page.get_by_label("Security code").fill(newest_code())
    page.get_by_role("button", name="Continue").click()
    _heading(page, "Choose a new password")
    visits.append(Visit("forgot-password-new", "/forgot-password/new/", page.context.cookies()))
    page.context.close()
    return visits


def paused_identity_pages(
    make_user: Any, cookies: list[dict[str, Any]], posts: dict[str, Post]
) -> list[Visit]:
    """The code pages of a paused identity check ("if these details match, we sent a code to
    the contact on record") of enrollment, Forgot username and Forgot password, for a customer
    whose loan someone else paused with wrong details. A code page lasts only as long as its
    code, less than the audit: each checker sends the details again (a new code), each page in
    a session of its own."""
    user = make_user()
    IdentityVerificationThrottle.objects.create(
        reference_key=reference_key(user.loan_accounts.first().account_number),
        failures=portal.verify_max_failures,
    )
    details = _identity_fields(user.customer)
    visits = []
    for name, start, fields, code_page in (
        ("enroll-identity-code", "enrollment:start", details, "enrollment:identity_code"),
        (
            "forgot-username-identity-code",
            "recovery:forgot_username",
            details,
            "recovery:username_identity_code",
        ),
        (
            "forgot-password-identity-code",
            "recovery:forgot_password",
            {"username": user.username, **details},
            "recovery:password_identity_code",
        ),
    ):
        posts[name] = Post(reverse(start), fields)
        visits.append(
            Visit(name, reverse(start), new_session(cookies), name, ends_at=reverse(code_page))
        )
    return visits


def _identity_fields(customer: Customer) -> dict[str, str]:
    """The identity form as _identity fills it in, for `customer`."""
    account = customer.loan_accounts.first().account_number
    return {"tin_last4": "1234", "birth_date": "04/12/1985", "reference": account}


def visitor(new_page: Any) -> list[dict[str, Any]]:
    """The cookies of a new visitor who opened a form (its CSRF cookie)."""
    page = new_page()
    page.goto(reverse("recovery:forgot_password"))
    cookies = page.context.cookies()
    page.context.close()
    return cookies


def new_session(cookies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`cookies` with a session cookie of a new, empty session of their own: a page replayed by
    Lighthouse keeps the session its POST wrote in for the GET it is redirected to."""
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")
    session = store()
    session.create()
    csrf = next(c for c in cookies if c["name"] == settings.CSRF_COOKIE_NAME)
    others = [c for c in cookies if c["name"] != settings.SESSION_COOKIE_NAME]
    return [*others, {**csrf, "name": settings.SESSION_COOKIE_NAME, "value": session.session_key}]


def answer_pages(
    make_user: Any, make_customer: Any, cookies: list[dict[str, Any]], posts: dict[str, Post]
) -> list[Visit]:
    """The answers to a form that end a flow: Forgot username for a customer with no online
    account, Forgot password while "This wasn't me" holds access, enrollment by a customer
    already enrolled or with no contact on record; "This wasn't me" asked and done; the page
    of a form posted without its CSRF token."""
    held = make_user()
    hold_place(user=held, reason=HoldReason.NOT_ME)
    no_contact = make_customer()
    Customer.objects.filter(pk=no_contact.pk).update(email="", mobile_phone="")
    enrolled: User = make_user()
    asked = make_user()
    posts.update(
        {
            "no-account": Post("/forgot-username/", _identity_fields(make_customer())),
            "held": Post(
                "/forgot-password/", {"username": held.username, **_identity_fields(held.customer)}
            ),
            "already-enrolled": Post("/enroll/", _identity_fields(enrolled.customer)),
            "no-contact": Post("/enroll/", _identity_fields(no_contact)),
            # Each replay reports with a link of its own: a link works once.
            "not-me-done": Post(
                "/not-me/reported/",
                {},
                target=lambda: f"/not-me/{not_me_token_create(user=asked)}/",
            ),
            "csrf-failure": Post("/login/", {"username": "someone", "password": "x"}, csrf=False),
        }
    )
    return [
        Visit("forgot-username-no-account", "/forgot-username/", cookies, "no-account"),
        Visit("forgot-password-held", "/forgot-password/", cookies, "held", status=403),
        Visit("enroll-already-enrolled", "/enroll/", cookies, "already-enrolled"),
        Visit("enroll-no-contact", "/enroll/", cookies, "no-contact"),
        Visit("not-me-confirm", f"/not-me/{not_me_token_create(user=asked)}/"),
        Visit("not-me-done", "/not-me/reported/", cookies, "not-me-done"),
        Visit("csrf-failure", "/login/", [], "csrf-failure", status=403),
    ]


def profile_pages(
    new_page: Any, make_user: Any, cookies: list[dict[str, Any]], posts: dict[str, Post]
) -> list[Visit]:
    """My Online Profile pages in the middle of a change: the new backup codes, Confirm the new
    email address (on a copy of the signed-in session), and the challenge questions support
    asked to be replaced (another customer, the only page that customer can open)."""
    posts["backup-codes"] = Post(reverse("profile:backup_codes"), {})
    visits = [
        Visit("backup-codes", reverse("profile:backup_codes"), cookies, "backup-codes", menu=True)
    ]
    page = new_page()
    page.context.add_cookies(session_copy(cookies))
    page.goto(reverse("profile:contact"))
    page.get_by_label("Email address", exact=True).fill("new.address@example.com")
    page.get_by_role("button", name="Update").click()
    _heading(page, "Confirm your Contact information")
    visits.append(
        Visit(
            "contact-change-confirm",
            reverse("profile:contact_confirm"),
            page.context.cookies(),
            menu=True,
        )
    )
    page.context.close()

    page = new_page()
    user = make_user()
    log_in(page, user, ANSWERS)
    User.objects.filter(pk=user.pk).update(must_reset_challenge_questions=True)
    visits.append(
        Visit(
            "challenge-questions-reset",
            reverse("profile:challenge_questions"),
            page.context.cookies(),
            menu=True,
        )
    )
    page.context.close()
    return visits


# --- The audit ------------------------------------------------------------------------------------
@pytest.fixture
def signed_in(page, make_user, settings):
    """A customer logged in through the real step-up, with an authenticator app set-up started
    (its page only exists while one is pending). The audit stays on re-authenticated pages far
    longer than the few minutes a customer gets, so here the password counts for an hour."""
    settings.PORTAL_REAUTH_SECONDS = 60 * 60
    log_in(page, make_user(), ANSWERS)
    page.goto(reverse("profile:two_step"))
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.get_by_role("img", name="QR code", exact=False)).to_be_visible()
    return page


@pytest.fixture
def replayed(live_server) -> Iterator[ReplayPosts]:
    server = live_server.thread.httpd
    app = server.get_app()
    replay = ReplayPosts(app)
    server.set_app(replay)
    yield replay
    server.set_app(app)


@pytest.fixture
def generous_limits(settings) -> None:
    """The audit re-posts forms and sends codes for many pages from one address, at once: the
    limits that would refuse that are not what it checks (the too-many-attempts page uses an
    address of its own)."""
    settings.PORTAL_LOGIN_IP_RATE = "400/h"  # per hour: a window that outlasts the run
    settings.PORTAL_VERIFY_IP_RATE = "400/h"
    settings.PORTAL_CODE_SEND_IP_RATE = "400/h"
    settings.PORTAL_CODE_RESEND_SECONDS = 0
    settings.PORTAL_CODE_MAX_PER_HOUR = 100


def _headers(visit: Visit) -> dict[str, str]:
    return {REPLAY_HEADER: visit.replay} if visit.replay else {}


def _lighthouse_headers(visit: Visit, folder: Path) -> Path | None:
    headers = _headers(visit)
    if visit.cookies:
        headers["Cookie"] = "; ".join(f"{c['name']}={c['value']}" for c in visit.cookies)
    if not headers:
        return None
    path = folder / f"{visit.name}-headers.json"
    path.write_text(json.dumps(headers))
    return path


@pytest.mark.timeout(900)
def test_every_page_passes_lighthouse_and_axe_and_is_photographed(
    generous_limits, signed_in, replayed, browser, live_server, make_user, make_customer, tmp_path
):
    assert LIGHTHOUSE.exists(), "Lighthouse is not installed: run `make audit` (npm ci)"
    started = time.monotonic()
    cookies = signed_in.context.cookies()
    visits = (
        [Visit(name, reverse(url)) for name, url in PUBLIC_PAGES]
        + [Visit(name, reverse(url), cookies, menu=True) for name, url in SIGNED_IN_PAGES]
        + [Visit(name, path, status=404) for name, path in NOT_FOUND_PAGES]
    )
    lighthouse_dir = REPORT_DIR / "lighthouse"
    lighthouse_dir.mkdir(parents=True, exist_ok=True)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def new_page() -> Any:
        context = browser.new_context(ignore_https_errors=True, base_url=live_server.url)
        context.set_default_timeout(10_000)
        return context.new_page()

    # Lighthouse runs in the background (its own Chromium per run) while this thread drives the
    # flows, then Playwright through axe and the screenshots.
    with ThreadPoolExecutor(max_workers=LIGHTHOUSE_RUNS_AT_ONCE) as pool:
        runs: dict[str, Future[dict[str, Any]]] = {}

        def submit(batch: list[Visit]) -> None:
            for visit in batch:
                runs[visit.name] = pool.submit(
                    lighthouse,
                    live_server.url + visit.path,
                    lighthouse_dir / f"{visit.name}.json",
                    _lighthouse_headers(visit, tmp_path),
                    visit.status != 200,
                )

        submit(visits)
        # Every flow is driven before any of its pages is audited: a page re-posted (a code
        # sent again) must not change what a flow still to be driven meets.
        flows = (
            sign_in_pages(new_page, make_user, replayed.posts)
            + enrollment_pages(new_page, make_customer, replayed.posts)
            + recovery_pages(new_page, make_user)
            + paused_identity_pages(make_user, visitor(new_page), replayed.posts)
            + answer_pages(make_user, make_customer, visitor(new_page), replayed.posts)
            + profile_pages(new_page, make_user, cookies, replayed.posts)
        )
        submit(flows)
        visits += flows
        problems: dict[str, list[str]] = {visit.name: [] for visit in visits}

        from axe_playwright_python.sync_playwright import Axe

        axe = Axe()
        axe_results: dict[str, dict[str, list[str]]] = {}
        for visit in visits:
            options = {
                "ignore_https_errors": True,
                "base_url": live_server.url,
                "extra_http_headers": _headers(visit),
            }
            # Injecting axe needs a context that bypasses CSP; the screenshots keep the real CSP.
            axe_context = browser.new_context(**options, bypass_csp=True)
            axe_context.add_cookies(visit.cookies)
            checked = axe_context.new_page()
            response = checked.goto(visit.path)
            if (
                response is None
                or response.status != visit.status
                or checked.url != live_server.url + visit.shown_at
            ):
                problems[visit.name].append(
                    f"did not open: {visit.path} answered {response and response.status}, "
                    f"ended at {checked.url}"
                )
            axe_results[visit.name] = {"menu closed": axe_findings(axe, checked)}
            menu = checked.locator(MENU)
            if visit.menu:
                menu.locator("summary").click()
                if menu.evaluate("menu => menu.open"):
                    # The open menu itself, with the header it sits in. The page under it was
                    # checked with the menu closed; with it open axe cannot see the colours of
                    # what the menu covers, and reports those as "needs review".
                    axe_results[visit.name]["menu open"] = axe_findings(
                        axe, checked, ".site-header"
                    )
                else:
                    problems[visit.name].append("the Manage My Profile menu did not open")
            for state, findings in axe_results[visit.name].items():
                problems[visit.name] += [f"axe, {state}: {finding}" for finding in findings]
            axe_context.close()

            shown_context = browser.new_context(**options)
            shown_context.add_cookies(visit.cookies)
            shown = shown_context.new_page()
            shown.goto(visit.path)
            problems[visit.name] += sideways_scroll(shown)
            for width in WIDTHS:
                shown.set_viewport_size({"width": width, "height": 800})
                shown.screenshot(path=SCREENSHOT_DIR / f"{visit.name}-{width}.png", full_page=True)
            if visit.name == "my-vehicles":
                shown.locator(MENU).locator("summary").click()
                for width in WIDTHS:
                    shown.set_viewport_size({"width": width, "height": 800})
                    shown.screenshot(
                        path=SCREENSHOT_DIR / f"{visit.name}-menu-open-{width}.png",
                        full_page=True,
                    )
            shown_context.close()
        browser_seconds = time.monotonic() - started

        lighthouse_results = {name: run.result() for name, run in runs.items()}

    summary = {}
    for visit in visits:
        name, path = visit.name, visit.path
        result = lighthouse_results[name]
        if result.get("runtimeError"):
            problems[name].append(f"Lighthouse could not run: {result['runtimeError']['message']}")
            summary[name] = {"path": path, "scores": {}, "failing": [], "axe": axe_results[name]}
            continue
        got = scores(result)
        failing = failing_audits(result)
        if result.get("finalDisplayedUrl") != live_server.url + visit.shown_at:
            problems[name].append(f"Lighthouse ended at {result.get('finalDisplayedUrl')}")
        accessibility, best = got.get("accessibility"), got.get("best-practices")
        if (
            accessibility is None
            or accessibility < MIN_ACCESSIBILITY
            or (best is None or best < MIN_BEST_PRACTICES)
        ):
            problems[name].append(
                f"Lighthouse accessibility {accessibility} (needs {MIN_ACCESSIBILITY}), "
                f"best practices {best} (needs {MIN_BEST_PRACTICES})"
            )
            problems[name] += [f"Lighthouse: {line}" for line in failing]
        shown = path + (" (as posted)" if visit.replay else "")
        summary[name] = {"path": shown, "scores": got, "failing": failing, "axe": axe_results[name]}
    write_reports(summary, problems, time.monotonic() - started, browser_seconds)

    failures = {name: items for name, items in problems.items() if items}
    assert not failures, "\n".join(
        f"{name} ({len(items)}):\n  " + "\n  ".join(items) for name, items in failures.items()
    )


def sideways_scroll(page: Any) -> list[str]:
    """At the narrowest phone width the page must not scroll sideways."""
    page.set_viewport_size({"width": NARROWEST, "height": 800})
    wide = page.evaluate("document.documentElement.scrollWidth")
    if wide > NARROWEST:
        return [f"scrolls sideways at {NARROWEST} px: the page is {wide} px wide"]
    return []


def write_reports(
    summary: dict[str, Any], problems: dict[str, list[str]], seconds: float, browser_seconds: float
) -> None:
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "report.json").write_text(json.dumps(summary, indent=2))
    lines = [
        "# make audit",
        "",
        f"{len(summary)} pages in {seconds:.0f} s (axe and screenshots: {browser_seconds:.0f} s, "
        "beside Lighthouse). Lighthouse reports: var/audit/lighthouse/; screenshots: "
        "var/screenshots/.",
        "",
        "| Page | Path | Accessibility | Best practices | Problems |",
        "|---|---|---|---|---|",
    ]
    for name, entry in summary.items():
        got = entry["scores"]
        lines.append(
            f"| {name} | {entry['path']} | {got.get('accessibility')} | "
            f"{got.get('best-practices')} | {len(problems[name])} |"
        )
    for name, items in problems.items():
        if items or summary[name]["failing"]:
            lines += ["", f"## {name}", ""]
            lines += [f"- {item}" for item in items]
            lines += [
                f"- (not failing the run) Lighthouse: {line}"
                for line in summary[name]["failing"]
                if f"Lighthouse: {line}" not in items
            ]
    (REPORT_DIR / "report.md").write_text("\n".join(lines) + "\n")
