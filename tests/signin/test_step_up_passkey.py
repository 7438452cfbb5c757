"""Step-up with a passkey: on an unrecognised device, after the right password, a customer who
has added a passkey may use it instead of the challenge question and the code."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.utils import timezone

from security.devices import DEVICE_COOKIE
from security.lockout import hold_place
from security.models import HoldReason, RegisteredDevice, SecurityEvent, SignInLock
from security.sessions import PASSWORD_VERIFIED_AT
from signin.flow import FLOW_KEY
from tests.conftest import DEMO_PASSWORD
from tests.security.authenticator import SoftAuthenticator, b64
from tests.signin.test_passkey_login import CHROME, add_passkey, events

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("passkey_origin")]

OFFER = "Use a passkey instead"
REFUSED = "Your passkey was not accepted"
LOCKED = "Online access is temporarily locked"


@pytest.fixture
def enrolled(client, make_user):
    user = make_user()
    authenticator = SoftAuthenticator()
    add_passkey(type(client), user, authenticator)
    mail.outbox.clear()
    return user, authenticator


def password(client, user):
    """The right password on a device the portal does not know: the step-up page."""
    response = client.post("/login/", {"username": user.username, "password": DEMO_PASSWORD})
    assert response["Location"] == "/login/verify/"
    return client.get("/login/verify/")


def options(client):
    response = client.post("/login/verify/passkey/options/")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def use_passkey(client, authenticator, challenge=None, **answer):
    return client.post(
        "/login/verify/passkey/",
        {"credential": authenticator.get(challenge or options(client), **answer)},
        HTTP_USER_AGENT=CHROME,
    )


def failures() -> int:
    """The failure count of the one username these tests log in with."""
    return SignInLock.objects.get().failure_count


def test_the_step_up_page_offers_the_passkey_of_a_customer_who_has_one(client, enrolled):
    user, _authenticator = enrolled
    html = password(client, user).content.decode()
    assert f">{OFFER}</button>" in html
    assert 'data-passkey-options="/login/verify/passkey/options/"' in html
    assert 'action="/login/verify/passkey/"' in html
    # Hidden until the script finds WebAuthn: the question and code stay the way without it.
    assert '<div class="passkey" data-passkey hidden>' in html
    assert 'src="/static/js/passkeys.js"' in html


def test_the_challenge_allows_only_this_customers_passkeys(client, enrolled, make_user):
    user, authenticator = enrolled
    add_passkey(type(client), make_user(), SoftAuthenticator(), name="Not theirs")
    password(client, user)
    response = client.post("/login/verify/passkey/options/")
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["userVerification"] == "required"
    assert [item["id"] for item in body["allowCredentials"]] == [b64(authenticator.credential_id)]


def test_a_customer_without_a_passkey_is_not_offered_one(client, make_user):
    user = make_user()
    html = password(client, user).content.decode()
    assert OFFER not in html and "passkeys.js" not in html
    assert client.post("/login/verify/passkey/options/").status_code == 404


def test_the_passkey_completes_step_up_and_register_this_device_follows(client, enrolled):
    user, authenticator = enrolled
    password(client, user)
    response = use_passkey(client, authenticator)
    assert response.status_code == 302 and response["Location"] == "/login/device/"
    assert SESSION_KEY not in client.session  # nobody is signed in before the last step
    assert "Register this device?" in client.get("/login/device/").content.decode()
    finished = client.post("/login/device/", {"choice": "register"}, HTTP_USER_AGENT=CHROME)
    assert finished["Location"] == "/my/vehicles/"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert PASSWORD_VERIFIED_AT in client.session  # the password was typed at the start
    assert DEVICE_COOKIE in finished.cookies and RegisteredDevice.objects.filter(user=user).exists()
    [passed] = events(user, SecurityEvent.Kind.STEP_UP_PASSED)
    assert passed.detail == "Passkey: My phone"
    [login] = events(user, SecurityEvent.Kind.LOGIN_SUCCEEDED)
    assert login.detail == "My phone"
    assert client.get("/my/vehicles/").status_code == 200
    assert failures() == 0


def test_another_customers_passkey_is_refused_and_counted(client, enrolled, make_user):
    user, _authenticator = enrolled
    other = make_user()
    theirs = SoftAuthenticator()
    add_passkey(type(client), other, theirs, name="Their phone")
    password(client, user)
    response = use_passkey(client, theirs)  # signed correctly, but not this customer's
    assert response.status_code == 200
    html = response.content.decode()
    assert REFUSED in html and "Confirm it&rsquo;s you" in html
    assert SESSION_KEY not in client.session
    assert client.get("/login/device/")["Location"] == "/login/verify/"
    [failed] = events(user, SecurityEvent.Kind.STEP_UP_FAILED)
    assert failed.detail == "Passkey not accepted"  # the other customer's passkey is not named
    assert failures() == 1
    assert not events(other, SecurityEvent.Kind.LOGIN_SUCCEEDED)


def test_with_the_policy_off_no_passkey_is_offered_or_accepted(client, enrolled, settings):
    settings.PORTAL_STEP_UP_PASSKEY = False
    user, authenticator = enrolled
    html = password(client, user).content.decode()
    assert OFFER not in html
    assert client.post("/login/verify/passkey/options/").status_code == 404
    # An answer to a challenge fetched while the policy allowed it is refused too.
    settings.PORTAL_STEP_UP_PASSKEY = True
    challenge = options(client)
    settings.PORTAL_STEP_UP_PASSKEY = False
    response = client.post("/login/verify/passkey/", {"credential": authenticator.get(challenge)})
    assert response.status_code == 404
    assert client.get("/login/device/")["Location"] == "/login/verify/"
    assert not events(user, SecurityEvent.Kind.STEP_UP_PASSED)


def test_a_challenge_is_used_once(client, enrolled):
    user, authenticator = enrolled
    password(client, user)
    challenge = options(client)
    refused = use_passkey(client, authenticator, challenge, rp_id="evil.example")
    assert REFUSED in refused.content.decode()
    # A right answer to the same challenge comes too late: it was taken by the first answer.
    replayed = use_passkey(client, authenticator, challenge)
    assert REFUSED in replayed.content.decode()
    assert client.get("/login/device/")["Location"] == "/login/verify/"
    assert failures() == 2
    # A fresh challenge works.
    assert use_passkey(client, authenticator)["Location"] == "/login/device/"


def test_a_replayed_answer_after_success_does_not_count_for_another_login(client, enrolled):
    user, authenticator = enrolled
    password(client, user)
    challenge = options(client)
    answer = authenticator.get(challenge)
    assert client.post("/login/verify/passkey/", {"credential": answer})["Location"] == (
        "/login/device/"
    )
    password(client, user)  # a new login in progress on the same browser
    response = client.post("/login/verify/passkey/", {"credential": answer})
    assert REFUSED in response.content.decode()
    assert client.get("/login/device/")["Location"] == "/login/verify/"


def test_an_expired_challenge_is_refused(client, enrolled):
    user, authenticator = enrolled
    with time_machine.travel(timezone.now(), tick=False) as clock:
        password(client, user)
        challenge = options(client)
        clock.shift(timedelta(minutes=5, seconds=1))
        response = use_passkey(client, authenticator, challenge)
    assert REFUSED in response.content.decode()
    assert client.get("/login/device/")["Location"] == "/login/verify/"


def test_refused_passkeys_count_with_passwords_toward_the_lock(client, enrolled):
    user, authenticator = enrolled
    client.post("/login/", {"username": user.username, "password": "wrong password 12345"})
    password(client, user)
    for _ in range(3):
        assert REFUSED in use_passkey(client, authenticator, rp_id="evil.example").content.decode()
    # one password and three passkeys: four; the fifth failure locks
    response = use_passkey(client, authenticator, rp_id="evil.example")
    assert LOCKED in response.content.decode()
    assert FLOW_KEY not in client.session and SESSION_KEY not in client.session
    assert events(user, SecurityEvent.Kind.LOCKED)
    locked = client.post("/login/", {"username": user.username, "password": DEMO_PASSWORD})
    assert LOCKED in locked.content.decode()


def test_a_hold_placed_before_the_last_step_refuses_the_login(client, enrolled):
    user, authenticator = enrolled
    password(client, user)
    assert use_passkey(client, authenticator)["Location"] == "/login/device/"
    hold_place(user=user, reason=HoldReason.NOT_ME)
    client.post("/login/device/", {"choice": "skip"})
    assert SESSION_KEY not in client.session
    assert not events(user, SecurityEvent.Kind.LOGIN_SUCCEEDED)


def test_turning_online_access_off_ends_the_login(client, enrolled):
    user, authenticator = enrolled
    password(client, user)
    user.is_active = False
    user.save()
    response = use_passkey(client, authenticator, challenge={"challenge": "AAAA"})
    assert response["Location"] == "/login/"
    assert SESSION_KEY not in client.session


def test_a_post_without_a_passkey_says_so(client, enrolled):
    user, _authenticator = enrolled
    password(client, user)
    response = client.post("/login/verify/passkey/", {"credential": ""})
    assert "Your browser did not send a passkey" in response.content.decode()
