"""A customer imported from the servicing export enrolls from Enroll Now to the Log In page."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils.module_loading import import_string
from playwright.sync_api import expect

from accounts.models import Customer, ElectronicConsent, User
from enrollment.flow import SESSION_KEY
from tests.conftest import make_vin

pytestmark = pytest.mark.browser

HEADER = (
    "customer_number,first_name,last_name,tin_last4,birth_date,email,mobile_phone,account_number,"
    "vin,vehicle_year,vehicle_make,vehicle_model,balance,payment_amount,payment_due_date"
)

PASSWORD = "harbor quilt ember sparrow 71"


@pytest.fixture
def imported_customer(transactional_db, tmp_path):
    """Writes a two-vehicle customer into a CSV and imports it with the real command."""
    first_vin, second_vin = make_vin(90_001), make_vin(90_002)
    rows = [
        HEADER,
        f"C900001,Rosa,Delgado,0457,1991-01-23,rosa.delgado@example.com,+12015550177,"
        f"7000000011,{first_vin},2022,Subaru,Outback,18250.00,455.20,2026-12-18",
        f"C900001,Rosa,Delgado,0457,1991-01-23,rosa.delgado@example.com,+12015550177,"
        f"7000000029,{second_vin},2020,Mazda,CX-5,9400.75,310.05,2026-12-22",
    ]
    path = tmp_path / "servicing.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    call_command("import_accounts", str(path), stdout=StringIO())
    assert Customer.objects.get(customer_number="C900001").loan_accounts.count() == 2
    return {"vins": (first_vin, second_vin)}


def _heading(page, text):
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def test_imported_customer_enrolls_from_enroll_now_to_log_in(page, axe_check, imported_customer):
    first_vin, second_vin = imported_customer["vins"]
    page.goto("/")
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Enroll Now").click()

    # Step 1: a date with dashes is refused with its own message, then the right values pass.
    _heading(page, "Enter your account information")
    expect(page.locator('.steps li[aria-current="step"]')).to_contain_text("Step 1")
    axe_check(page)
    page.get_by_label("Last 4 digits of SSN or TIN", exact=True).fill("0457")
    page.get_by_label("Date of birth", exact=True).fill("01-23-1991")
    page.get_by_label("Account number or VIN", exact=True).fill(
        f"{first_vin[:8].lower()} {first_vin[8:]}"
    )
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("forward slashes")
    page.get_by_label("Last 4 digits of SSN or TIN", exact=True).fill("0457")
    page.get_by_label("Date of birth", exact=True).fill("01/23/1991")
    page.get_by_role("button", name="Continue").click()

    # Step 2: the verified vehicle is ticked and locked; the second one is added.
    _heading(page, "Add your vehicle(s)")
    expect(page.locator('.steps li[aria-current="step"]')).to_contain_text("Step 2")
    axe_check(page)
    verified = page.get_by_label(re.compile(rf"Subaru Outback, VIN ending {first_vin[-4:]}"))
    expect(verified).to_be_checked()
    expect(verified).to_be_disabled()
    page.get_by_label(re.compile(rf"Mazda CX-5, VIN ending {second_vin[-4:]}")).check()
    page.get_by_role("button", name="Continue").click()

    # Step 3: credentials, contact details prefilled from servicing data, challenge questions.
    _heading(page, "Create your username and password, and set up your profile")
    axe_check(page)
    expect(page.get_by_label("Email", exact=True)).to_have_value("rosa.delgado@example.com")
    expect(page.get_by_label("Mobile phone", exact=True)).to_have_value("+12015550177")
    page.get_by_label("Username", exact=True).fill("rosa.d-91")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password", exact=True).fill(PASSWORD)
    page.get_by_label("Email", exact=True).fill("rosa.new@example.com")
    page.get_by_label("Mobile phone", exact=True).fill("(201) 555-0188")
    for number, (question, answer) in enumerate(
        [
            ("What was the name of your first pet?", "Biscuit"),
            ("In what city did your parents meet?", "Santa Fe"),
            ("What was the first concert you attended?", "The Cure 1992"),
        ],
        start=1,
    ):
        page.get_by_label(f"Challenge question {number}", exact=True).select_option(label=question)
        page.get_by_label(f"Answer to challenge question {number}").fill(answer)
    page.get_by_role("button", name="Continue").click()

    # Step 4: the disclosure; declining explains, then the customer comes back and agrees.
    _heading(page, "Authorize electronic communications")
    axe_check(page)
    page.get_by_role("link", name="I do not agree").click()
    expect(page.get_by_text("Online enrollment needs your consent")).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Review the disclosure again").click()
    page.get_by_label(re.compile("I authorize .* to send me my account information")).check()
    page.get_by_role("button", name="Finish enrollment").click()

    _heading(page, "Log In")
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("status")).to_contain_text("Your enrollment is complete")
    axe_check(page)

    user = User.objects.get(username="rosa.d-91")
    assert user.check_password(PASSWORD)
    assert user.email == "rosa.new@example.com"
    assert user.mobile_phone == "+12015550188"
    assert sorted(a.vehicle.vin for a in user.loan_accounts.all()) == sorted(
        [first_vin, second_vin]
    )
    assert ElectronicConsent.objects.filter(user=user).count() == 1


def _wizard_account_count(page) -> int:
    """How many loan accounts the wizard in this browser's session holds (server side)."""
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")(cookie["value"])
    return len(store[SESSION_KEY]["account_ids"])


def test_first_steps_work_with_the_keyboard_alone_and_without_javascript(
    browser, live_server, imported_customer
):
    context = browser.new_context(
        ignore_https_errors=True, base_url=live_server.url, java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.goto("/enroll/")
        page.get_by_label("Last 4 digits of SSN or TIN", exact=True).focus()
        page.keyboard.type("0457")
        page.keyboard.press("Tab")
        page.keyboard.type("01/23/1991")
        page.keyboard.press("Tab")
        page.keyboard.type("7000000029")
        page.keyboard.press("Enter")
        _heading(page, "Add your vehicle(s)")
        # The verifying vehicle (the Mazda) is locked; Space ticks the other, Enter goes on.
        page.get_by_label(re.compile("Subaru Outback")).focus()
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Continue")).to_be_focused()
        page.keyboard.press("Enter")
        _heading(page, "Create your username and password, and set up your profile")
        assert _wizard_account_count(page) == 2
    finally:
        context.close()
