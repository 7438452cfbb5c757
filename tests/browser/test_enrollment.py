"""A customer imported from the servicing export enrolls from Enroll Now to My Vehicles, with
the code sent to the email on their record."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils.module_loading import import_string
from playwright.sync_api import expect

from accounts.models import Customer, ElectronicConsent, User
from enrollment.flow import SESSION_KEY
from security.models import RegisteredDevice
from tests.browser.test_sign_in import code_from_outbox
from tests.conftest import make_vin

pytestmark = pytest.mark.browser

HEADER = (
    "customer_number,first_name,last_name,tin_last4,birth_date,email,mobile_phone,account_number,"
    "vin,vehicle_year,vehicle_make,vehicle_model,balance,payment_amount,payment_due_date"
)

PASSWORD = "harbor quilt ember sparrow 71"
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


@pytest.fixture
def file_outbox(settings, tmp_path) -> Path:
    """Email goes to files in the outbox directory, the local default (var/outbox/)."""
    settings.MAILERS = {"default": {"BACKEND": "portal.outbox.OutboxEmailBackend"}}
    settings.PORTAL_OUTBOX_DIR = tmp_path
    return tmp_path


def _emails_to(outbox: Path, to: str) -> list:
    messages = [
        message_from_bytes(path.read_bytes(), policy=default_policy)
        for path in sorted(outbox.glob("*-email-*.eml"))
    ]
    return [message for message in messages if message["To"] == to]


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


def test_imported_customer_enrolls_with_the_code_from_the_email_on_record(
    page, axe_check, imported_customer, file_outbox
):
    first_vin, second_vin = imported_customer["vins"]
    page.goto("/")
    page.get_by_role("navigation", name="Account").get_by_role("link", name="Enroll Now").click()

    # Step 1: a date typed day first is refused with the expected form, then the right values
    # pass (dashes between the parts are fine).
    _heading(page, "Enter your account information")
    expect(page.locator('.steps li[aria-current="step"]')).to_contain_text("Step 1")
    axe_check(page)
    page.get_by_label("Last 4 digits of SSN or TIN", exact=True).fill("0457")
    page.get_by_label("Date of birth", exact=True).fill("23/01/1991")
    page.get_by_label("Account number or VIN", exact=True).fill(
        f"{first_vin[:8].lower()} {first_vin[8:]}"
    )
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("as month, day and year")
    page.get_by_label("Last 4 digits of SSN or TIN", exact=True).fill("0457")
    page.get_by_label("Date of birth", exact=True).fill("01-23-1991")
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

    # Step 3: credentials and challenge questions; the contact details are the record's.
    _heading(page, "Create your username and password, and set up your profile")
    axe_check(page)
    expect(page.get_by_role("main")).to_contain_text(
        "uses the email address and mobile number on your loan record"
    )
    expect(page.get_by_label("Email", exact=True)).to_have_count(0)
    expect(page.get_by_label("Mobile phone", exact=True)).to_have_count(0)
    page.get_by_label("Username", exact=True).fill("rosa.d-91")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password", exact=True).fill(PASSWORD)
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
    page.get_by_role("button", name="Agree and continue").click()

    # Step 5: a code to the email on record (the default), shown masked, then typed in.
    _heading(page, "Confirm it\u2019s you")
    expect(page.locator('.steps li[aria-current="step"]')).to_contain_text("Step 5")
    axe_check(page)
    email_choice = page.get_by_label("Email to r***@example.com")
    expect(email_choice).to_be_checked()
    expect(page.get_by_label("Text message to (***) ***-0177")).not_to_be_checked()
    assert User.objects.count() == 0
    page.get_by_role("button", name="Send code").click()
    expect(page.get_by_role("status")).to_contain_text(
        "We sent a 6-digit code by email to r***@example.com"
    )
    expect(page.get_by_role("button", name="Send a new code")).to_be_visible()
    axe_check(page)
    code = code_from_outbox(file_outbox, "rosa.delgado@example.com")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page.get_by_role("textbox", name="Security code").fill(wrong)
    page.get_by_role("button", name="Finish enrollment").click()
    expect(page.locator("#id_code_error")).to_contain_text("That code is not right")
    assert User.objects.count() == 0
    page.get_by_role("textbox", name="Security code").fill(code)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "enrollment-confirm-its-you.png"), full_page=True)
    page.get_by_role("button", name="Finish enrollment").click()

    # Signed in: Register this device?, then My Vehicles.
    _heading(page, "Register this device?")
    expect(page.get_by_role("status")).to_contain_text("you are now logged in")
    axe_check(page)
    page.get_by_role("button", name="Register this device").click()
    _heading(page, "My Vehicles")
    expect(page).to_have_url(re.compile(r"/my/vehicles/$"))
    expect(page.get_by_role("status")).to_contain_text("This device is registered")
    axe_check(page)
    cookie = next(c for c in page.context.cookies() if c["name"] == "__Host-device")
    assert cookie["secure"] and cookie["httpOnly"]

    user = User.objects.get(username="rosa.d-91")
    assert user.check_password(PASSWORD)
    assert (user.email, user.mobile_phone) == ("rosa.delgado@example.com", "+12015550177")
    assert sorted(a.vehicle.vin for a in user.loan_accounts.all()) == sorted(
        [first_vin, second_vin]
    )
    assert ElectronicConsent.objects.filter(user=user).count() == 1
    assert RegisteredDevice.objects.filter(user=user).count() == 1
    subjects = [m["Subject"] for m in _emails_to(file_outbox, "rosa.delgado@example.com")]
    assert any("was set up" in subject for subject in subjects), subjects


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
