"""Logging in as a customer does, in fresh browser contexts: step-up on a new device with a code
read from the outbox, registering the device, and signing in from it during a lock."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from playwright.sync_api import expect

from security.challenge import QUESTIONS
from tests.conftest import DEMO_PASSWORD, registered_device_cookie

pytestmark = pytest.mark.browser

ANSWERS = {
    QUESTIONS[key]: answer
    for key, answer in zip(list(QUESTIONS)[:3], ["blue", "rex", "paris"], strict=True)
}
LOCK_TEXT = "Online access is temporarily locked"


def heading(page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def code_from_outbox(outbox: Path, to: str) -> str:
    """The newest security code emailed to `to`, read from the .eml file as a mail client would."""
    for path in sorted(outbox.glob("*-email-*.eml"), reverse=True):
        message = message_from_bytes(path.read_bytes(), policy=default_policy)
        if message["To"] == to and "security code" in message["Subject"]:
            body = message.get_body(preferencelist=("plain",)).get_content()
            return re.search(r"security code is (\d{6})", body).group(1)
    raise AssertionError(f"no security code emailed to {to} in {outbox}")


def fill_login(page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log In").click()


@pytest.fixture
def file_outbox(settings, tmp_path) -> Path:
    """Email goes to files in the outbox directory, the local default (var/outbox/)."""
    settings.MAILERS = {"default": {"BACKEND": "portal.outbox.OutboxEmailBackend"}}
    settings.PORTAL_OUTBOX_DIR = tmp_path
    return tmp_path


@pytest.fixture
def axe_current(browser, live_server):
    """axe on what the page shows now, also after a POST that a GET cannot reproduce: the
    page's own HTML, loaded at its own address in a context that may inject axe."""
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(ignore_https_errors=True, bypass_csp=True)

    def check(page) -> None:
        target = context.new_page()
        target.goto(live_server.url + "/help/")  # same origin, so the stylesheet loads
        target.set_content(page.content())
        results = Axe().run(target)
        target.close()
        assert results.response["violations"] == [], results.generate_report()

    yield check
    context.close()


def test_new_device_step_up_register_log_out_and_back_in_without_step_up(
    page, axe_check, make_user, file_outbox
):
    user = make_user(email="dana.rivera@example.com")

    page.goto("/login/")
    heading(page, "Log In")
    for link in ("Forgot username?", "Forgot password?"):
        expect(page.get_by_role("main").get_by_role("link", name=link)).to_be_visible()
    expect(page.get_by_role("main").get_by_role("link", name="Enroll Now")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_attribute("autocomplete", "username webauthn")
    expect(page.get_by_label("Password")).to_have_attribute("autocomplete", "current-password")
    axe_check("/login/")
    fill_login(page, user.username, DEMO_PASSWORD)

    heading(page, "Confirm it\u2019s you")
    expect(page.get_by_role("main")).to_contain_text("We don\u2019t recognize this device")
    axe_check(page)
    page.get_by_label("Email to d***@example.com").check()
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_role("status")).to_contain_text("We sent a security code")
    expect(page.get_by_role("button", name="Send a new code")).to_be_visible()
    axe_check(page)
    question = page.locator('label[for="id_answer"]').inner_text()
    page.get_by_role("textbox", name=question).fill(ANSWERS[question])
    page.get_by_role("textbox", name="Security code").fill(
        code_from_outbox(file_outbox, user.email)
    )
    page.get_by_role("button", name="Continue").click()

    heading(page, "Register this device?")
    axe_check(page)
    page.get_by_role("button", name="Register this device").click()

    heading(page, "My Vehicles")
    axe_check(page)
    cookie = next(c for c in page.context.cookies() if c["name"] == "__Host-device")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.get_by_role("button", name="Log Out").click()
    heading(page, "Log In")
    expect(page.get_by_role("status")).to_contain_text("You have logged out.")
    axe_check(page)

    fill_login(page, user.username, DEMO_PASSWORD)
    heading(page, "My Vehicles")  # registered: no step-up this time
    axe_check(page)


def test_locked_account_still_opens_on_the_registered_device(
    page, browser, live_server, axe_check, axe_current, make_user
):
    user = make_user()
    phone_cookie = registered_device_cookie(user, live_server.url)

    # Someone else, in another browser, types five wrong passwords.
    page.goto("/login/")
    axe_check("/login/")
    for _ in range(4):
        fill_login(page, user.username, "a wrong guess at the password")
        expect(page.get_by_role("alert")).to_contain_text("is not right")
    axe_current(page)
    fill_login(page, user.username, "a wrong guess at the password")
    expect(page.get_by_role("alert")).to_contain_text(LOCK_TEXT)
    expect(page.get_by_role("alert")).to_contain_text("call us")
    axe_current(page)
    fill_login(page, user.username, DEMO_PASSWORD)  # the right password does not open it
    expect(page.get_by_role("alert")).to_contain_text(LOCK_TEXT)
    heading(page, "Log In")

    # The customer's own phone, registered earlier, signs in all the same.
    context = browser.new_context(ignore_https_errors=True, base_url=live_server.url)
    try:
        context.add_cookies([phone_cookie])
        phone = context.new_page()
        phone.goto("/login/")
        fill_login(phone, user.username, DEMO_PASSWORD)
        heading(phone, "My Vehicles")
        axe_check(phone)
    finally:
        context.close()
