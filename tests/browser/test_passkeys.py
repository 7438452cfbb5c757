"""Passkeys end to end in Chromium, with its virtual authenticator: added under My Online
Profile, used to log in from another browser, refused once removed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from security.models import Passkey
from tests.browser.test_profile import ANSWERS, heading, log_in, log_out, open_section
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def virtual_authenticator(page):
    """A platform authenticator with user verification (a fingerprint that always matches)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def passkey_log_in(page) -> None:
    page.goto("/login/")
    page.get_by_role("button", name="Use a passkey").click()


def test_a_passkey_added_in_my_online_profile_logs_in_elsewhere_until_removed(
    page, browser, live_server, axe_check, make_user, settings
):
    settings.PORTAL_WEBAUTHN_RP_ID = "localhost"
    settings.PORTAL_WEBAUTHN_ORIGINS = [live_server.url]
    user = make_user()
    cdp, authenticator = virtual_authenticator(page)
    log_in(page, user, ANSWERS, register=True)

    open_section(page, "Passkeys")
    heading(page, "Passkeys")
    expect(page.get_by_text("To add a passkey, use a browser")).to_be_hidden()
    axe_check(page)
    page.get_by_label("Passkey name (optional)").fill("Test laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status")).to_contain_text("Your passkey Test laptop was added")
    expect(page.get_by_role("row").filter(has_text="Test laptop")).to_contain_text("Never")
    axe_check(page)
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})[
        "credentials"
    ]
    assert credential["isResidentCredential"] is True
    log_out(page)

    # Another browser holding the same passkey: no username, no password, no step-up.
    other = browser.new_context(ignore_https_errors=True, base_url=live_server.url)
    other.set_default_timeout(10_000)
    elsewhere = other.new_page()
    other_cdp, other_authenticator = virtual_authenticator(elsewhere)
    other_cdp.send(
        "WebAuthn.addCredential",
        {"authenticatorId": other_authenticator, "credential": credential},
    )
    passkey_log_in(elsewhere)
    heading(elsewhere, "My Vehicles")
    assert Passkey.objects.get(user=user).last_used_at is not None
    elsewhere.get_by_role("button", name="Log Out").click()
    heading(elsewhere, "Log In")

    # Removed in the first browser (a registered device: the password is enough).
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log In").click()
    heading(page, "My Vehicles")
    open_section(page, "Passkeys")
    page.get_by_role("button", name=re.compile("^Remove passkey Test laptop")).click()
    expect(page.get_by_role("status")).to_contain_text("The passkey was removed")
    expect(page.get_by_role("main")).to_contain_text("You have no passkeys.")

    passkey_log_in(elsewhere)
    heading(elsewhere, "Log In")
    expect(elsewhere.get_by_role("alert")).to_contain_text("Your passkey was not accepted")
    other.close()


def test_without_webauthn_the_login_page_shows_no_passkey_button(browser, live_server):
    context = browser.new_context(ignore_https_errors=True, base_url=live_server.url)
    page = context.new_page()
    page.add_init_script("delete window.PublicKeyCredential;")
    page.goto("/login/")
    expect(page.get_by_role("button", name="Log In")).to_be_visible()
    expect(page.get_by_role("button", name="Use a passkey")).to_be_hidden()
    context.close()
