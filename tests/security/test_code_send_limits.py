"""Limits on sending security codes that hold for every flow: one address gets one code per
resend interval, one owner a few codes an hour, one client IP a few codes an hour. Without them
the contact-change page would text any number as fast as it is posted."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from security.codes import CodeCooldown, CodeSendLimited, code_send
from security.models import OutgoingMessage, SecurityCode
from tests.conftest import DEMO_PASSWORD, HttpsClient
from tests.profile.profile_support import sign_in
from tests.security.concurrency import concurrent_db, run_at_once

pytestmark = pytest.mark.django_db
concurrent_db = concurrent_db  # the fixture, for the test below that uses it

CONTACT = "/my/profile/contact/"
CONFIRM = "/my/profile/contact/confirm/"
TOO_MANY = "We have sent as many security codes as we can for now."
WAIT = re.compile(r"You can ask for a new one in (\d+) seconds\.")


def _number(i: int) -> str:
    # Another area code than make_customer's numbers, so a new number never is the old one.
    return f"+13125550{100 + i}"


def _texts() -> int:
    return OutgoingMessage.objects.filter(channel=OutgoingMessage.Channel.SMS).count()


def _contact_post(client, user, phone: str, **extra):
    return client.post(CONTACT, {"email": user.email, "mobile_phone": phone}, **extra)


# --- The contact-change page ------------------------------------------------------------------------
def test_rapid_contact_changes_to_new_numbers_send_at_most_the_hourly_number(
    client, make_user, settings, sms_outbox
):
    settings.PORTAL_CODE_MAX_PER_HOUR = 10
    user = make_user()
    sign_in(client, user)
    statuses = [_contact_post(client, user, _number(i)) for i in range(12)]
    assert [r.status_code for r in statuses] == [302] * 10 + [200] * 2
    assert _texts() == 10 and len(sms_outbox) == 10
    for refused in statuses[10:]:
        assert TOO_MANY in refused.content.decode()
        assert "call us at" in refused.content.decode()
    # An hour later the customer may change their number again.
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1)):
        sign_in(client, user)
        assert _contact_post(client, user, _number(20)).status_code == 302
    assert _texts() == 11


def test_a_number_another_customer_just_had_a_code_sent_to_must_wait(client, make_user):
    first, second = make_user(), make_user()
    sign_in(client, first)
    assert _contact_post(client, first, _number(1)).status_code == 302
    other = HttpsClient()
    sign_in(other, second)
    response = _contact_post(other, second, _number(1))
    assert response.status_code == 200
    wait = WAIT.search(response.content.decode())
    assert wait and 1 <= int(wait.group(1)) <= 30
    assert _texts() == 1
    # Once the interval has passed, the number can be proven by whoever owns it.
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        sign_in(other, second)
        assert _contact_post(other, second, _number(1)).status_code == 302
    assert _texts() == 2


def test_new_email_and_number_go_together_or_not_at_all(client, make_user):
    user, other = make_user(), make_user()
    code_send(user=other, purpose="login", flow_id="f", channel="sms", destination=_number(2))
    sign_in(client, user)
    response = client.post(CONTACT, {"email": "dana.new@example.org", "mobile_phone": _number(2)})
    assert response.status_code == 200 and WAIT.search(response.content.decode())
    # The email code was undone with the refused text message.
    assert not SecurityCode.objects.filter(user=user).exists()
    assert not OutgoingMessage.objects.filter(destination="dana.new@example.org").exists()


def test_asking_for_new_contact_codes_too_often_says_so(client, make_user, settings):
    settings.PORTAL_CODE_MAX_PER_HOUR = 1
    user = make_user()
    sign_in(client, user)
    assert _contact_post(client, user, _number(3))["Location"] == CONFIRM
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        sign_in(client, user)
        response = client.post("/my/profile/contact/resend/", follow=True)
    assert response.status_code == 200 and TOO_MANY in response.content.decode()
    assert _texts() == 1


# --- Across flows -----------------------------------------------------------------------------------
def test_one_address_waits_out_the_interval_across_flows(client, make_user):
    """A step-up code, then Forgot password? for the same email address: the second waits."""
    user = make_user()
    response = client.post("/login/", {"username": user.username, "password": DEMO_PASSWORD})
    assert response["Location"] == "/login/verify/"
    client.post("/login/verify/", {"action": "send", "channel": "email"})
    assert len(mail.outbox) == 1

    other = HttpsClient()
    account = user.loan_accounts.first().account_number
    identity = {"tin_last4": "1234", "birth_date": "04/12/1985", "reference": account}
    response = other.post("/forgot-password/", {"username": user.username, **identity})
    assert response["Location"] == "/forgot-password/send/"
    response = other.post("/forgot-password/send/", {"channel": "email"})
    assert response.status_code == 200
    assert re.search(r"You can ask for a new one in \d+ seconds\.", response.content.decode())
    assert len(mail.outbox) == 1


def test_addresses_are_compared_in_their_normal_form(make_user):
    user = make_user(email="dana@example.com")
    code_send(user=user, purpose="login", flow_id="a", channel="email")
    with pytest.raises(CodeCooldown):
        code_send(
            user=user,
            purpose="contact",
            flow_id="b",
            channel="email",
            destination=" Dana@EXAMPLE.com",
        )
    code_send(user=user, purpose="login", flow_id="c", channel="sms", destination="+12015550160")
    with pytest.raises(CodeCooldown):
        code_send(
            user=user, purpose="contact", flow_id="d", channel="sms", destination="(201) 555-0160"
        )
    assert SecurityCode.objects.count() == 2


def test_the_hourly_number_counts_every_flow_of_the_owner(make_user, settings):
    settings.PORTAL_CODE_MAX_PER_HOUR = 3
    user = make_user()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for flow_id, purpose in (("a", "login"), ("b", "recovery"), ("c", "contact")):
            code_send(user=user, purpose=purpose, flow_id=flow_id, channel="email")
            clock.shift(timedelta(minutes=1))
        with pytest.raises(CodeSendLimited):
            code_send(user=user, purpose="login", flow_id="d", channel="email")
        # Another owner is not held back by this one's codes.
        code_send(user=make_user(), purpose="login", flow_id="d", channel="email")
        # A rolling hour: once the first code is an hour old, one more may go.
        clock.shift(timedelta(minutes=57))
        code_send(user=user, purpose="login", flow_id="d", channel="email")
        with pytest.raises(CodeSendLimited):
            code_send(user=user, purpose="login", flow_id="e", channel="sms")
    assert SecurityCode.objects.filter(user=user).count() == 4


@pytest.mark.usefixtures("concurrent_db")
def test_parallel_sends_to_one_address_from_different_owners_send_one_code(make_user):
    owners = [make_user() for _ in range(6)]
    pending = list(owners)

    def send() -> str:
        owner = pending.pop()
        try:
            code_send(
                user=owner, purpose="contact", flow_id="f", channel="sms", destination=_number(5)
            )
        except CodeCooldown:
            return "cooldown"
        return "sent"

    assert sorted(run_at_once(6, send)) == ["cooldown"] * 5 + ["sent"]
    assert SecurityCode.objects.count() == 1


# --- Per client IP ----------------------------------------------------------------------------------
def test_codes_sent_for_one_client_ip_are_limited_across_customers(make_user, settings):
    settings.PORTAL_CODE_SEND_IP_RATE = "2/h"
    here, elsewhere = {"REMOTE_ADDR": "203.0.113.7"}, {"REMOTE_ADDR": "198.51.100.9"}
    users = [make_user() for _ in range(4)]
    responses = []
    for i, user in enumerate(users[:3]):
        client = HttpsClient()
        sign_in(client, user)
        responses.append(_contact_post(client, user, _number(30 + i), **here))
    assert [r.status_code for r in responses] == [302, 302, 200]
    assert TOO_MANY in responses[2].content.decode()
    client = HttpsClient()
    sign_in(client, users[3])
    assert _contact_post(client, users[3], _number(40), **elsewhere).status_code == 302
    assert _texts() == 3


# --- Every page that sends a code says why it did not -------------------------------------------
def test_step_up_send_says_too_many_codes(client, make_user, settings):
    settings.PORTAL_CODE_MAX_PER_HOUR = 0
    user = make_user()
    client.post("/login/", {"username": user.username, "password": DEMO_PASSWORD})
    response = client.post("/login/verify/", {"action": "send", "channel": "email"}, follow=True)
    assert response.status_code == 200 and TOO_MANY in response.content.decode()
    assert mail.outbox == []


def test_forgot_password_send_says_too_many_codes(client, make_user, settings):
    settings.PORTAL_CODE_MAX_PER_HOUR = 0
    user = make_user()
    account = user.loan_accounts.first().account_number
    identity = {"tin_last4": "1234", "birth_date": "04/12/1985", "reference": account}
    client.post("/forgot-password/", {"username": user.username, **identity})
    response = client.post("/forgot-password/send/", {"channel": "email"})
    assert response.status_code == 200 and TOO_MANY in response.content.decode()
    assert mail.outbox == []


def test_enrollment_send_says_too_many_codes(client, make_customer, settings):
    from tests.enrollment.conftest import Wizard

    customer = make_customer(tin_last4="8642")
    wizard = Wizard(client, customer)
    wizard.through_consent()
    settings.PORTAL_CODE_MAX_PER_HOUR = 0
    response = client.post("/enroll/confirm/send/", {"channel": "email"}, follow=True)
    assert response.status_code == 200 and TOO_MANY in response.content.decode()
    assert mail.outbox == []
