"""Outgoing messages in the support console: whether a customer's code or email went out and why
not, read-only, the address masked, the body (which may hold a code) never shown."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from security.codes import code_send
from security.models import OutgoingMessage
from security.outgoing import deliver_message

pytestmark = pytest.mark.django_db

CHANGELIST = "security/outgoingmessage/"


@pytest.fixture
def failed_sms(make_user, settings, sms_outbox):
    """A text message with a security code that failed all five attempts (the first in the
    request's delivery, four retries by the worker)."""
    user = make_user(mobile_phone="+12015550177")
    settings.PORTAL_SMS_BACKEND = "tests.security.test_codes.BrokenSms"
    code_send(user=user, purpose="login", flow_id="f", channel="sms")
    message = OutgoingMessage.objects.get()
    while message.status == OutgoingMessage.Status.PENDING:
        with time_machine.travel(message.next_attempt_at + timedelta(seconds=1)):
            deliver_message.call(message.pk)
        message.refresh_from_db()
    assert message.status == OutgoingMessage.Status.FAILED and message.attempts == 5
    # The code, as the customer would have received it: the same template with a known code.
    settings.PORTAL_SMS_BACKEND = "security.sms.LocmemSmsBackend"
    with time_machine.travel(message.next_attempt_at):  # past the number's resend interval
        code_send(user=user, purpose="login", flow_id="g", channel="sms")
    code = re.search(r"\b(\d{6})\b", sms_outbox[-1][1]).group(1)
    return message, code


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_staff_see_a_failed_delivery_with_its_reason(staff_client, console_url, failed_sms, role):
    response = staff_client(role).get(console_url(CHANGELIST) + "?status__exact=failed")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Failed" in html
    assert "SmsDeliveryError" in html
    assert "(***) ***-0177" in html
    assert ">5<" in html  # attempts


def test_the_console_never_shows_a_body_a_code_or_a_whole_address(
    supervisor, console_url, failed_sms
):
    message, code = failed_sms
    delivered = OutgoingMessage.objects.exclude(pk=message.pk).get()
    pages = [
        supervisor.get(console_url(CHANGELIST)).content.decode(),
        supervisor.get(console_url(f"{CHANGELIST}{message.pk}/change/")).content.decode(),
        supervisor.get(console_url(f"{CHANGELIST}{delivered.pk}/change/")).content.decode(),
    ]
    for html in pages:
        assert "security code" not in html.lower()
        assert code not in html
        assert "5550177" not in html and "2015550177" not in html
    assert "Sent" in pages[0] and "Text message" in pages[0]


def test_nobody_adds_changes_or_deletes_a_message(supervisor, console_url, failed_sms):
    message, _ = failed_sms
    assert supervisor.get(console_url(f"{CHANGELIST}add/")).status_code == 403
    assert supervisor.post(console_url(f"{CHANGELIST}{message.pk}/delete/")).status_code == 403
    page = supervisor.get(console_url(f"{CHANGELIST}{message.pk}/change/")).content.decode()
    assert 'name="_save"' not in page
    assert OutgoingMessage.objects.filter(pk=message.pk).exists()
