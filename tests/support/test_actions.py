"""The console's actions: each a POST with a reason, one transaction, one audit row."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import User
from security.lockout import lock_status, username_key
from security.models import RegisteredDevice, SecurityEvent, SignInLock
from support.models import StaffAuditEntry
from tests.conftest import HttpsClient


def _lock(user, *, failures: int = 5) -> None:
    """The state five wrong passwords leave behind: the username's lock and a locked device."""
    until = timezone.now() + timedelta(minutes=30)
    SignInLock.objects.update_or_create(
        username_key=username_key(user.username),
        defaults={"failure_count": failures, "locked_until": until},
    )
    _device(user, failure_count=failures, locked_until=until)


def _device(user, **fields) -> RegisteredDevice:
    return RegisteredDevice.objects.create(
        user=user,
        token_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
        name="Chrome on Windows",
        **fields,
    )


# --- Unlock -------------------------------------------------------------------------------------
def test_agent_unlocks_a_locked_customer_and_the_audit_row_names_agent_and_reason(
    agent, customer_url, make_user
):
    customer = make_user()
    _lock(customer)
    assert lock_status(user=customer)[0] is True

    response = agent.post(
        customer_url(customer, "unlock"), {"unlock-reason": "Caller verified, mistyped password"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == customer_url(customer)
    assert lock_status(user=customer) == (False, None)
    lock = SignInLock.objects.get(username_key=username_key(customer.username))
    assert lock.failure_count == 0
    device = RegisteredDevice.objects.get(user=customer)
    assert (device.failure_count, device.locked_until) == (0, None)
    entry = StaffAuditEntry.objects.get(action="unlocked")
    assert entry.staff == agent.staff
    assert entry.staff_username == agent.staff.username
    assert entry.customer_id == customer.pk
    assert entry.reason == "Caller verified, mistyped password"
    assert entry.ip == "127.0.0.1"
    assert SecurityEvent.objects.filter(user=customer, kind="unlocked").count() == 1
    page = agent.get(response.headers["Location"]).content.decode()
    assert "Online access unlocked for" in page
    assert "Not locked" in page


def test_a_customer_locked_by_five_wrong_passwords_can_log_in_after_the_unlock(
    agent, customer_url, make_user
):
    from tests.conftest import DEMO_PASSWORD

    customer = make_user()
    portal_client = HttpsClient()
    for _ in range(5):
        portal_client.post("/login/", {"username": customer.username, "password": "wrong" * 4})
    refused = portal_client.post(
        "/login/", {"username": customer.username, "password": DEMO_PASSWORD}
    )
    assert "Online access is temporarily locked" in refused.content.decode()

    agent.post(customer_url(customer, "unlock"), {"unlock-reason": "Caller verified"})

    accepted = HttpsClient().post(
        "/login/", {"username": customer.username, "password": DEMO_PASSWORD}
    )
    # The password is accepted; this client is new to the portal, so step-up follows.
    assert accepted.status_code == 302
    assert accepted.headers["Location"].startswith("/login/verify/")


def test_a_held_customer_shows_as_held_not_locked_until_and_the_unlock_lifts_the_hold(
    agent, customer_url, make_user
):
    from security.lockout import hold_active, hold_place
    from security.models import HoldReason

    customer = make_user()
    _device(customer)
    hold_place(user=customer, reason=HoldReason.NOT_ME)
    page = agent.get(customer_url(customer)).content.decode()
    assert "<strong>Held</strong> (This wasn&#x27;t me)" in page
    assert "<strong>Locked</strong>" not in page and "Not locked" not in page

    agent.post(customer_url(customer, "unlock"), {"unlock-reason": "Caller verified, was them"})

    assert not hold_active(user=customer)
    assert lock_status(user=customer) == (False, None)
    page = agent.get(customer_url(customer)).content.decode()
    assert "Held" not in page and "Not locked" in page


def test_a_temporary_lock_shows_its_end_and_never_as_held(agent, customer_url, make_user):
    customer = make_user()
    _lock(customer)
    page = agent.get(customer_url(customer)).content.decode()
    assert "<strong>Locked</strong> until " in page
    assert "Held" not in page


def test_unlock_emails_the_customer_that_access_was_restored(agent, customer_url, make_user):
    customer = make_user()
    _lock(customer)
    agent.post(customer_url(customer, "unlock"), {"unlock-reason": "Caller verified"})
    assert [m.to for m in mail.outbox] == [[customer.email]]
    assert "restored" in mail.outbox[0].subject
    # The customer's email and events never show the staff member's browser or address.
    assert "127.0.0.1" not in mail.outbox[0].body
    assert SecurityEvent.objects.get(user=customer, kind="unlocked").ip is None


def test_unlock_needs_a_reason(agent, customer_url, make_user):
    customer = make_user()
    _lock(customer)
    response = agent.post(customer_url(customer, "unlock"), {"unlock-reason": "  "})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert lock_status(user=customer)[0] is True
    assert not StaffAuditEntry.objects.filter(action="unlocked").exists()
    assert mail.outbox == []


def test_actions_refuse_get(agent, customer_url, make_user):
    customer = make_user()
    for action in ("unlock", "devices/remove", "questions/require", "verify/identity"):
        assert agent.get(customer_url(customer, action)).status_code == 405


def test_actions_need_the_csrf_token(make_staff, customer_url, make_user):
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    staff = make_staff("agent")
    client = HttpsClient(enforce_csrf_checks=True)
    client.force_login(staff)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=staff).persistent_id
    session.save()
    customer = make_user()
    _lock(customer)
    response = client.post(customer_url(customer, "unlock"), {"unlock-reason": "x"})
    assert response.status_code == 403
    assert lock_status(user=customer)[0] is True


def test_unknown_customer_is_404(agent, console_url):
    assert (
        agent.post(
            console_url("support/customeraccount/999999/unlock/"), {"unlock-reason": "x"}
        ).status_code
        == 404
    )
    assert agent.get(console_url("support/customeraccount/999999/change/")).status_code == 404


# --- Registered devices and challenge questions -------------------------------------------------
def test_agent_removes_every_registered_device(agent, customer_url, make_user):
    customer = make_user()
    other = make_user()
    _device(customer)
    _device(customer)
    _device(other)
    response = agent.post(
        customer_url(customer, "devices/remove"), {"devices-reason": "Lost phone"}
    )
    assert response.status_code == 302
    assert not RegisteredDevice.objects.filter(user=customer).exists()
    assert RegisteredDevice.objects.filter(user=other).count() == 1
    entry = StaffAuditEntry.objects.get(action="devices_removed")
    assert (entry.reason, entry.outcome) == ("Lost phone", "2 devices and 0 passkeys removed")
    page = agent.get(customer_url(customer)).content.decode()
    assert "Removed 2 registered devices and 0 passkeys of" in page
    assert mail.outbox == []  # no passkey removed: no email, as before passkeys


def test_agent_requires_new_challenge_questions(agent, customer_url, make_user):
    customer = make_user()
    response = agent.post(
        customer_url(customer, "questions/require"), {"questions-reason": "Answers may be known"}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.must_reset_challenge_questions is True
    assert StaffAuditEntry.objects.get(action="questions_required").reason == "Answers may be known"


# --- Disable and enable -------------------------------------------------------------------------
def test_disabling_ends_the_customers_session_at_once(supervisor, customer_url, make_user):
    customer = make_user()
    customer_client = HttpsClient()
    customer_client.force_login(customer)
    assert customer_client.get("/my/vehicles/").status_code == 200

    response = supervisor.post(
        customer_url(customer, "disable"), {"disable-reason": "Fraud report"}
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.is_active is False
    signed_out = customer_client.get("/my/vehicles/")
    assert signed_out.status_code == 302
    assert "/login/" in signed_out.headers["Location"]
    assert SecurityEvent.objects.filter(user=customer, kind="disabled").exists()
    # The session is over for good: enabling access again does not bring it back.
    supervisor.post(customer_url(customer, "enable"), {"enable-reason": "Cleared"})
    assert customer_client.get("/my/vehicles/").status_code == 302
    entry = StaffAuditEntry.objects.get(action="disabled")
    assert (entry.staff, entry.reason) == (supervisor.staff, "Fraud report")


def test_supervisor_enables_a_disabled_customer(supervisor, customer_url, make_user):
    customer = make_user()
    supervisor.post(customer_url(customer, "disable"), {"disable-reason": "Fraud report"})
    page = supervisor.get(customer_url(customer)).content.decode()
    assert "Enable online access" in page
    response = supervisor.post(customer_url(customer, "enable"), {"enable-reason": "Cleared"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.is_active is True
    assert SecurityEvent.objects.filter(user=customer, kind="enabled").exists()
    assert StaffAuditEntry.objects.filter(action="enabled", reason="Cleared").exists()


# --- Verify caller ------------------------------------------------------------------------------
def _verify_identity(client, url, tin, birth_date):
    response = client.post(
        url, {"identity-tin_last4": tin, "identity-birth_date": birth_date}, follow=True
    )
    assert response.status_code == 200
    return response.content.decode()


def test_verify_caller_with_tin_and_birth_date_says_match(agent, customer_url, make_user):
    customer = make_user(tin_last4="8765", birth_date=timezone.datetime(1980, 2, 29).date())
    html = _verify_identity(agent, customer_url(customer, "verify/identity"), "8765", "1980-02-29")
    assert "Caller verification: Match" in html
    entry = StaffAuditEntry.objects.get(action="verify_caller")
    assert entry.outcome == "Match"
    assert "8765" not in entry.reason + entry.outcome
    assert "1980" not in entry.reason + entry.outcome


def test_verify_caller_with_a_wrong_value_says_no_match_only(agent, customer_url, make_user):
    customer = make_user(tin_last4="8765", birth_date=timezone.datetime(1980, 2, 29).date())
    url = customer_url(customer, "verify/identity")
    for tin, born in (("8764", "1980-02-29"), ("8765", "1980-03-01")):
        html = _verify_identity(agent, url, tin, born)
        assert "Caller verification: No match" in html
    assert list(
        StaffAuditEntry.objects.filter(action="verify_caller").values_list("outcome", flat=True)
    ) == ["No match", "No match"]


def test_verify_caller_with_a_challenge_answer(agent, customer_url, make_user):
    from security.challenge import QUESTIONS

    customer = make_user()
    url = customer_url(customer, "verify/answer")
    first = next(iter(QUESTIONS))
    right = agent.post(url, {"question-question": first, "question-answer": "  BLUE "}, follow=True)
    assert "Caller verification: Match" in right.content.decode()
    wrong = agent.post(url, {"question-question": first, "question-answer": "rex"}, follow=True)
    assert "Caller verification: No match" in wrong.content.decode()
    reasons = StaffAuditEntry.objects.filter(action="verify_caller").values_list(
        "reason", flat=True
    )
    assert all("blue" not in r.lower() and "rex" not in r.lower() for r in reasons)


def test_verify_caller_offers_only_the_customers_own_questions(agent, customer_url, make_user):
    from security.challenge import QUESTIONS

    customer = make_user()
    not_theirs = list(QUESTIONS)[5]
    response = agent.post(
        customer_url(customer, "verify/answer"),
        {"question-question": not_theirs, "question-answer": "blue"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not StaffAuditEntry.objects.filter(action="verify_caller").exists()


def test_verify_caller_is_limited_per_staff_member_and_customer(
    agent, staff_client, customer_url, make_user
):
    customer = make_user(tin_last4="8765")
    url = customer_url(customer, "verify/identity")
    for _ in range(5):
        assert "No match" in _verify_identity(agent, url, "0000", "1985-04-12")
    html = _verify_identity(agent, url, "8765", "1985-04-12")  # right, but over the limit
    assert "Caller verification refused: too many attempts" in html
    assert "Caller verification: Match" not in html
    assert StaffAuditEntry.objects.filter(action="verify_limited", staff=agent.staff).count() == 1
    # Another customer, or another agent, is counted separately.
    other = make_user(tin_last4="8765")
    assert "Match" in _verify_identity(
        agent, customer_url(other, "verify/identity"), "8765", "1985-04-12"
    )
    colleague = staff_client("agent")
    assert "Caller verification: Match" in _verify_identity(colleague, url, "8765", "1985-04-12")


@pytest.mark.parametrize("field", ["identity-tin_last4", "identity-birth_date"])
def test_verify_caller_needs_both_identity_values(agent, customer_url, make_user, field):
    customer = make_user()
    data = {"identity-tin_last4": "1234", "identity-birth_date": "1985-04-12", field: ""}
    response = agent.post(customer_url(customer, "verify/identity"), data)
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert (
        not StaffAuditEntry.objects.exists()
        or not StaffAuditEntry.objects.filter(action="verify_caller").exists()
    )


# --- Looking is recorded too --------------------------------------------------------------------
def test_opening_a_customer_page_is_recorded_once_per_half_hour(
    agent, customer_url, make_user, settings
):
    import time_machine

    settings.PORTAL_SESSION_IDLE_SECONDS = 60 * 60

    customer = make_user()
    agent.get(customer_url(customer))
    agent.get(customer_url(customer))
    assert StaffAuditEntry.objects.filter(action="viewed", customer=customer).count() == 1
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        agent.get(customer_url(customer))
    assert StaffAuditEntry.objects.filter(action="viewed", customer=customer).count() == 2


def test_the_customer_page_shows_their_language_in_english(agent, customer_url, make_user):
    customer = make_user()
    User.objects.filter(pk=customer.pk).update(language="es")

    page = agent.get(customer_url(customer), headers={"Accept-Language": "es"})

    html = page.content.decode()
    assert '<tr><th scope="row">Language</th><td>Español</td></tr>' in html
    assert page["Content-Language"] == "en"  # the console itself stays in English
