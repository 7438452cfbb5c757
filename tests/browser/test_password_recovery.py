"""Recover a forgotten password end to end in a fresh browser context, with the security code
read from the outbox directory as a customer would read their email."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

NEW_PASSWORD = "violet tractor umbrella quietly 83"


def _newest_email(outbox: Path) -> Message:
    newest = sorted(outbox.glob("*-email-*.eml"))[-1]
    return message_from_bytes(newest.read_bytes())


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def test_customer_recovers_a_forgotten_password(page, axe_check, make_user, settings, tmp_path):
    from accounts.models import User

    settings.MAILERS = {"default": {"BACKEND": "portal.outbox.OutboxEmailBackend"}}
    settings.PORTAL_OUTBOX_DIR = tmp_path
    user = make_user(email="dana@example.com")
    account = user.loan_accounts.first().account_number

    page.goto("/login/")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_role("heading", name="Forgot password?").wait_for()
    axe_check("/forgot-password/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Last 4 digits of SSN or TIN").fill("1234")
    page.get_by_label("Date of birth").fill("04/12/1985")
    page.get_by_label("Account number or VIN").fill(account)
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("heading", name="Get a security code").wait_for()
    axe_check(page)
    assert "d***@example.com" in page.content()
    page.get_by_label("Email to d***@example.com").check()
    page.get_by_role("button", name="Send code").click()

    page.get_by_role("heading", name="Enter your security code").wait_for()
    axe_check(page)
    message = _newest_email(tmp_path)
    assert message["To"] == "dana@example.com"
    code = re.search(r"security code is (\d{6})", _body(message)).group(1)
    page.get_by_label("Security code").fill(code)
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("heading", name="Choose a new password").wait_for()
    axe_check(page)
    page.get_by_label(re.compile(r"^Password:?$")).fill(NEW_PASSWORD)
    page.get_by_label("Confirm password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Reset password").click()

    page.get_by_role("heading", name="Log In").wait_for()
    assert page.url.endswith("/login/")
    assert page.get_by_text("Your password has been reset").is_visible()
    axe_check("/login/")
    user = User.objects.get(pk=user.pk)
    assert user.check_password(NEW_PASSWORD)
    notice = _newest_email(tmp_path)
    assert "password was reset" in notice["Subject"]
    assert "/not-me/" in _body(notice)

    # The new password signs in; this browser is new to the portal, so step-up follows.
    page.get_by_label("Username").fill(user.username)
    page.get_by_label(re.compile(r"^Password:?$")).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log In").click()
    page.get_by_role("heading", name="Confirm it\u2019s you").wait_for()


def test_this_wasnt_me_link_asks_first_then_locks_access(page, axe_check, make_user):
    from security.lockout import hold_active
    from security.notifications import not_me_token_create

    user = make_user()
    path = f"/not-me/{not_me_token_create(user=user)}/"

    page.goto(path)
    page.get_by_role("heading", name="This wasn't me").wait_for()
    axe_check(path)  # a GET, like a mail scanner's: it must change nothing
    assert not hold_active(user=user)
    page.get_by_role("button", name="Lock my online access").click()

    page.get_by_role("heading", name="Online access is locked").wait_for()
    assert hold_active(user=user)
    page.goto(path)
    page.get_by_role("heading", name="This link has already been used").wait_for()
    axe_check(path)
