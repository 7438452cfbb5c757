"""Step 5, "Confirm it's you": enrollment proves the contact on the servicing record, signs the
customer in and offers Register this device?. The takeover it stops: someone who knows a
customer's identity details enrolls with their own email, and the real customer is then told
"already enrolled" while Forgot username mails the username to the intruder."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Customer, User
from enrollment.flow import DEVICE_OFFER_KEY, SESSION_KEY
from security.models import RegisteredDevice, SecurityCode, SecurityEvent
from tests.enrollment.conftest import Wizard, identity_data

pytestmark = pytest.mark.django_db

ATTACKER_EMAIL = "intruder@example.net"
ATTACKER_PHONE = "+12025550100"
WRONG_CODE_MESSAGE = "That code is not right. Check it and try again."


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _field_errors(response, field: str = "code") -> str:
    """The error list rendered inside the field's own block, next to the input."""
    page = response.content.decode()
    match = re.search(rf'<div class="field field--error">.*?id="id_{field}".*?</div>', page, re.S)
    assert match, page[:4000]
    return match.group(0)


# --- The takeover attempt -------------------------------------------------------------------------
def test_takeover_attempt_fails_the_code_goes_only_to_the_contact_on_record(
    client, wizard, customer, mailoutbox, sms_outbox, settings
):
    settings.PORTAL_CODE_RESEND_SECONDS = 0
    customer.mobile_phone = "+12015550123"  # not the intruder's last 4 digits, whatever the factory
    customer.save()
    wizard.verify()
    wizard.vehicles()
    # The intruder types their own contact details into step 3 (as the old form asked for).
    wizard.profile(email=ATTACKER_EMAIL, mobile_phone=ATTACKER_PHONE)
    wizard.consent()
    page = client.get("/enroll/confirm/").content.decode()
    assert ATTACKER_EMAIL not in page and "0100" not in page
    # Asking for the code, by either channel, with an address of their own in the post.
    for channel in ("email", "sms"):
        client.post(
            "/enroll/confirm/send/",
            {"channel": channel, "email": ATTACKER_EMAIL, "destination": ATTACKER_EMAIL},
        )
    assert [message.to for message in mailoutbox] == [[customer.email]]
    assert [to for to, _ in sms_outbox] == [customer.mobile_phone]
    assert set(SecurityCode.objects.values_list("destination", flat=True)) == {
        customer.email,
        customer.mobile_phone,
    }
    # Without the code nothing exists, and guessing creates nothing either.
    assert not User.objects.exists()
    for guess in ("000000", "123456", "999999"):
        response = wizard.confirm(guess)
        assert response.status_code == 200
    assert not User.objects.exists()
    # The real customer can still enroll, and their contact on record learns of it.
    real = Wizard(client.__class__(), customer)
    real.through_consent(username="the.real.one")
    assert real.confirm(real.send_code())["Location"] == "/enroll/device/"
    user = User.objects.get(customer=customer)
    assert (user.username, user.email, user.mobile_phone) == (
        "the.real.one",
        customer.email,
        customer.mobile_phone,
    )
    assert all(ATTACKER_EMAIL not in message.to for message in mailoutbox)
    assert all(to != ATTACKER_PHONE for to, _ in sms_outbox)
    set_up = [m for m in mailoutbox if "was set up" in m.subject]
    assert [m.to for m in set_up] == [[customer.email]]


def test_without_the_code_no_online_account_exists(client, wizard, customer):
    wizard.through_consent()
    assert client.get("/enroll/confirm/").status_code == 200
    response = wizard.confirm("123456")  # no code was even sent
    assert response.status_code == 200
    assert "Send a code first" in _field_errors(response)
    assert not User.objects.exists()
    assert client.session[SESSION_KEY]["customer_id"] == customer.pk


