"""A login in progress ends when the user's security stamp changes after the password step (a
password reset, "This wasn't me", support turning access off): every later step sends back to
Log In, and no session or registered device comes out of it."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY

from accounts.models import User, new_security_stamp
from recovery.flow import password_reset_complete
from security.models import RegisteredDevice, SecurityEvent
from security.notifications import not_me_token_create
from signin import views as signin_views
from signin.flow import FLOW_KEY
from tests.conftest import DEMO_PASSWORD, HttpsClient
from tests.profile.profile_support import sign_in
from tests.signin.test_step_up import (
    asked_answer,
    assert_anonymous,
    last_code,
    send_code,
    start,
    verify,
)

pytestmark = pytest.mark.django_db

ENDED = "Your login attempt has ended"
NEW_PASSWORD = "violet tractor umbrella quietly 83"


@pytest.fixture
def user(make_user):
    return make_user()


def assert_login_ended(client, response):
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert ENDED in client.get("/login/").content.decode()
    assert FLOW_KEY not in client.session
    assert_anonymous(client)


def pass_step_up(client, user):
    start(client, user)
    send_code(client)
    response = verify(client, answer=asked_answer(client), code=last_code())
    assert response["Location"] == "/login/device/"


def test_the_flow_keeps_the_stamp_seen_at_the_password_step(client, user):
    start(client, user)
    assert client.session[FLOW_KEY]["stamp"] == user.security_stamp


def test_a_password_reset_ends_a_login_at_the_step_up_page(client, user):
    start(client, user)
    send_code(client)
    answer, code = asked_answer(client), last_code()
    password_reset_complete(user=user, password=NEW_PASSWORD)

    assert_login_ended(client, verify(client, answer=answer, code=code))
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.STEP_UP_PASSED).exists()


def test_a_password_reset_ends_a_login_at_send_code(client, user):
    start(client, user)
    password_reset_complete(user=user, password=NEW_PASSWORD)
    assert_login_ended(client, send_code(client))


@pytest.mark.parametrize("choice", ["register", "skip"])
def test_a_password_reset_ends_a_login_at_register_this_device(client, user, choice):
    pass_step_up(client, user)
    password_reset_complete(user=user, password=NEW_PASSWORD)

    assert_login_ended(client, client.post("/login/device/", {"choice": choice}))
    assert not RegisteredDevice.objects.filter(user=user).exists()
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_SUCCEEDED).exists()


def test_this_wasnt_me_ends_a_login_in_progress(client, user):
    start(client, user)
    send_code(client)
    answer, code = asked_answer(client), last_code()
    assert HttpsClient().post(f"/not-me/{not_me_token_create(user=user)}/").status_code == 200

    assert_login_ended(client, verify(client, answer=answer, code=code))


def test_support_turning_access_off_ends_a_login_in_progress(client, user):
    pass_step_up(client, user)
    User.objects.filter(pk=user.pk).update(is_active=False, security_stamp=new_security_stamp())
    assert_login_ended(client, client.post("/login/device/", {"choice": "register"}))


def test_a_stamp_changed_during_the_last_step_opens_no_session(client, user, monkeypatch):
    """The reset commits after Register this device? loaded the flow: login_finish compares the
    stamp again, on the user's row, in its own transaction."""
    pass_step_up(client, user)
    load = signin_views.flow.flow_user

    def load_then_reset(request):
        current = load(request)
        User.objects.filter(pk=user.pk).update(security_stamp=new_security_stamp())
        return current

    monkeypatch.setattr(signin_views.flow, "flow_user", load_then_reset)
    assert_login_ended(client, client.post("/login/device/", {"choice": "register"}))
    assert not RegisteredDevice.objects.filter(user=user).exists()
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOGIN_SUCCEEDED).exists()


def test_a_flow_without_a_stamp_is_ended(client, user):
    start(client, user)
    session = client.session
    data = dict(session[FLOW_KEY])
    data.pop("stamp", None)
    session[FLOW_KEY] = data
    session.save()
    assert_login_ended(client, client.get("/login/verify/"))


def test_an_unchanged_stamp_lets_the_login_finish(client, user):
    pass_step_up(client, user)
    response = client.post("/login/device/", {"choice": "skip"})
    assert response.status_code == 302 and response["Location"] == "/my/vehicles/"
    assert client.session[SESSION_KEY] == str(user.pk)


def test_a_password_change_in_the_profile_ends_a_login_in_progress(client, user):
    start(client, user)
    send_code(client)
    answer, code = asked_answer(client), last_code()
    signed_in = sign_in(HttpsClient(), user)
    changed = signed_in.post(
        "/my/profile/password/",
        {
            "current_password": DEMO_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert changed["Location"] == "/my/profile/"
    assert signed_in.get("/my/profile/").status_code == 200  # the changing session goes on

    assert_login_ended(client, verify(client, answer=answer, code=code))
