"""Step-up on an unrecognised device: challenge question and/or security code by policy, then
Register this device?; nobody is signed in before the last step."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from security import two_step
from security.challenge import QUESTIONS
from security.devices import DEVICE_COOKIE
from security.models import RegisteredDevice, SecurityEvent, SignInLock
from signin.flow import FLOW_KEY
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

ANSWERS = dict(zip(list(QUESTIONS)[:3], ["blue", "rex", "paris"], strict=True))
WRONG_ANSWER = "definitely not it"


@pytest.fixture
def user(make_user):
    return make_user()


def start(client, user, **extra):
    response = client.post(
        "/login/", {"username": user.username, "password": DEMO_PASSWORD}, **extra
    )
    assert response["Location"] == "/login/verify/", response.content[:500]
    return client.get("/login/verify/")


def asked_answer(client) -> str:
    return ANSWERS[client.session[FLOW_KEY]["question"]]


def send_code(client, channel="email", **typed):
    """Send code: a button of the one step-up form (what was typed goes along)."""
    return client.post("/login/verify/", {"action": "send", "channel": channel, **typed})


def last_code() -> str:
    message = [m for m in mail.outbox if "security code" in m.subject][-1]
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def verify(client, **data):
    return client.post("/login/verify/", data)


def assert_anonymous(client):
    assert SESSION_KEY not in client.session
    response = client.get("/my/vehicles/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- The page --------------------------------------------------------------------------------------
def test_step_up_page_says_why_and_asks_a_question_and_a_code(client, user):
    response = start(client, user)
    html = response.content.decode()
    assert response.status_code == 200
    assert "We don&rsquo;t recognize this device" in html
    question = QUESTIONS[client.session[FLOW_KEY]["question"]]
    assert question.replace("'", "&#x27;") in html
    # The question is the answer's label, not a hint under it.
    escaped = question.replace("'", "&#x27;")
    assert f'<label for="id_answer">{escaped}</label>' in html
    assert (
        'id="id_answer_helptext"' not in html
        or escaped not in html.split("id_answer_helptext")[1][:300]
    )
    assert re.search(r'<label for="id_code">Security code', html)
    assert 'autocomplete="one-time-code"' in html
    assert "Email to c***@example.com" in html
    assert f"Text message to (***) ***-{user.mobile_phone[-4:]}" in html
    assert "Authenticator app" not in html
    assert ">Send code</button>" in html


def test_step_up_pages_are_not_cached(client, user):
    assert "no-store" in start(client, user)["Cache-Control"]
    assert "no-store" in send_code(client)["Cache-Control"]


def test_question_is_one_of_the_users_and_random(make_user, client):
    from django.test import Client

    seen = set()
    for _ in range(12):
        user = make_user()
        fresh = Client()
        fresh.post("/login/", {"username": user.username, "password": DEMO_PASSWORD}, secure=True)
        seen.add(fresh.session[FLOW_KEY]["question"])
    assert seen <= set(ANSWERS) and len(seen) > 1


def test_the_same_question_comes_back_when_starting_over(client, user):
    start(client, user)
    first = client.session[FLOW_KEY]["question"]
    for _ in range(5):
        start(client, user)
        assert client.session[FLOW_KEY]["question"] == first


def test_without_a_login_in_progress_the_step_up_pages_send_to_log_in(client):
    for url in ("/login/verify/", "/login/device/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/login/"
    assert (
        client.post("/login/verify/", {"action": "send", "channel": "email"})["Location"]
        == "/login/"
    )


# --- question+code (the default) -------------------------------------------------------------------
def test_answer_and_code_lead_to_register_this_device(client, user):
    start(client, user)
    send_code(client)
    response = verify(client, answer=asked_answer(client), code=last_code())
    assert response.status_code == 302 and response["Location"] == "/login/device/"
    assert_anonymous(client)
    page = client.get("/login/device/")
    html = page.content.decode()
    assert "<h1>Register this device?</h1>" in html
    assert ">Register this device</button>" in html and ">Not now</button>" in html
    assert "shared" in html and "password is still needed" in html
    assert "no-store" in page["Cache-Control"]
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.STEP_UP_PASSED, user=user).exists()


def test_register_this_device_signs_in_and_sets_the_device_cookie(client, user):
    start(client, user)
    send_code(client)
    verify(client, answer=asked_answer(client), code=last_code())
    before = client.session.session_key
    response = client.post("/login/device/", {"choice": "register"})
    assert response.status_code == 302 and response["Location"] == "/my/vehicles/"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.session.session_key != before
    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/" and cookie["max-age"] == 180 * 24 * 3600
    device = RegisteredDevice.objects.get(user=user)
    assert device.token_hash != cookie.value
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.DEVICE_REGISTERED).exists()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_SUCCEEDED).exists()
    assert any("device" in m.subject.lower() for m in mail.outbox)  # the new-device email
    # next time: the password is enough
    client.post("/logout/")
    again = client.post("/login/", {"username": user.username, "password": DEMO_PASSWORD})
    assert again["Location"] == "/my/vehicles/"


def test_not_now_signs_in_without_remembering_the_device(client, user):
    start(client, user)
    send_code(client)
    verify(client, answer=asked_answer(client), code=last_code())
    response = client.post("/login/device/", {"choice": "skip"})
    assert response["Location"] == "/my/vehicles/"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert DEVICE_COOKIE not in response.cookies
    assert not RegisteredDevice.objects.exists()


def test_register_page_is_refused_before_step_up_has_passed(client, user):
    start(client, user)
    response = client.post("/login/device/", {"choice": "register"})
    assert response["Location"] == "/login/verify/"
    assert_anonymous(client)
    assert not RegisteredDevice.objects.exists()


def test_right_answer_with_a_wrong_code_leaves_only_the_code_to_enter(client, user):
    start(client, user)
    send_code(client)
    code = last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = verify(client, answer=asked_answer(client), code=wrong)
    assert response.status_code == 200
    page = response.content.decode()
    assert "That security code is not right" in page
    assert 'id="id_answer"' not in page and 'id="id_code"' in page
    assert_anonymous(client)
    assert verify(client, code=code)["Location"] == "/login/device/"


def test_wrong_answer_is_refused_and_counts_as_a_failure(client, user):
    start(client, user)
    send_code(client)
    response = verify(client, answer=WRONG_ANSWER, code=last_code())
    assert response.status_code == 200
    page = response.content.decode()
    assert "That answer does not match" in page and 'id="id_answer"' in page
    assert SignInLock.objects.get().failure_count == 1
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.STEP_UP_FAILED)
    assert event.detail == "Wrong challenge answer"
    assert_anonymous(client)


def test_answers_are_compared_ignoring_case_and_spaces(client, user):
    start(client, user)
    send_code(client)
    answer = "  " + asked_answer(client).upper() + " "
    assert verify(client, answer=answer, code=last_code())["Location"] == "/login/device/"


def test_both_fields_are_required(client, user):
    start(client, user)
    response = verify(client, answer="", code="")
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()


def test_code_from_another_login_attempt_is_refused(client, user):
    start(client, user)
    send_code(client)
    old_code = last_code()
    start(client, user)  # starting over: a new attempt, a new flow id
    response = verify(client, answer=asked_answer(client), code=old_code)
    assert response.status_code == 200
    assert "That security code is not right" in response.content.decode()


def test_code_by_text_message(client, user, sms_outbox):
    start(client, user)
    send_code(client, "sms")
    to, body = sms_outbox[-1]
    assert to == user.mobile_phone
    code = re.search(r"\b(\d{6})\b", body).group(1)
    assert verify(client, answer=asked_answer(client), code=code)["Location"] == "/login/device/"


def test_send_code_keeps_the_answer_typed_and_continue_checks_both(client, user):
    start(client, user)
    answer = asked_answer(client)
    page = send_code(client, answer=answer, code="typed too early")
    html = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert f'value="{answer}"' in html  # the answer is still in its field
    assert "typed too early" not in html  # a code typed before the send is stale
    assert "We sent a security code (email to c***@example.com)" in html
    assert not [
        e for e in SecurityEvent.objects.all() if e.kind == SecurityEvent.Kind.STEP_UP_FAILED
    ]
    response = verify(client, answer=answer, code=last_code())
    assert response["Location"] == "/login/device/"


def test_one_form_with_two_buttons_and_a_code_field_for_backup_codes(client, user):
    html = start(client, user).content.decode()
    # Besides the header's Log Out and the footer's English | Español.
    other_forms = html.count('action="/logout/"') + html.count('class="language-switch"')
    assert html.count("<form") == 1 + other_forms
    assert '<button type="submit" name="action" value="send" class="secondary">Send code' in html
    assert '<button type="submit" name="action" value="continue">Continue' in html
    code_input = re.search(r'<input[^>]*id="id_code"[^>]*>', html).group(0)
    assert 'inputmode="numeric"' not in code_input and "pattern=" not in code_input
    assert 'autocapitalize="off"' in code_input and 'spellcheck="false"' in code_input
    assert 'autocomplete="one-time-code"' in code_input
    # Enter submits with the first button: Send code while no code is there, then Continue.
    assert html.index('value="send"') < html.index('value="continue"')
    html = send_code(client).content.decode()
    assert html.index('value="continue"') < html.index('value="send"')


def test_with_one_contact_on_file_there_is_no_choice_to_make(client, make_user):
    user = make_user(mobile_phone="")
    html = start(client, user).content.decode()
    assert 'name="channel"' not in html
    assert "We will send the code by email to c***@example.com." in html
    sent = client.post("/login/verify/", {"action": "send"}).content.decode()
    assert "We sent a security code (email to c***@example.com)" in sent
    assert verify(client, answer=asked_answer(client), code=last_code())["Location"] == (
        "/login/device/"
    )


def test_send_without_a_code_to_send_checks_nothing_and_asks_for_the_answer(client, user, settings):
    settings.PORTAL_STEP_UP_POLICY = "question"
    start(client, user)
    response = client.post("/login/verify/", {"action": "send", "channel": "email"})
    assert response.status_code == 200 and "Enter your answer." in response.content.decode()
    assert not [m for m in mail.outbox if "security code" in m.subject]


def test_wrong_answer_and_code_are_shown_on_their_fields_with_a_summary(client, user):
    start(client, user)
    send_code(client)
    wrong_code = "000000" if last_code() != "000000" else "111111"
    response = verify(client, answer=WRONG_ANSWER, code=wrong_code)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<div class="error-summary" role="alert"' in html
    assert '<a href="#id_answer">' in html and '<a href="#id_code">' in html
    assert 'id="id_answer_error"' in html and 'id="id_code_error"' in html
    assert WRONG_ANSWER not in html and wrong_code not in html.split("</h1>")[1]
    assert SignInLock.objects.get().failure_count == 2


def test_send_page_says_where_the_code_went_masked(client, user):
    start(client, user)
    html = send_code(client).content.decode()
    assert "We sent a security code (email to c***@example.com)" in html
    assert ">Send a new code</button>" in html
    assert user.email not in html


def test_new_code_within_the_cooldown_is_refused_and_later_replaces_the_old(client, user):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        start(client, user)
        send_code(client)
        first = last_code()
        clock.shift(timedelta(seconds=5))
        html = send_code(client).content.decode()
        assert "You can ask for a new one in 25 seconds" in html
        assert len([m for m in mail.outbox if "security code" in m.subject]) == 1
        clock.shift(timedelta(seconds=26))
        send_code(client)
        second = last_code()
        if first != second:
            refused = verify(client, answer=asked_answer(client), code=first)
            assert refused.status_code == 200 and "not right" in refused.content.decode()
        assert verify(client, code=second)["Location"] == "/login/device/"


def test_code_expires_after_five_minutes(client, user):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        start(client, user)
        send_code(client)
        clock.shift(timedelta(minutes=5, seconds=1))
        response = verify(client, answer=asked_answer(client), code=last_code())
        assert response.status_code == 200
        assert "That security code is not right" in response.content.decode()


def test_a_gateway_failure_is_retried_by_the_worker_not_shown_to_the_customer(
    client, user, settings, sms_outbox
):
    from security.models import OutgoingMessage
    from security.outgoing import deliver_message

    start(client, user)
    settings.PORTAL_SMS_BACKEND = "tests.security.test_codes.BrokenSms"
    html = send_code(client, "sms").content.decode()
    assert "We sent a security code (text message" in html
    message = OutgoingMessage.objects.get(channel="sms")
    assert (message.status, message.last_error) == ("pending", "SmsDeliveryError")
    settings.PORTAL_SMS_BACKEND = "security.sms.LocmemSmsBackend"
    with time_machine.travel(message.next_attempt_at + timedelta(seconds=1)):
        assert deliver_message.call(message.pk) == "sent"
        code = re.search(r"\b(\d{6})\b", sms_outbox[-1][1]).group(1)
        assert verify(client, answer=asked_answer(client), code=code)["Location"] == (
            "/login/device/"
        )


def test_a_code_cannot_be_used_twice(client, user, make_user):
    start(client, user)
    send_code(client)
    code = last_code()
    verify(client, code=code)
    # the code stage passed; a second flow would need its own code
    client.post("/logout/")
    start(client, user)
    refused = verify(client, answer=asked_answer(client), code=code)
    assert refused.status_code == 200 and "not right" in refused.content.decode()


# --- policies --------------------------------------------------------------------------------------
def test_code_policy_asks_for_a_code_only(client, user, settings):
    settings.PORTAL_STEP_UP_POLICY = "code"
    html = start(client, user).content.decode()
    assert 'id="id_answer"' not in html and 'id="id_code"' in html
    send_code(client)
    assert verify(client, code=last_code())["Location"] == "/login/device/"


def test_question_policy_asks_for_the_answer_only(client, user, settings):
    settings.PORTAL_STEP_UP_POLICY = "question"
    html = start(client, user).content.decode()
    assert 'id="id_answer"' in html and 'id="id_code"' not in html
    assert "Send code" not in html
    assert verify(client, answer=asked_answer(client))["Location"] == "/login/device/"
    assert not [m for m in mail.outbox if "security code" in m.subject]


def test_question_policy_escalates_to_a_code_after_a_wrong_answer(client, user, settings):
    settings.PORTAL_STEP_UP_POLICY = "question"
    start(client, user)
    answer = asked_answer(client)
    html = verify(client, answer=WRONG_ANSWER).content.decode()
    assert "That answer does not match" in html
    assert 'id="id_code"' in html and ">Send code</button>" in html
    alone = verify(client, answer=answer)  # not enough any more
    assert alone.status_code == 200 and "There is a problem" in alone.content.decode()
    send_code(client)
    assert verify(client, answer=answer, code=last_code())["Location"] == "/login/device/"


def test_without_challenge_questions_a_code_is_asked(client, user):
    user.challenge_answers.all().delete()
    html = start(client, user).content.decode()
    assert 'id="id_answer"' not in html and 'id="id_code"' in html


def test_questions_reset_by_support_are_not_asked(client, user):
    user.must_reset_challenge_questions = True
    user.save()
    html = start(client, user).content.decode()
    assert 'id="id_answer"' not in html and 'id="id_code"' in html


# --- authenticator app and backup codes ------------------------------------------------------------
def _app_for(user) -> TOTPDevice:
    device = two_step.totp_setup_begin(user=user)
    with time_machine.travel(timezone.now() - timedelta(minutes=2), tick=False):
        assert two_step.totp_setup_confirm(user=user, code=f"{totp(device.bin_key):06d}")
    return TOTPDevice.objects.get(user=user, confirmed=True)


def test_authenticator_app_code_is_accepted(client, user):
    device = _app_for(user)
    html = start(client, user).content.decode()
    assert "Authenticator app" in html
    send_code(client, "app")
    response = verify(client, answer=asked_answer(client), code=f"{totp(device.bin_key):06d}")
    assert response["Location"] == "/login/device/"
    assert not [m for m in mail.outbox if "security code" in m.subject]


def test_a_throttled_app_code_is_told_to_wait_and_not_counted_as_wrong(client, user):
    device = _app_for(user)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        start(client, user)
        right = f"{totp(device.bin_key):06d}"
        wrong = "000000" if right != "000000" else "111111"
        first = verify(client, answer=asked_answer(client), code=wrong).content.decode()
        assert "That security code is not right" in first
        failures = SignInLock.objects.get().failure_count
        clock.shift(timedelta(milliseconds=500))
        page = verify(client, code=right).content.decode()
        assert "Wait 1 second, then enter the code your app shows" in page
        assert "not right" not in page
        assert SignInLock.objects.get().failure_count == failures
        clock.shift(timedelta(seconds=1))
        assert verify(client, code=right)["Location"] == "/login/device/"


def test_backup_code_is_accepted_once(client, user):
    codes = two_step.backup_codes_generate(user=user)
    start(client, user)
    assert verify(client, answer=asked_answer(client), code=codes[0])["Location"] == (
        "/login/device/"
    )
    client.post("/login/device/", {"choice": "skip"})
    client.post("/logout/")
    start(client, user)
    refused = verify(client, answer=asked_answer(client), code=codes[0])
    assert refused.status_code == 200 and "not right" in refused.content.decode()


# --- failures, lock and expiry ---------------------------------------------------------------------
def test_wrong_answers_and_codes_count_with_passwords_toward_the_lock(client, user):
    client.post("/login/", {"username": user.username, "password": "wrong password 12345"})
    client.post("/login/", {"username": user.username, "password": "wrong password 12345"})
    start(client, user)
    send_code(client)
    wrong_code = "000000" if last_code() != "000000" else "111111"
    verify(client, answer=WRONG_ANSWER, code=wrong_code)
    # two passwords, one answer, one code: four; the fifth failure locks
    response = verify(client, answer=WRONG_ANSWER, code=wrong_code)
    assert "Online access is temporarily locked" in response.content.decode()
    assert FLOW_KEY not in client.session
    assert_anonymous(client)
    locked = client.post("/login/", {"username": user.username, "password": DEMO_PASSWORD})
    assert "Online access is temporarily locked" in locked.content.decode()


def test_a_full_login_resets_the_failure_count(client, user):
    for _ in range(4):
        client.post("/login/", {"username": user.username, "password": "wrong password 12345"})
    start(client, user)
    send_code(client)
    verify(client, answer=asked_answer(client), code=last_code())
    client.post("/login/device/", {"choice": "skip"})
    assert SignInLock.objects.get().failure_count == 0


def test_login_in_progress_expires_after_ten_minutes(client, user):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        start(client, user)
        clock.shift(timedelta(minutes=10, seconds=1))
        response = client.get("/login/verify/")
        assert response.status_code == 302 and response["Location"] == "/login/"
        assert "Your login attempt has ended" in client.get("/login/").content.decode()


def test_too_many_step_up_attempts_from_one_ip(client, user, settings):
    settings.PORTAL_LOGIN_IP_RATE = "2/m"  # shared by password, answer and code attempts
    start(client, user)
    assert verify(client).status_code == 200
    response = verify(client, answer=WRONG_ANSWER, code="123456")
    assert response.status_code == 429
    assert SignInLock.objects.get().failure_count == 0


def test_too_many_code_sends_from_one_ip(client, user, settings):
    settings.PORTAL_LOGIN_IP_RATE = "2/m"
    settings.PORTAL_CODE_RESEND_SECONDS = 0
    start(client, user)
    assert send_code(client).status_code == 200
    assert send_code(client).status_code == 200
    assert send_code(client).status_code == 429


def test_events_never_hold_answers_or_codes(client, user):
    start(client, user)
    send_code(client)
    code = last_code()
    verify(client, answer=WRONG_ANSWER, code=code)
    verify(client, answer=asked_answer(client))
    for event in SecurityEvent.objects.all():
        text = f"{event.detail} {event.device}"
        assert code not in text and WRONG_ANSWER not in text
        assert not any(answer in text.lower() for answer in ANSWERS.values())