def test_a_wrong_code_is_refused_next_to_the_field_and_creates_nothing(client, wizard):
    wizard.through_consent()
    code = wizard.send_code()
    response = wizard.confirm(_wrong(code))
    assert response.status_code == 200
    assert WRONG_CODE_MESSAGE in _field_errors(response)
    assert '<div class="error-summary" role="alert"' in response.content.decode()
    assert not User.objects.exists()
    assert "_auth_user_id" not in client.session


def test_after_five_wrong_codes_the_code_is_void_and_a_new_one_is_needed(client, wizard, customer):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        wizard.through_consent()
        code = wizard.send_code()
        for _ in range(4):
            assert WRONG_CODE_MESSAGE in _field_errors(wizard.confirm(_wrong(code)))
        # The fifth wrong entry uses the code up, and the page says so at once.
        fifth = _field_errors(wizard.confirm(_wrong(code)))
        assert "can no longer be used" in fifth and "Send a new code" in fifth
        assert "can no longer be used" in _field_errors(wizard.confirm(code))
        assert not User.objects.exists()
        clock.shift(timedelta(seconds=31))
        fresh = wizard.send_code()
        assert wizard.confirm(fresh)["Location"] == "/enroll/device/"
    assert User.objects.filter(customer=customer).count() == 1


def test_an_expired_code_asks_for_a_new_one(client, wizard):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        wizard.through_consent()
        code = wizard.send_code()
        clock.shift(timedelta(minutes=5, seconds=1))
        assert "can no longer be used" in _field_errors(wizard.confirm(code))
    assert not User.objects.exists()


# --- Choosing where the code goes -----------------------------------------------------------------
def test_the_page_shows_both_contacts_on_record_masked_email_first(client, wizard, customer):
    wizard.through_consent()
    page = client.get("/enroll/confirm/").content.decode()
    assert "<h1>Confirm it\u2019s you</h1>" in page
    assert '<li aria-current="step">Step 5: Confirm it\u2019s you</li>' in page
    email_mask = f"{customer.email[0]}***@example.com"
    assert customer.email not in page and customer.mobile_phone not in page
    assert (
        f'<input type="radio" name="channel" id="channel-email" value="email" checked>'
        f'<label for="channel-email">Email to {email_mask}</label>'
    ) in page
    assert (
        '<input type="radio" name="channel" id="channel-sms" value="sms">'
        f'<label for="channel-sms">Text message to (***) ***-{customer.mobile_phone[-4:]}</label>'
    ) in page
    assert ">Send code</button>" in page
    assert "electronic messages we send you" in page  # the E-SIGN demonstration, said plainly
    assert 'name="code"' not in page  # nothing to enter before a code was sent


def test_the_code_goes_by_text_message_when_the_customer_chooses_it(
    client, wizard, customer, mailoutbox, sms_outbox
):
    wizard.through_consent()
    code = wizard.send_code("sms")
    assert [to for to, _ in sms_outbox] == [customer.mobile_phone] and mailoutbox == []
    page = client.get("/enroll/confirm/").content.decode()
    masked = f"(***) ***-{customer.mobile_phone[-4:]}"
    assert f"We sent a 6-digit code by text message to {masked}." in page
    assert f"We sent it by text message to {masked}." in page
    assert 'id="channel-sms" value="sms" checked' in page
    assert ">Send a new code</button>" in page
    assert 'autocomplete="one-time-code"' in page
    assert wizard.confirm(code)["Location"] == "/enroll/device/"
    assert User.objects.get(customer=customer).mobile_phone == customer.mobile_phone


def test_a_second_code_within_the_cooldown_is_refused_with_the_wait(
    client, wizard, customer, mailoutbox
):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        wizard.through_consent()
        first = wizard.send_code()
        clock.shift(timedelta(seconds=10))
        response = client.post("/enroll/confirm/send/", {"channel": "sms"}, follow=True)
        assert "You can ask for a new one in 20 seconds." in response.content.decode()
        assert "You can ask for a new code in 20 seconds." in response.content.decode()
        assert len(mailoutbox) == 1
        assert SecurityCode.objects.count() == 1
        assert wizard.confirm(first)["Location"] == "/enroll/device/"


