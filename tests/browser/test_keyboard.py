"""A whole enrollment with the keyboard alone: from the home page's Enroll Now through the five
steps to Register this device? and My Vehicles. Only page.keyboard acts (Tab and Shift+Tab to
move, typing, Space for check boxes and radio buttons, arrows in a drop-down, Enter to follow a
link or send a form); locators only tell where the focus is and what the page shows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from security.models import RegisteredDevice
from tests.browser.test_enrollment import file_outbox, imported_customer  # noqa: F401 (fixtures)
from tests.browser.test_sign_in import code_from_outbox

pytestmark = pytest.mark.browser

PASSWORD = "meadow lantern copper finch 36"
MOST_TABS = 40  # more stops than any page of the portal has before its last control


def _heading(page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def _focused(locator) -> bool:
    return bool(locator.evaluate("element => element === document.activeElement"))


def _tab_to(page, locator, *, key: str = "Tab") -> None:
    """Presses Tab (or Shift+Tab) until `locator` has the focus: a control the keyboard cannot
    reach fails the test."""
    for _ in range(MOST_TABS):
        page.keyboard.press(key)
        if _focused(locator):
            return
    raise AssertionError(f"{key} never reached {locator}")


def test_enrollment_with_the_keyboard_only(
    page,
    imported_customer,  # noqa: F811
    file_outbox,  # noqa: F811
):
    keyboard = page.keyboard
    second_vin = imported_customer["vins"][1]
    page.goto("/")
    _tab_to(page, page.get_by_role("main").get_by_role("link", name="Enroll Now"))
    keyboard.press("Enter")

    # Step 1: the fields in order, Enter sends the form.
    _heading(page, "Enter your account information")
    _tab_to(page, page.get_by_label("Last 4 digits of SSN or TIN", exact=True))
    keyboard.type("0457")
    keyboard.press("Tab")
    expect(page.get_by_label("Date of birth", exact=True)).to_be_focused()
    keyboard.type("01/23/1991")
    keyboard.press("Tab")
    expect(page.get_by_label("Account number or VIN", exact=True)).to_be_focused()
    keyboard.type("7000000011")
    keyboard.press("Enter")

    # Step 2: Space ticks the second vehicle; Tab and Shift+Tab move past it and back.
    _heading(page, "Add your vehicle(s)")
    second = page.get_by_label(re.compile(rf"Mazda CX-5, VIN ending {second_vin[-4:]}"))
    _tab_to(page, second)
    keyboard.press("Space")
    expect(second).to_be_checked()
    keyboard.press("Tab")
    expect(page.get_by_role("button", name="Continue")).to_be_focused()
    keyboard.press("Shift+Tab")
    expect(second).to_be_focused()
    keyboard.press("Tab")
    keyboard.press("Enter")

    # Step 3: typed credentials; each question picked with the arrow keys, then its answer.
    _heading(page, "Create your username and password, and set up your profile")
    _tab_to(page, page.get_by_label("Username", exact=True))
    for text in ("rosa.keys", PASSWORD, PASSWORD):
        keyboard.type(text)
        keyboard.press("Tab")
    for number in (1, 2, 3):
        question = page.get_by_label(f"Challenge question {number}", exact=True)
        expect(question).to_be_focused()
        for _ in range(number):  # a different question each time
            keyboard.press("ArrowDown")
        expect(question).not_to_have_value("")
        keyboard.press("Tab")
        expect(page.get_by_label(f"Answer to challenge question {number}")).to_be_focused()
        keyboard.type(f"keyboard answer {number}")
        keyboard.press("Tab")
    expect(page.get_by_role("button", name="Continue")).to_be_focused()
    keyboard.press("Enter")

    # Step 4: Space agrees, Enter on Agree and continue.
    _heading(page, "Authorize electronic communications")
    agree = page.get_by_label(re.compile("I authorize .* to send me my account information"))
    _tab_to(page, agree)
    keyboard.press("Space")
    expect(agree).to_be_checked()
    _tab_to(page, page.get_by_role("button", name="Agree and continue"))
    keyboard.press("Enter")

    # Step 5: Space on the email radio button, Enter on Send code, then the code typed.
    _heading(page, "Confirm it\u2019s you")
    email = page.get_by_label("Email to r***@example.com")
    _tab_to(page, email)
    keyboard.press("Space")
    expect(email).to_be_checked()
    keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send code")).to_be_focused()
    keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("We sent a 6-digit code by email")
    _tab_to(page, page.get_by_role("textbox", name="Security code"))
    keyboard.type(code_from_outbox(file_outbox, "rosa.delgado@example.com"))
    keyboard.press("Enter")

    # Signed in: Register this device? answered with the keyboard, then My Vehicles.
    _heading(page, "Register this device?")
    _tab_to(page, page.get_by_role("button", name="Register this device"))
    keyboard.press("Enter")
    _heading(page, "My Vehicles")
    expect(page.get_by_role("status")).to_contain_text("This device is registered")

    user = User.objects.get(username="rosa.keys")
    assert user.check_password(PASSWORD)
    assert user.loan_accounts.count() == 2
    assert RegisteredDevice.objects.filter(user=user).count() == 1
