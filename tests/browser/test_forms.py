"""Forms after an error, in a real browser: the error summary comes first and takes focus, the
title says "Error: ", and what the customer typed right is still there."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.enrollment.conftest import ANSWERS, PASSWORD, QUESTION_KEYS

pytestmark = pytest.mark.browser

FOCUSED_CLASS = "document.activeElement.className"
FOCUSED_ID = "document.activeElement.id"


def _heading(page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def test_enrollment_step_3_keeps_what_was_right_after_an_error(page, make_customer):
    customer = make_customer(tin_last4="8642", birth_date=date(1985, 4, 12))
    account_number = customer.loan_accounts.get().account_number

    # Step 1, with the date of birth typed as a phone's number pad types it.
    page.goto("/enroll/")
    page.get_by_label("Last 4 digits of SSN or TIN", exact=True).fill("8642")
    page.get_by_label("Date of birth", exact=True).fill("04121985")
    page.get_by_label("Account number or VIN", exact=True).fill(account_number)
    page.get_by_role("button", name="Continue").click()
    _heading(page, "Add your vehicle(s)")
    page.get_by_role("button", name="Continue").click()

    # Step 3: everything right except the confirmation of the password.
    _heading(page, "Create your username and password, and set up your profile")
    page.get_by_label("Username", exact=True).fill("dana.r-2026")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password", exact=True).fill(PASSWORD + " typo")
    for number, (key, answer) in enumerate(zip(QUESTION_KEYS, ANSWERS, strict=True), start=1):
        page.get_by_label(f"Challenge question {number}", exact=True).select_option(key)
        page.get_by_label(f"Answer to challenge question {number}").fill(answer)
    page.get_by_role("button", name="Continue").click()

    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("The two passwords do not match")
    expect(page).to_have_title(re.compile(r"^Error: Enroll, step 3 of 5"))
    # The summary is the first thing in main, above the step indicator and the h1, and has focus.
    assert page.evaluate("document.querySelector('main').firstElementChild.className") == (
        "error-summary"
    )
    assert page.evaluate(FOCUSED_CLASS) == "error-summary"

    # What was right is still there; only the wrong confirmation is empty.
    expect(page.get_by_label("Username", exact=True)).to_have_value("dana.r-2026")
    expect(page.get_by_label("Password", exact=True)).to_have_value(PASSWORD)
    expect(page.get_by_label("Confirm password", exact=True)).to_have_value("")
    for number, (key, answer) in enumerate(zip(QUESTION_KEYS, ANSWERS, strict=True), start=1):
        expect(page.get_by_label(f"Challenge question {number}", exact=True)).to_have_value(key)
        expect(page.get_by_label(f"Answer to challenge question {number}")).to_have_value(answer)

    # The summary's link leads to the field to correct; one more box and the step is done.
    summary.get_by_role("link", name=re.compile("Confirm password")).click()
    assert page.evaluate(FOCUSED_ID) == "id_password2"
    page.keyboard.type(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    _heading(page, "Authorize electronic communications")
    expect(page).to_have_title(re.compile(r"^Enroll, step 4 of 5"))


def test_a_refused_login_focuses_the_summary_not_the_autofocused_username(page):
    page.goto("/login/")
    assert page.evaluate(FOCUSED_ID) == "id_username"  # autofocus, no error yet
    page.get_by_label("Username").fill("nobody-here")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log In").click()
    expect(page).to_have_title(re.compile(r"^Error: Log In \| "))
    expect(page.locator(".error-summary")).to_contain_text("is not right")
    assert page.evaluate(FOCUSED_CLASS) == "error-summary"
