"""A support agent signs in with an authenticator code, finds a customer locked out by five
wrong passwords, and unlocks them; every console page visited passes axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import DEMO_PASSWORD, HttpsClient
from tests.support.conftest import STAFF_PASSWORD

pytestmark = pytest.mark.browser


def _current_code(device) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _staff(username: str, group: str):
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User

    user = User.objects.create_user(username, password=STAFF_PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user, TOTPDevice.objects.create(user=user, name="Support console", confirmed=True)


def _sign_in(page, user, device) -> None:
    from portal.conf import portal

    page.goto(f"/{portal.admin_path}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(_current_code(device))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Support console").first).to_be_visible()


def test_agent_signs_in_with_a_code_and_unlocks_a_customer_locked_by_wrong_passwords(
    page, live_server, axe_check, make_user
):
    from portal.conf import portal
    from security.lockout import lock_status
    from support.models import StaffAuditEntry

    customer = make_user(first_name="Robin", last_name="Castellano")
    portal_client = HttpsClient()
    for _ in range(5):
        portal_client.post(
            "/login/", {"username": customer.username, "password": "not the password at all"}
        )
    locked, _ = lock_status(user=customer)
    assert locked

    agent, device = _staff("agent-kim", "Support agent")

    page.goto(f"/{portal.admin_path}")
    expect(page.get_by_role("heading", name="Staff log in")).to_be_visible()
    axe_check(page)
    page.get_by_label("Username").fill(agent.username)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(_current_code(device))
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("link", name="Customer online accounts").first).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Customer online accounts").first.click()
    page.get_by_role("textbox", name="Search").fill("Castellano")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name=customer.username)).to_be_visible()
    axe_check(page)

    page.get_by_role("link", name=customer.username).click()
    expect(page.get_by_role("heading", name="Online account of Robin Castellano")).to_be_visible()
    expect(page.get_by_text("Locked", exact=True)).to_be_visible()
    axe_check(page)

    unlock = page.get_by_role("region", name="Unlock online access")
    unlock.get_by_label("Reason").fill("Caller verified; forgot they changed their password")
    unlock.get_by_role("button", name="Unlock online access").click()

    expect(page.get_by_text(f"Online access unlocked for {customer.username}")).to_be_visible()
    expect(page.get_by_text("Not locked")).to_be_visible()
    axe_check(page)

    assert lock_status(user=customer) == (False, None)
    entry = StaffAuditEntry.objects.get(action="unlocked")
    assert (entry.staff_username, entry.reason) == (
        "agent-kim",
        "Caller verified; forgot they changed their password",
    )
    # The customer's right password is accepted again (this browser is new: step-up follows).
    response = HttpsClient().post(
        "/login/", {"username": customer.username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login/verify/")


def test_supervisor_pages_pass_axe_and_disable_works_without_javascript(
    browser, live_server, axe_check, make_user
):
    from django.utils import dateformat, timezone

    from portal.conf import portal
    from security.models import Passkey, SecurityEvent

    customer = make_user(first_name="Jo", last_name="Marsh")
    event = SecurityEvent.objects.create(user=customer, kind="login_failed", ip="203.0.113.7")
    passkey = Passkey.objects.create(
        user=customer,
        credential_id="c3VwcG9ydC1jb25zb2xlLWNyZWRlbnRpYWwtaWQ",
        public_key=b"\xa5\x01\x02",
        user_handle="aGFuZGxl",
        name="Work laptop",
    )
    added = dateformat.format(timezone.localtime(passkey.created_at), "M j, Y")
    supervisor, device = _staff("supervisor-ana", "Supervisor")
    # The console must work with no JavaScript at all (the CSP allows none inline anyway).
    context = browser.new_context(
        ignore_https_errors=True, base_url=live_server.url, java_script_enabled=False
    )
    page = context.new_page()
    _sign_in(page, supervisor, device)

    page.get_by_role("link", name="Security events").first.click()
    page.get_by_role("link", name="Wrong username or password").first.click()
    expect(page.get_by_role("cell", name=customer.username)).to_be_visible()
    axe_check(page)
    page.goto(f"/{portal.admin_path}security/securityevent/{event.pk}/change/")
    expect(page.get_by_text("203.0.113.7")).to_be_visible()
    axe_check(page)

    page.goto(f"/{portal.admin_path}support/customeraccount/{customer.pk}/change/")
    # The customer's passkeys: names and dates only; one removed with a reason.
    passkeys = page.get_by_role("region", name="Passkeys")
    expect(passkeys.get_by_role("cell", name="Work laptop")).to_be_visible()
    expect(passkeys.get_by_role("cell", name="Never")).to_be_visible()
    assert passkey.credential_id not in page.content()
    axe_check(page)
    page.screenshot(path="var/screenshots/support-console-passkeys.png", full_page=True)
    remove = page.get_by_role("region", name="Remove a passkey")
    remove.get_by_label("Passkey").select_option(label=f"Work laptop (added {added})")
    remove.get_by_label("Reason").fill("Customer lost the laptop")
    remove.get_by_role("button", name="Remove a passkey").click()
    expect(
        page.get_by_text(f"Removed the passkey Work laptop of {customer.username}")
    ).to_be_visible()
    expect(page.get_by_text("No passkeys.")).to_be_visible()
    axe_check(page)
    assert not Passkey.objects.filter(user=customer).exists()

    disable = page.get_by_role("region", name="Disable online access")
    disable.get_by_role("button", name="Disable online access").click()
    expect(
        page.get_by_text("There is a problem")
        .or_(page.get_by_text("This field is required."))
        .first
    ).to_be_visible()
    disable = page.get_by_role("region", name="Disable online access")
    disable.get_by_label("Reason").fill("Customer reported a stolen phone")
    disable.get_by_role("button", name="Disable online access").click()
    expect(page.get_by_text(f"Online access disabled for {customer.username}")).to_be_visible()
    expect(page.get_by_role("region", name="Enable online access")).to_be_visible()
    axe_check(page)

    page.get_by_role("link", name="Full staff audit trail for this customer").click()
    expect(page.get_by_text("Customer reported a stolen phone")).to_be_visible()
    axe_check(page)
    context.close()
