"""Passkeys end to end in Chromium, with its virtual authenticator: added under My Online
Profile, used to log in from another browser (with the button, or from the username's autofill),
refused once removed, and used instead of the step-up on a device the portal does not know.

The virtual authenticator answers a conditional (autofill) request by itself as soon as it holds
a passkey for the site, as if the customer had picked it in the autofill list; tests about the
button therefore turn the autofill request off, or add the passkey only once it is waiting."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from security.models import Passkey, SecurityEvent
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


def without_autofill(page) -> None:
    """The Log In page's script finds no conditional mediation (as in browsers without it)."""
    page.add_init_script(
        "PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);"
    )


def add_a_passkey(page, name: str) -> dict:
    """Adds a passkey under My Online Profile (signed in); returns the authenticator's copy."""
    cdp, authenticator = virtual_authenticator(page)
    open_section(page, "Passkeys")
    page.get_by_label("Passkey name (optional)").fill(name)
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_role("status")).to_contain_text(f"Your passkey {name} was added")
    [credential] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})[
        "credentials"
    ]
    return credential


# Notes each navigator.credentials.get() call in sessionStorage (it outlives the navigation that
# follows a login): whether it was the conditional one, whether the conditional request waiting
# at the time had been aborted, and the error a call ended with.
RECORD_GET_CALLS = """
(() => {
  const get = navigator.credentials.get.bind(navigator.credentials);
  let waiting = null;
  navigator.credentials.get = (options) => {
    const calls = JSON.parse(sessionStorage.getItem("get-calls") || "[]");
    const conditional = options.mediation === "conditional";
    calls.push({conditional: conditional, waitingAborted: waiting ? waiting.aborted : null});
    sessionStorage.setItem("get-calls", JSON.stringify(calls));
    if (conditional) { waiting = options.signal; }
    const index = calls.length - 1;
    const promise = get(options);
    promise.then(() => {}, (e) => {
      const all = JSON.parse(sessionStorage.getItem("get-calls"));
      all[index].error = e.name;
      sessionStorage.setItem("get-calls", JSON.stringify(all));
    });
    return promise;
  };
})();
"""


def passkey_log_in(page) -> None:
    page.goto("/login/")
    page.get_by_role("button", name="Use a passkey").click()


def test_a_passkey_added_in_my_online_profile_logs_in_elsewhere_until_removed(
    page, browser, live_server, axe_check, make_user, live_server_passkeys
):
    user = make_user()
    without_autofill(page)
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
    without_autofill(elsewhere)
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


def test_a_passkey_confirms_it_is_you_on_a_device_the_portal_does_not_know(
    page, browser, live_server, axe_check, make_user, live_server_passkeys
):
    user = make_user()
    log_in(page, user, ANSWERS)
    credential = add_a_passkey(page, "Work phone")

    # A fresh browser on a phone: no registered-device cookie, so the password leads to step-up.
    other = browser.new_context(
        ignore_https_errors=True,
        base_url=live_server.url,
        viewport={"width": 375, "height": 812},
    )
    other.set_default_timeout(10_000)
    phone = other.new_page()
    phone.goto("/login/")
    phone.get_by_label("Username").fill(user.username)
    phone.get_by_label("Password").fill(DEMO_PASSWORD)
    phone.get_by_role("button", name="Log In").click()
    heading(phone, "Confirm it\u2019s you")
    offer = phone.get_by_role("button", name="Use a passkey instead")
    expect(offer).to_be_visible()
    screenshots = Path(__file__).resolve().parents[2] / "var" / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(screenshots / "step-up-passkey-375.png"), full_page=True)
    axe_check(phone)

    # The passkey is on this phone's authenticator too (as a synced passkey would be).
    phone_cdp, phone_authenticator = virtual_authenticator(phone)
    phone_cdp.send(
        "WebAuthn.addCredential",
        {"authenticatorId": phone_authenticator, "credential": credential},
    )
    offer.click()
    heading(phone, "Register this device?")
    phone.get_by_role("button", name="Register this device").click()
    heading(phone, "My Vehicles")
    event = SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.LOGIN_SUCCEEDED)
    assert event.latest("id").detail == "Work phone"
    other.close()


def test_the_usernames_autofill_offers_the_passkey_and_the_button_still_works(
    page, browser, live_server, make_user, live_server_passkeys
):
    user = make_user()
    log_in(page, user, ANSWERS)
    credential = add_a_passkey(page, "Home laptop")

    other = browser.new_context(ignore_https_errors=True, base_url=live_server.url)
    other.set_default_timeout(10_000)
    elsewhere = other.new_page()
    elsewhere.add_init_script(RECORD_GET_CALLS)
    # The page asks for a passkey for the username's autofill as soon as it loads (with no
    # authenticator yet, the request waits: the virtual one would answer or refuse at once)...
    with elsewhere.expect_response("**/login/passkey/options/"):
        elsewhere.goto("/login/")
    username = elsewhere.get_by_label("Username")
    expect(username).to_have_attribute("autocomplete", "username webauthn")
    elsewhere.wait_for_timeout(500)  # the challenge is in the browser's waiting request by now
    # ... and the button, pressed while that request waits, stops it and asks the usual way.
    cdp, authenticator = virtual_authenticator(elsewhere)
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": credential})
    elsewhere.get_by_role("button", name="Use a passkey").click()
    heading(elsewhere, "My Vehicles")
    calls = json.loads(elsewhere.evaluate("sessionStorage.getItem('get-calls')"))
    assert calls == [
        {"conditional": True, "waitingAborted": None, "error": "AbortError"},
        {"conditional": False, "waitingAborted": True},  # aborted before the modal request
    ]

    # Logged out, the Log In page's autofill request finds the passkey (the virtual
    # authenticator picks it as the customer would in the list): no button, no password.
    with elsewhere.expect_response("**/login/passkey/") as posted:
        elsewhere.get_by_role("button", name="Log Out").click()
    assert posted.value.status == 302
    heading(elsewhere, "My Vehicles")
    logins = SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.LOGIN_SUCCEEDED)
    assert [event.detail for event in logins.order_by("id")][-2:] == ["Home laptop"] * 2
    other.close()


def test_a_cancelled_passkey_says_so_and_the_autofill_offers_passkeys_again(page):
    page.add_init_script(RECORD_GET_CALLS)
    with page.expect_response("**/login/passkey/options/"):
        page.goto("/login/")
    page.wait_for_timeout(500)  # the autofill request waits (no authenticator yet)
    # An authenticator whose user verification fails: the customer cancels, in effect.
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": False,
            }
        },
    )
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.locator("[data-passkey-status]")).to_have_text(
        "Logging in with a passkey did not work. Try again, or log in with your username and "
        "password."
    )
    heading(page, "Log In")
    expect(page.get_by_role("button", name="Use a passkey")).to_be_enabled()
    page.wait_for_function("() => JSON.parse(sessionStorage.getItem('get-calls')).length === 3")
    calls = json.loads(page.evaluate("sessionStorage.getItem('get-calls')"))
    assert [call["conditional"] for call in calls] == [True, False, True]
    assert calls[1]["error"] == "NotAllowedError"