def test_a_channel_not_on_record_cannot_be_chosen(client, wizard, customer, sms_outbox):
    Customer.objects.filter(pk=customer.pk).update(mobile_phone="")
    wizard.through_consent()
    page = client.get("/enroll/confirm/").content.decode()
    assert 'value="sms"' not in page
    response = client.post("/enroll/confirm/send/", {"channel": "sms"}, follow=True)
    assert "Choose where we should send your code." in response.content.decode()
    assert sms_outbox == [] and not SecurityCode.objects.exists()


def test_a_customer_with_only_a_mobile_on_record_confirms_by_text_message(
    client, wizard, customer, mailoutbox, sms_outbox
):
    Customer.objects.filter(pk=customer.pk).update(email="")
    wizard.through_consent()
    page = client.get("/enroll/confirm/").content.decode()
    assert 'id="channel-sms" value="sms" checked' in page and 'value="email"' not in page
    code = wizard.send_code("sms")
    assert wizard.confirm(code)["Location"] == "/enroll/device/"
    user = User.objects.get(customer=customer)
    assert (user.email, user.mobile_phone) == ("", customer.mobile_phone)
    assert mailoutbox == []  # no email on record: nothing to email
    # ...so the contact on record learns by text message that online access was set up.
    to, text = sms_outbox[-1]
    assert to == customer.mobile_phone
    assert "Online access to your" in text and "was set up" in text and "Not you? Call" in text
    assert len(text) <= 160  # one text message


def test_sending_and_entering_codes_are_limited_per_client_ip(client, wizard, settings):
    wizard.through_consent()
    settings.PORTAL_VERIFY_IP_RATE = "2/h"
    settings.PORTAL_CODE_RESEND_SECONDS = 0
    code = wizard.send_code()
    for _ in range(2):
        assert wizard.confirm(_wrong(code)).status_code == 200
    assert wizard.confirm(code).status_code == 429
    wizard.send_code()
    assert client.post("/enroll/confirm/send/", {"channel": "email"}).status_code == 429
    assert not User.objects.exists()


# --- No contact on record -------------------------------------------------------------------------
def test_a_customer_with_no_email_and_no_mobile_on_record_is_told_to_call(
    client, customer, settings
):
    Customer.objects.filter(pk=customer.pk).update(email="", mobile_phone="")
    response = client.post("/enroll/", identity_data(customer))
    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Please call us to enroll</h1>" in page
    assert "no email address or mobile number on record" in page
    assert f'<a href="tel:{settings.PORTAL_SUPPORT_PHONE}">' in page
    assert settings.PORTAL_SUPPORT_HOURS in page
    assert SESSION_KEY not in client.session
    for path in ("/enroll/vehicles/", "/enroll/profile/", "/enroll/confirm/"):
        assert client.get(path)["Location"] == "/enroll/"
    assert not User.objects.exists()


# --- Signed in, then Register this device? --------------------------------------------------------
def test_the_right_code_signs_the_customer_in_with_a_new_session_key(client, wizard, customer):
    wizard.through_consent()
    code = wizard.send_code()
    before = client.cookies["__Host-session"].value
    response = wizard.confirm(code)
    assert response["Location"] == "/enroll/device/"
    user = User.objects.get(customer=customer)
    assert client.cookies["__Host-session"].value != before
    assert client.session["_auth_user_id"] == str(user.pk)
    assert SESSION_KEY not in client.session
    assert "security:password_verified_at" in client.session
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN_SUCCEEDED)
    assert event.user == user
    page = client.get("/enroll/device/").content.decode()
    assert "<h1>Register this device?</h1>" in page
    assert "Your enrollment is complete, and you are now logged in." in page
    assert ">Register this device</button>" in page and ">Not now</button>" in page


