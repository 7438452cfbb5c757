"""Security codes: 6 digits, HMAC only, 5 minutes, single use (also in parallel), bound to the
flow, void after 5 wrong entries or once a newer code is sent, cool-down between sends."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from security.codes import (
    Channel,
    CodeCooldown,
    CodeDeliveryError,
    channel_choice_label,
    channels_on_file,
    code_check,
    code_send,
    mask_email,
    mask_phone,
)
from security.models import OutgoingMessage, SecurityCode, SecurityEvent
from tests.security.concurrency import concurrent_db, run_at_once

pytestmark = pytest.mark.django_db
concurrent_db = concurrent_db  # the fixture, for the tests below that use it


def _sent_code() -> str:
    match = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def _send(user, flow_id="flow-1", channel="email", purpose="login"):
    code_send(user=user, purpose=purpose, flow_id=flow_id, channel=channel)
    return _sent_code() if channel == "email" else None


def test_code_is_six_digits_emailed_and_only_its_hmac_is_stored(make_user):
    user = make_user()
    row = code_send(user=user, purpose="login", flow_id="flow-1", channel="email")
    code = _sent_code()
    assert mail.outbox[-1].to == [user.email]
    assert len(code) == 6 and code.isdigit()
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert row.expires_at - row.created_at == timedelta(minutes=5)
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.CODE_SENT)
    assert event.user == user and code not in event.detail


def test_code_can_go_by_text_message_to_the_mobile_on_file(make_user, sms_outbox):
    user = make_user(mobile_phone="+12015550199")
    code_send(user=user, purpose="login", flow_id="f", channel="sms")
    to, body = sms_outbox[-1]
    code = re.search(r"\b(\d{6})\b", body).group(1)
    assert to == "+12015550199"
    assert code_check(user=user, purpose="login", flow_id="f", code=code)


def test_a_contact_change_sends_to_the_new_address(make_user):
    user = make_user()
    code_send(
        user=user, purpose="contact", flow_id="c", channel="email", destination="new@example.com"
    )
    assert mail.outbox[-1].to == ["new@example.com"]


def test_the_authenticator_app_is_a_channel_no_code_is_sent_by(make_user):
    user = make_user()
    with pytest.raises(ValueError):
        code_send(user=user, purpose="login", flow_id="f", channel=Channel.APP)
    assert mail.outbox == [] and not SecurityCode.objects.exists()
    assert {value for value, _ in SecurityCode._meta.get_field("channel").choices} == {
        Channel.EMAIL,
        Channel.SMS,
    }


def test_channels_on_file_and_how_they_read_on_a_form(make_user):
    user = make_user(email="dana@example.com", mobile_phone="+12015550199")
    assert channels_on_file(user) == [Channel.EMAIL, Channel.SMS]
    user.mobile_phone = ""
    assert channels_on_file(user) == [Channel.EMAIL]
    assert [channel.value for channel in Channel] == ["email", "sms", "app"]  # what forms post
    labels = {
        channel: channel_choice_label(channel, email="dana@example.com", phone="+12015550199")
        for channel in Channel
    }
    assert labels == {
        Channel.EMAIL: "Email to d***@example.com",
        Channel.SMS: "Text message to (***) ***-0199",
        Channel.APP: "Authenticator app",
    }


def test_right_code_passes_once_only(make_user):
    user = make_user()
    code = _send(user)
    assert code_check(user=user, purpose="login", flow_id="flow-1", code=code) is True
    assert code_check(user=user, purpose="login", flow_id="flow-1", code=code) is False


def test_code_is_bound_to_its_flow_purpose_and_user(make_user):
    user, other = make_user(), make_user()
    code = _send(user)
    assert not code_check(user=user, purpose="login", flow_id="flow-2", code=code)
    assert not code_check(user=user, purpose="recovery", flow_id="flow-1", code=code)
    assert not code_check(user=other, purpose="login", flow_id="flow-1", code=code)
    assert code_check(user=user, purpose="login", flow_id="flow-1", code=code)


def test_code_expires_after_five_minutes(make_user):
    user = make_user()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        code = _send(user)
        clock.shift(timedelta(minutes=5, seconds=1))
        assert code_check(user=user, purpose="login", flow_id="flow-1", code=code) is False


def test_code_still_works_just_before_expiry(make_user):
    user = make_user()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        code = _send(user)
        clock.shift(timedelta(minutes=4, seconds=59))
        assert code_check(user=user, purpose="login", flow_id="flow-1", code=code) is True


def test_code_is_void_after_five_wrong_entries(make_user):
    user = make_user()
    code = _send(user)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert not code_check(user=user, purpose="login", flow_id="flow-1", code=wrong)
    assert code_check(user=user, purpose="login", flow_id="flow-1", code=code) is False
    assert SecurityCode.objects.get().voided_at is not None


def test_four_wrong_entries_leave_the_code_usable(make_user):
    user = make_user()
    code = _send(user)
    for _ in range(4):
        code_check(user=user, purpose="login", flow_id="flow-1", code="000000x")
    assert code_check(user=user, purpose="login", flow_id="flow-1", code=code) is True


def test_older_code_is_void_once_a_newer_one_is_sent(make_user):
    user = make_user()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        old = _send(user)
        clock.shift(timedelta(seconds=31))
        new = _send(user)
        if old != new:
            assert code_check(user=user, purpose="login", flow_id="flow-1", code=old) is False
        assert code_check(user=user, purpose="login", flow_id="flow-1", code=new) is True
    assert SecurityCode.objects.exclude(used_at__isnull=False).get().voided_at is not None


def test_resend_within_the_cooldown_is_refused(make_user):
    user = make_user()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        _send(user)
        clock.shift(timedelta(seconds=10))
        with pytest.raises(CodeCooldown) as refused:
            _send(user)
        assert refused.value.seconds_left == 20
        clock.shift(timedelta(seconds=20))
        _send(user)
    assert len(mail.outbox) == 2


def test_the_flow_cooldown_is_per_flow_and_the_address_has_its_own(make_user, sms_outbox):
    user = make_user()
    _send(user, flow_id="a")
    _send(user, flow_id="b", channel="sms")  # another flow, another address: sent
    with pytest.raises(CodeCooldown):
        _send(user, flow_id="c")  # another flow, but the address of flow a
    assert len(mail.outbox) == 1 and len(sms_outbox) == 1


def test_a_provider_failure_is_not_the_requests_business(make_user, settings):
    """The code is queued with the request's transaction and sent by the worker: a mail server
    that fails does not fail the send (the worker retries it), and the newer code is the live
    one as after any send."""
    user = make_user()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        old = _send(user)
        clock.shift(timedelta(seconds=31))
        settings.MAILERS = {"default": {"BACKEND": "tests.security.test_codes.BrokenBackend"}}
        code_send(user=user, purpose="login", flow_id="flow-1", channel="email")
        assert code_check(user=user, purpose="login", flow_id="flow-1", code=old) is False
    assert SecurityCode.objects.count() == 2
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.CODE_SENT).count() == 2
    waiting = OutgoingMessage.objects.get(status=OutgoingMessage.Status.PENDING)
    assert (waiting.channel, waiting.attempts, waiting.last_error) == ("email", 1, "OSError")


def test_an_sms_gateway_failure_leaves_the_text_message_to_be_retried(make_user, settings):
    user = make_user()
    settings.PORTAL_SMS_BACKEND = "tests.security.test_codes.BrokenSms"
    code_send(user=user, purpose="login", flow_id="f", channel="sms")
    assert SecurityCode.objects.count() == 1
    waiting = OutgoingMessage.objects.get()
    assert (waiting.status, waiting.attempts, waiting.last_error) == (
        "pending",
        1,
        "SmsDeliveryError",
    )


def test_the_code_and_its_message_roll_back_together(make_user):
    from django.db import transaction

    user = make_user()
    with pytest.raises(RuntimeError), transaction.atomic():
        code_send(user=user, purpose="login", flow_id="f", channel="email")
        raise RuntimeError("the caller's change fails after the send")
    assert not SecurityCode.objects.exists() and not OutgoingMessage.objects.exists()


def test_no_mobile_on_file_is_a_delivery_error(make_user):
    user = make_user(mobile_phone="")
    with pytest.raises(CodeDeliveryError):
        code_send(user=user, purpose="login", flow_id="f", channel="sms")


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("mail server unreachable")


class BrokenSms:
    def send(self, to, body):
        raise RuntimeError("gateway down")


def test_masks_show_enough_to_recognise_only():
    assert mask_email("dana@example.com") == "d***@example.com"
    assert mask_phone("+12015550123") == "(***) ***-0123"


@pytest.mark.usefixtures("concurrent_db")
def test_parallel_submissions_of_one_code_pass_once(make_user):
    """Eight threads submit the right code at once: exactly one passes (conditional UPDATE)."""
    user = make_user()
    code = _send(user)
    results = run_at_once(
        8, lambda: code_check(user=user, purpose="login", flow_id="flow-1", code=code)
    )
    assert sorted(results) == [False] * 7 + [True]


@pytest.mark.usefixtures("concurrent_db")
def test_parallel_wrong_entries_void_the_code_after_exactly_five(make_user):
    user = make_user()
    code = _send(user)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    run_at_once(8, lambda: code_check(user=user, purpose="login", flow_id="flow-1", code=wrong))
    row = SecurityCode.objects.get()
    assert row.voided_at is not None and row.wrong_attempts >= 5
    assert code_check(user=user, purpose="login", flow_id="flow-1", code=code) is False


@pytest.mark.usefixtures("concurrent_db")
def test_parallel_sends_respect_the_cooldown(make_user):
    user = make_user()

    def send() -> str:
        try:
            code_send(user=user, purpose="login", flow_id="flow-1", channel="email")
        except CodeCooldown:
            return "cooldown"
        return "sent"

    assert sorted(run_at_once(6, send)) == ["cooldown"] * 5 + ["sent"]
    assert SecurityCode.objects.count() == 1


# --- Codes of a customer who is enrolling (no online account yet) ---------------------------------
def test_code_of_an_enrolling_customer_goes_to_the_email_on_their_record(make_customer):
    customer = make_customer(email="rosa@example.com")
    row = code_send(customer=customer, purpose="enrollment", flow_id="wizard-1", channel="email")
    code = _sent_code()
    assert mail.outbox[-1].to == ["rosa@example.com"]
    assert "to finish setting up online access" in mail.outbox[-1].body
    assert (row.user, row.customer, row.destination) == (None, customer, "rosa@example.com")
    assert code not in row.code_hash
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.CODE_SENT)
    assert event.user is None and code not in event.detail
    assert code_check(customer=customer, purpose="enrollment", flow_id="wizard-1", code=code)
    assert not code_check(customer=customer, purpose="enrollment", flow_id="wizard-1", code=code)


def test_code_of_an_enrolling_customer_can_go_to_the_mobile_on_their_record(
    make_customer, sms_outbox
):
    customer = make_customer(mobile_phone="+12015550177")
    code_send(customer=customer, purpose="enrollment", flow_id="w", channel="sms")
    to, body = sms_outbox[-1]
    assert to == "+12015550177" and mail.outbox == []
    code = re.search(r"\b(\d{6})\b", body).group(1)
    assert code_check(customer=customer, purpose="enrollment", flow_id="w", code=code)


def test_customer_code_is_bound_to_its_customer_and_flow(make_customer, make_user):
    customer, other = make_customer(), make_customer()
    code_send(customer=customer, purpose="enrollment", flow_id="w", channel="email")
    code = _sent_code()
    user = make_user()
    assert not code_check(customer=other, purpose="enrollment", flow_id="w", code=code)
    assert not code_check(customer=customer, purpose="enrollment", flow_id="x", code=code)
    assert not code_check(user=user, purpose="enrollment", flow_id="w", code=code)
    assert code_check(customer=customer, purpose="enrollment", flow_id="w", code=code)


def test_a_code_belongs_to_a_user_or_a_customer_never_both_or_neither(make_user):
    user = make_user()
    with pytest.raises(ValueError):
        code_send(user=user, customer=user.customer, purpose="login", flow_id="f", channel="email")
    with pytest.raises(ValueError):
        code_send(purpose="login", flow_id="f", channel="email")
    with pytest.raises(ValueError):
        code_check(purpose="login", flow_id="f", code="123456")
    assert mail.outbox == [] and not SecurityCode.objects.exists()


def test_customer_code_respects_the_cooldown_and_max_attempts(make_customer):
    customer = make_customer()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        code_send(customer=customer, purpose="enrollment", flow_id="w", channel="email")
        code = _sent_code()
        clock.shift(timedelta(seconds=10))
        with pytest.raises(CodeCooldown):
            code_send(customer=customer, purpose="enrollment", flow_id="w", channel="email")
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _ in range(5):
            assert not code_check(customer=customer, purpose="enrollment", flow_id="w", code=wrong)
        assert not code_check(customer=customer, purpose="enrollment", flow_id="w", code=code)
    assert SecurityCode.objects.get().voided_at is not None
