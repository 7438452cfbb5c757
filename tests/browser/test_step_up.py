"""Confirm it's you on an unregistered device, as one form: the answer typed before Send code
is still there after it, and one Continue checks the answer and the code together; also with
the keyboard alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_sign_in import ANSWERS, code_from_outbox, fill_login, heading
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def outbox(settings, tmp_path) -> Path:
    """Email goes to files in a directory, read back as a mail client would."""
    settings.MAILERS = {"default": {"BACKEND": "portal.outbox.OutboxEmailBackend"}}
    settings.PORTAL_OUTBOX_DIR = tmp_path
    return tmp_path


def _to_step_up(page, user) -> str:
    """Logs in with the password on this fresh (unregistered) browser; returns the question."""
    page.goto("/login/")
    fill_login(page, user.username, DEMO_PASSWORD)
    heading(page, "Confirm it\u2019s you")
    return page.locator('label[for="id_answer"]').inner_text()


def test_the_answer_survives_send_code_and_continue_checks_it_with_the_code(
    page, axe_check, make_user, outbox
):
    user = make_user(email="dana.rivera@example.com")
    question = _to_step_up(page, user)
    answer = page.get_by_role("textbox", name=question)  # the question is the field's label
    axe_check(page)
    answer.fill(ANSWERS[question])
    page.get_by_label("Email to d***@example.com").check()
    page.get_by_role("button", name="Send code").click()

    expect(page.get_by_role("status")).to_contain_text("We sent a security code")
    expect(answer).to_have_value(ANSWERS[question])
    expect(page.get_by_role("button", name="Send a new code")).to_be_visible()
    axe_check(page)
    page.get_by_role("textbox", name="Security code").fill(code_from_outbox(outbox, user.email))
    page.get_by_role("button", name="Continue").click()

    heading(page, "Register this device?")


def test_step_up_with_the_keyboard_only(page, make_user, outbox):
    user = make_user(email="dana.rivera@example.com")
    question = _to_step_up(page, user)
    keyboard = page.keyboard

    expect(page.get_by_role("textbox", name=question)).to_be_focused()
    keyboard.type(ANSWERS[question])
    keyboard.press("Tab")  # to the channel choice (email, the first, is chosen)
    expect(page.get_by_label("Email to d***@example.com")).to_be_focused()
    keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send code")).to_be_focused()
    keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("We sent a security code")
    expect(page.get_by_role("textbox", name=question)).to_have_value(ANSWERS[question])
    code = page.get_by_role("textbox", name="Security code")
    expect(code).to_be_focused()
    keyboard.type(code_from_outbox(outbox, user.email))
    keyboard.press("Enter")  # the form's first button is Continue now that a code was sent

    heading(page, "Register this device?")