def test_registering_the_device_sets_its_cookie_and_lands_on_my_vehicles(
    client, wizard, customer, mailoutbox
):
    wizard.finish()
    response = client.post("/enroll/device/", {"choice": "register"})
    assert response.status_code == 302 and response["Location"] == "/my/vehicles/"
    cookie = response.cookies["__Host-device"]
    assert cookie.value and cookie["secure"] and cookie["httponly"]
    user = User.objects.get(customer=customer)
    assert RegisteredDevice.objects.filter(user=user).count() == 1
    vehicles = client.get("/my/vehicles/", follow=True)
    assert vehicles.status_code == 200
    assert "This device is registered." in vehicles.content.decode()
    assert [m.to for m in mailoutbox if "new device" in m.subject] == [[customer.email]]
    assert client.get("/enroll/device/")["Location"] == "/my/vehicles/"  # asked once only


def test_not_now_lands_on_my_vehicles_without_registering(client, wizard, customer):
    wizard.finish()
    response = client.post("/enroll/device/", {"choice": "skip"})
    assert response.status_code == 302 and response["Location"] == "/my/vehicles/"
    assert "__Host-device" not in response.cookies
    assert not RegisteredDevice.objects.exists()
    assert client.get("/my/vehicles/").status_code == 200
    assert DEVICE_OFFER_KEY not in client.session
    assert client.get("/enroll/device/")["Location"] == "/my/vehicles/"


def test_register_this_device_is_offered_only_right_after_enrolling(client, make_user):
    assert client.get("/enroll/device/")["Location"] == "/enroll/"
    assert client.post("/enroll/device/", {"choice": "register"})["Location"] == "/enroll/"
    client.force_login(make_user())
    response = client.post("/enroll/device/", {"choice": "register"})
    assert response["Location"] == "/my/vehicles/"
    assert "__Host-device" not in response.cookies
    assert not RegisteredDevice.objects.exists()


# --- Rate limit and staff usernames at step 3 ----------------------------------------------------
def test_username_taken_checks_are_limited_per_client_ip(client, wizard, make_user, settings):
    make_user(username="taken.name")
    wizard.verify()
    wizard.vehicles()
    settings.PORTAL_VERIFY_IP_RATE = "3/h"
    for _ in range(3):
        response = client.post("/enroll/profile/", _profile(username="taken.name"))
        assert response.status_code == 200
        assert "already taken" in response.content.decode()
    for name in ("taken.name", "a.free.name"):
        response = client.post("/enroll/profile/", _profile(username=name))
        page = response.content.decode()
        assert response.status_code == 429
        assert "tried a lot of usernames" in page and "already taken" not in page
        assert settings.PORTAL_SUPPORT_PHONE in page
    assert client.session[SESSION_KEY]["profile"] is None


def test_a_staff_username_is_answered_exactly_like_a_taken_customer_username(
    client, wizard, make_user, django_user_model
):
    django_user_model.objects.create_user(username="Alex.Morgan", password="x" * 20, is_staff=True)
    make_user(username="Dana.Taken")
    wizard.verify()
    wizard.vehicles()
    pages = {}
    for name in ("alex.morgan", "dana.taken"):
        response = client.post("/enroll/profile/", _profile(username=name))
        assert response.status_code == 200
        pages[name] = response.content.decode().replace(name, "NAME")
    assert pages["alex.morgan"] == _without_csrf(pages["dana.taken"], pages["alex.morgan"])
    assert "That username is already taken. Please choose another." in pages["alex.morgan"]


def _profile(**overrides: str) -> dict[str, str]:
    from tests.enrollment.conftest import profile_data

    return profile_data(**overrides)


def _without_csrf(page: str, like: str) -> str:
    """`page` with its CSRF token replaced by the one in `like` (the only other difference)."""
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    return token.sub(token.search(like).group(0), page)
