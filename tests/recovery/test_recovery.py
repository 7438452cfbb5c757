"""Forgot username? and Forgot password?: identity check, masked destinations, a security code,
a new password; every session and device of the user ends; nothing reveals which usernames
exist; identity data never leaves step 1."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import User
from recovery.flow import SESSION_KEY
from security.lockout import attempt_reserve, counter_for, lock_status
from security.models import RegisteredDevice, SecurityEvent, SignInLock
from security.notifications import not_me_token_create
from tests.conftest import DEMO_PASSWORD, HttpsClient

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet tractor umbrella quietly 83"
NOT_VERIFIED = "We couldn&#x27;t verify your information."
TIN, DOB = "1234", "04/12/1985"


def _identity(user, **overrides):
    data = {
        "tin_last4": TIN,
        "birth_date": DOB,
        "reference": user.loan_accounts.first().account_number,
    }
    return {**data, **overrides}


def _code(message_body: str) -> str:
    return re.search(r"\b(\d{6})\b", message_body).group(1)


def _verify(client, user, **overrides):
    return client.post(
        "/forgot-password/", {"username": user.username, **_identity(user), **overrides}
    )


def _reach_code(client, user, channel="email"):
    assert _verify(client, user)["Location"] == "/forgot-password/send/"
    response = client.post("/forgot-password/send/", {"channel": channel})
    assert response.status_code == 302 and response["Location"] == "/forgot-password/code/"


def _reach_new_password(client, user):
    _reach_code(client, user)
    response = client.post("/forgot-password/code/", {"code": _code(mail.outbox[-1].body)})
    assert response["Location"] == "/forgot-password/new/"


def _reset(client, user, password=NEW_PASSWORD):
    _reach_new_password(client, user)
    return client.post("/forgot-password/new/", {"password1": password, "password2": password})


# --- Forgot username ------------------------------------------------------------------------------
def test_forgot_username_emails_the_username_and_shows_the_address_masked(client, make_user):
    user = make_user(username="dana.rivera", email="dana@example.com")
    response = client.post("/forgot-username/", _identity(user), follow=True)

    assert response.redirect_chain[-1][0] == "/forgot-username/sent/"
    html = response.content.decode()
    assert "d***@example.com" in html and "dana@example.com" not in html
    assert "dana.rivera" not in html  # only the mailbox's owner learns it
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["dana@example.com"]
    assert "dana.rivera" in mail.outbox[0].body
    assert "/not-me/" in mail.outbox[0].body
    assert SecurityEvent.objects.filter(
        user=user, kind=SecurityEvent.Kind.RECOVERY_REQUESTED
    ).exists()


def test_forgot_username_works_with_the_vin_too(client, make_user):
    user = make_user()
    vin = user.loan_accounts.first().vehicle.vin
    response = client.post("/forgot-username/", _identity(user, reference=vin.lower()))
    assert response["Location"] == "/forgot-username/sent/"


@pytest.mark.parametrize(
    "wrong", [{"tin_last4": "9999"}, {"birth_date": "04/13/1985"}, {"reference": "0000000000"}]
)
def test_forgot_username_mismatch_gives_one_message_naming_no_field(client, make_user, wrong):
    user = make_user()
    response = client.post("/forgot-username/", _identity(user, **wrong))

    assert response.status_code == 200
    html = response.content.decode()
    assert NOT_VERIFIED in html
    assert "field--error" not in html  # no single field is blamed
    assert mail.outbox == []


def test_forgot_username_for_a_customer_not_enrolled_says_enroll(client, make_customer):
    customer = make_customer()
    response = client.post(
        "/forgot-username/",
        {
            "tin_last4": TIN,
            "birth_date": DOB,
            "reference": customer.loan_accounts.first().account_number,
        },
    )
    html = response.content.decode()
    assert "You don't have an online account yet" in html
    assert 'href="/enroll/"' in html
    assert mail.outbox == []


def test_forgot_username_after_three_failures_for_one_account_asks_for_a_code(client, make_user):
    """The details alone no longer suffice (tests/recovery/test_paused_loan.py: the code to the
    contact on record lets the customer through)."""
    user = make_user()
    for _ in range(3):
        client.post("/forgot-username/", _identity(user, tin_last4="9999"))
    response = client.post("/forgot-username/", _identity(user))
    assert response.status_code == 302 and response["Location"] == "/forgot-username/code/"
    assert not any(user.username in message.body for message in mail.outbox)


def test_forgot_username_is_rate_limited_per_ip(client, make_user, settings):
    settings.PORTAL_VERIFY_IP_RATE = "2/m"
    user = make_user()
    client.post("/forgot-username/", _identity(user, tin_last4="9999"))
    client.post("/forgot-username/", _identity(user, tin_last4="9999"))
    assert client.post("/forgot-username/", _identity(user)).status_code == 429
    assert mail.outbox == []


def test_identity_data_is_not_sent_back_after_an_error(client, make_user):
    user = make_user()
    html = client.post("/forgot-username/", _identity(user, tin_last4="9876")).content.decode()
    assert "9876" not in html


# --- Forgot password: the whole way ---------------------------------------------------------------
def test_password_reset_sets_the_new_password_and_sends_to_log_in(client, make_user):
    user = make_user()
    response = _reset(client, user)

    assert response.status_code == 302 and response["Location"] == "/login/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password(DEMO_PASSWORD)
    page = client.get("/login/").content.decode()
    assert "Your password has been reset" in page
    kinds = set(SecurityEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert {
        SecurityEvent.Kind.RECOVERY_REQUESTED,
        SecurityEvent.Kind.CODE_SENT,
        SecurityEvent.Kind.RECOVERY_COMPLETED,
    } <= kinds
    assert SESSION_KEY not in client.session


def test_every_other_session_ends_after_reset(client, make_user):
    user = make_user()
    other = HttpsClient()
    other.force_login(user)
    assert other.get("/my/vehicles/").status_code == 200

    _reset(client, user)

    response = other.get("/my/vehicles/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_reset_revokes_every_device_and_clears_the_lock(client, make_user, settings):
    user = make_user()
    RegisteredDevice.objects.create(user=user, token_hash="b" * 64, name="Chrome on Android")
    # While locked no recovery code is checked, so the lock comes after the code step: someone
    # guessing the password meanwhile.
    _reach_new_password(client, user)
    counter = counter_for(username=user.username)
    for _ in range(settings.PORTAL_LOCKOUT_THRESHOLD):
        attempt_reserve(counter)
    SignInLock.objects.filter(username_key=counter.username_key).update(
        locked_until=timezone.now() + timedelta(minutes=30)
    )
    assert lock_status(user=user)[0]

    client.post("/forgot-password/new/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert not RegisteredDevice.objects.filter(user=user).exists()
    assert lock_status(user=user) == (False, None)
    assert attempt_reserve(counter) is True


def test_reset_emails_a_notice_with_a_working_single_use_not_me_link(client, make_user, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    user = make_user()
    _reset(client, user)

    notice = mail.outbox[-1]
    assert notice.to == [user.email] and "password was reset" in notice.subject
    path = re.search(r"https://testserver(?::\d+)?(/not-me/[^\s]+/)", notice.body).group(1)
    assert client.post(path).status_code == 200
    assert lock_status(user=user)[0]
    assert client.post(path).status_code == 410


def test_code_can_go_by_text_message(client, make_user, sms_outbox):
    user = make_user(mobile_phone="+12015550123")
    _verify(client, user)
    page = client.get("/forgot-password/send/").content.decode()
    assert "(***) ***-0123" in page and "+12015550123" not in page
    assert "Email to " in page

    client.post("/forgot-password/send/", {"channel": "sms"})
    assert "(***) ***-0123" in client.get("/forgot-password/code/").content.decode()
    to, body = sms_outbox[-1]
    assert to == "+12015550123"
    response = client.post("/forgot-password/code/", {"code": _code(body)})
    assert response["Location"] == "/forgot-password/new/"


def test_email_destination_is_masked(client, make_user):
    user = make_user(email="dana@example.com")
    _verify(client, user)
    page = client.get("/forgot-password/send/").content.decode()
    assert "d***@example.com" in page and "dana@example.com" not in page


# --- Forgot password: no enumeration --------------------------------------------------------------
def test_unknown_username_and_wrong_identity_look_the_same(client, make_user):
    user = make_user()
    unknown = _verify(client, user, username="nobody-by-this-name")
    wrong_identity = _verify(client, user, tin_last4="9999")
    other_customer = _verify(client, user, username=make_user().username)

    for response in (unknown, wrong_identity, other_customer):
        assert response.status_code == 200
        assert NOT_VERIFIED in response.content.decode()
    assert SESSION_KEY not in client.session
    assert mail.outbox == []


def test_username_is_matched_ignoring_case(client, make_user):
    user = make_user(username="Dana.Rivera")
    assert _verify(client, user, username="  dana.rivera ")["Location"] == "/forgot-password/send/"


def test_disabled_account_cannot_be_recovered(client, make_user):
    user = make_user()
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert NOT_VERIFIED in _verify(client, user).content.decode()


def test_account_locked_by_not_me_cannot_be_reopened_by_recovery(client, make_user):
    user = make_user()
    client.post(f"/not-me/{not_me_token_create(user=user)}/")

    response = _verify(client, user)
    assert response.status_code == 403
    assert "Only our support team can open it again" in response.content.decode()
    assert lock_status(user=user)[0]


def test_not_me_during_recovery_stops_the_new_password(client, make_user):
    user = make_user()
    _reach_new_password(client, user)
    HttpsClient().post(f"/not-me/{not_me_token_create(user=user)}/")

    response = client.post(
        "/forgot-password/new/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)
    assert lock_status(user=user)[0]


# --- Forgot password: the steps hold ---------------------------------------------------------------
@pytest.mark.parametrize(
    "url", ["/forgot-password/send/", "/forgot-password/code/", "/forgot-password/new/"]
)
def test_later_steps_need_the_earlier_ones(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == "/forgot-password/"


def test_new_password_needs_the_code(client, make_user):
    user = make_user()
    _reach_code(client, user)
    response = client.post(
        "/forgot-password/new/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response["Location"] == "/forgot-password/"
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)


def test_wrong_code_is_refused_and_void_after_five_wrong_entries(client, make_user):
    user = make_user()
    _reach_code(client, user)
    right = _code(mail.outbox[-1].body)
    wrong = "000000" if right != "000000" else "111111"

    response = client.post("/forgot-password/code/", {"code": wrong})
    assert response.status_code == 200
    assert "That security code is not right" in response.content.decode()
    for _ in range(4):
        client.post("/forgot-password/code/", {"code": wrong})
    response = client.post("/forgot-password/code/", {"code": right})
    assert response.status_code == 200  # void now: even the right code fails
    assert "That security code is not right" in response.content.decode()


def test_code_expires(client, make_user, settings):
    user = make_user()
    _reach_code(client, user)
    code = _code(mail.outbox[-1].body)
    with time_machine.travel(
        timezone.now() + timedelta(seconds=settings.PORTAL_CODE_TTL_SECONDS + 1)
    ):
        response = client.post("/forgot-password/code/", {"code": code})
    assert response.status_code == 200
    assert "That security code is not right" in response.content.decode()


def test_new_code_has_a_cool_down_and_voids_the_old_one(client, make_user, settings):
    user = make_user()
    _reach_code(client, user)
    first = _code(mail.outbox[-1].body)

    response = client.post("/forgot-password/code/resend/", follow=True)
    assert "You can ask for a new one in" in response.content.decode()
    assert len(mail.outbox) == 1

    later = timezone.now() + timedelta(seconds=settings.PORTAL_CODE_RESEND_SECONDS + 1)
    with time_machine.travel(later):
        client.post("/forgot-password/code/resend/")
        assert len(mail.outbox) == 2
        second = _code(mail.outbox[-1].body)
        if first != second:
            assert client.post("/forgot-password/code/", {"code": first}).status_code == 200
        response = client.post("/forgot-password/code/", {"code": second})
    assert response["Location"] == "/forgot-password/new/"


def test_code_posts_are_rate_limited_per_ip(client, make_user, settings):
    settings.PORTAL_LOGIN_IP_RATE = "3/m"
    user = make_user()
    _reach_code(client, user)  # the send counts in its own group
    for _ in range(3):
        client.post("/forgot-password/code/", {"code": "123456"})
    assert client.post("/forgot-password/code/", {"code": "123456"}).status_code == 429


def test_new_password_follows_the_enrollment_rules(client, make_user):
    user = make_user()
    _reach_new_password(client, user)

    short = client.post("/forgot-password/new/", {"password1": "short", "password2": "short"})
    assert short.status_code == 200 and "at least 15 characters" in short.content.decode()
    mismatch = client.post(
        "/forgot-password/new/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"}
    )
    assert "do not match" in mismatch.content.decode()
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)


def test_new_password_fields_use_new_password_autocomplete(client, make_user):
    user = make_user()
    _reach_new_password(client, user)
    html = client.get("/forgot-password/new/").content.decode()
    assert html.count('autocomplete="new-password"') == 2
    assert "Confirm password" in html


def test_recovery_ends_after_idle_time(client, make_user, settings):
    user = make_user()
    _reach_code(client, user)
    later = timezone.now() + timedelta(seconds=settings.PORTAL_SESSION_IDLE_SECONDS + 1)
    with time_machine.travel(later):
        response = client.post("/forgot-password/code/", {"code": _code(mail.outbox[-1].body)})
    assert response["Location"] == "/forgot-password/"


def test_session_key_changes_once_identity_is_verified(client, make_user):
    user = make_user()
    client.get("/forgot-password/")
    client.post("/forgot-password/", {"username": "x"})  # creates the session
    before = client.session.session_key
    _verify(client, user)
    assert client.session.session_key != before


# --- Identity data never leaves step 1 ------------------------------------------------------------
def test_identity_data_is_never_in_session_urls_hidden_fields_or_events(client, make_user):
    user = make_user()
    account = user.loan_accounts.first().account_number
    secrets_typed = (TIN, DOB, "1985-04-12", account)
    seen: list[str] = []

    response = _verify(client, user)
    seen.append(response["Location"])
    for url in ("/forgot-password/send/",):
        seen.append(client.get(url).content.decode())
    client.post("/forgot-password/send/", {"channel": "email"})
    seen.append(client.get("/forgot-password/code/").content.decode())
    client.post("/forgot-password/code/", {"code": _code(mail.outbox[-1].body)})
    seen.append(client.get("/forgot-password/new/").content.decode())
    seen.append(repr(dict(client.session.items())))
    seen.extend(f"{e.detail} {e.device}" for e in SecurityEvent.objects.filter(user=user))

    everything = "\n".join(seen)
    for value in secrets_typed:
        # As a value of its own: "1234" may occur by chance inside a timestamp or a random token.
        assert not re.search(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])", everything)
    hidden = re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", everything)
    assert hidden and all('name="csrfmiddlewaretoken"' in tag for tag in hidden)
    assert set(client.session[SESSION_KEY]) == {
        "user_id",
        "flow_id",
        "stage",
        "channel",
        "last_activity",
    }


def test_signed_in_customers_are_sent_to_my_vehicles(client, make_user):
    client.force_login(make_user())
    assert client.get("/forgot-password/")["Location"] == "/my/vehicles/"
    assert client.get("/forgot-username/")["Location"] == "/my/vehicles/"


def test_recovery_pages_are_not_cached(client):
    for url in ("/forgot-password/", "/forgot-username/"):
        assert "no-store" in client.get(url)["Cache-Control"]


# --- Never a server error -------------------------------------------------------------------------
_FIELDS = ["username", "tin_last4", "birth_date", "reference", "channel", "code"]
_FIELDS += ["password1", "password2"]
_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=80)


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(st.sampled_from(_FIELDS), _text))
def test_recovery_forms_never_answer_with_a_server_error(client, data):
    for url in ("/forgot-username/", "/forgot-password/", "/not-me/x/"):
        assert client.post(url, data).status_code in {200, 404, 429}


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(st.sampled_from(_FIELDS), _text))
def test_later_recovery_steps_never_answer_with_a_server_error(client, make_user, settings, data):
    settings.PORTAL_VERIFY_IP_RATE = settings.PORTAL_LOGIN_IP_RATE = "10000/h"
    user = make_user()
    _reach_new_password(client, user)
    for url in ("/forgot-password/new/", "/forgot-password/send/", "/forgot-password/code/"):
        assert client.post(url, data).status_code in {200, 302, 429}


def test_the_first_contact_is_chosen_so_send_code_works_at_once(client, make_user):
    user = make_user()
    page = _verify(client, user)
    html = client.get(page["Location"]).content.decode()
    assert re.search(r'<input type="radio" name="channel" value="email"[^>]* checked', html)
    assert not re.search(r'<input type="radio" name="channel" value="sms"[^>]* checked', html)


def test_the_first_code_is_a_code_and_a_resend_is_a_new_code(client, make_user, settings):
    user = make_user()
    _verify(client, user)
    first = client.post("/forgot-password/send/", {"channel": "email"}, follow=True)
    html = first.content.decode()
    assert "We sent a code by email to c***@example.com." in html
    assert "new code by" not in html
    later = timezone.now() + timedelta(seconds=settings.PORTAL_CODE_RESEND_SECONDS + 1)
    with time_machine.travel(later):
        again = client.post("/forgot-password/code/resend/", follow=True).content.decode()
    assert "We sent a new code by email to c***@example.com." in again


def test_a_locked_recovery_says_how_long_and_until_when(client, make_user, settings):
    user = make_user()
    _reach_code(client, user)
    with time_machine.travel("2026-11-30 20:25:00+00:00", tick=False):
        for _ in range(settings.PORTAL_LOCKOUT_THRESHOLD):
            client.post("/login/", {"username": user.username, "password": "not it at all 123"})
        html = client.post("/forgot-password/code/", {"code": "123456"}).content.decode()
    assert "Online access is temporarily locked" in html
    assert "paused for 30 minutes" in html and "until 3:55 PM EST" in html
    assert "for a while" not in html
