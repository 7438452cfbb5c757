"""Log In with a passkey: the signed answer replaces the password and step-up, nothing else."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail

from security.lockout import hold_place
from security.models import HoldReason, Passkey, SecurityEvent
from security.sessions import PASSWORD_VERIFIED_AT
from tests.conftest import DEMO_PASSWORD, HttpsClient
from tests.profile.profile_support import sign_in
from tests.security.authenticator import SoftAuthenticator

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("passkey_origin")]

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0 Safari/537.36"


def add_passkey(client_class, user, authenticator: SoftAuthenticator, name="My phone") -> Passkey:
    """Adds a passkey through My Online Profile, in a session of its own."""
    owner = sign_in(client_class(), user)
    options = owner.post("/my/profile/passkeys/options/").json()
    owner.post(
        "/my/profile/passkeys/add/",
        {"credential": authenticator.create(options), "name": name},
        HTTP_USER_AGENT=CHROME,
    )
    return Passkey.objects.get(user=user)


@pytest.fixture
def enrolled(client, make_user):
    user = make_user()
    authenticator = SoftAuthenticator()
    passkey = add_passkey(type(client), user, authenticator)
    mail.outbox.clear()
    return user, authenticator, passkey


def passkey_login(client, authenticator, **answer):
    options = client.post("/login/passkey/options/").json()
    return client.post(
        "/login/passkey/",
        {"credential": authenticator.get(options, **answer)},
        HTTP_USER_AGENT=CHROME,
    )


def events(user, kind):
    return list(SecurityEvent.objects.filter(user=user, kind=kind))


def test_the_login_page_offers_a_passkey_hidden_until_the_script_finds_webauthn(client):
    html = client.get("/login/").content.decode()
    assert "Or log in with a passkey" in html and ">Use a passkey</button>" in html
    assert '<div class="passkey" data-passkey hidden>' in html
    assert 'src="/static/js/passkeys.js"' in html and "<script>" not in html
    assert 'data-passkey-options="/login/passkey/options/"' in html


def test_the_challenge_asks_for_user_verification_on_this_relying_party(client):
    response = client.post("/login/passkey/options/")
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    options = response.json()
    assert options["rpId"] == "localhost"
    assert options["userVerification"] == "required"
    assert options["allowCredentials"] == []  # discoverable: nothing tells which accounts exist


def test_a_passkey_logs_in_without_password_or_step_up(client, enrolled):
    user, authenticator, passkey = enrolled
    response = passkey_login(client, authenticator)
    assert response.status_code == 302 and response["Location"] == "/my/vehicles/"
    assert client.session[SESSION_KEY] == str(user.pk)
    # Not a password typed: changing security settings still asks for it.
    assert PASSWORD_VERIFIED_AT not in client.session
    assert client.get("/my/profile/password/")["Location"].startswith("/my/reauth/")
    [event] = events(user, SecurityEvent.Kind.LOGIN_SUCCEEDED)
    assert event.detail == "My phone" and event.device == "Chrome on Windows"
    passkey.refresh_from_db()
    assert passkey.sign_count == 1 and passkey.last_used_at is not None
    assert passkey.backup_eligible and passkey.backed_up


def test_the_next_page_is_kept(client, enrolled):
    _user, authenticator, _passkey = enrolled
    options = client.post("/login/passkey/options/").json()
    response = client.post(
        "/login/passkey/?next=/my/profile/", {"credential": authenticator.get(options)}
    )
    assert response["Location"] == "/my/profile/"


def test_an_answer_signed_for_another_relying_party_is_refused(client, enrolled):
    user, authenticator, _passkey = enrolled
    response = passkey_login(client, authenticator, rp_id="evil.example")
    assert response.status_code == 200
    assert "Your passkey was not accepted" in response.content.decode()
    assert SESSION_KEY not in client.session
    [event] = events(user, SecurityEvent.Kind.LOGIN_FAILED)
    assert event.detail == "Passkey not accepted: My phone"


def test_an_answer_from_another_origin_is_refused(client, enrolled):
    _user, authenticator, _passkey = enrolled
    authenticator.origin = "https://localhost.evil.example"
    response = passkey_login(client, authenticator)
    assert "Your passkey was not accepted" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_a_wrong_signature_is_refused(client, enrolled, make_user):
    _user, authenticator, _passkey = enrolled
    impostor = SoftAuthenticator(credential_id=authenticator.credential_id)
    impostor.user_handle = authenticator.user_handle
    response = passkey_login(client, impostor)
    assert "Your passkey was not accepted" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_a_counter_going_backwards_is_refused_and_recorded(client, enrolled):
    user, authenticator, passkey = enrolled
    assert passkey_login(client, authenticator, sign_count=7).status_code == 302
    client.post("/logout/")
    response = passkey_login(client, authenticator, sign_count=7)  # not greater: a copy?
    assert "Your passkey was not accepted" in response.content.decode()
    assert SESSION_KEY not in client.session
    [event] = events(user, SecurityEvent.Kind.PASSKEY_REFUSED)
    assert event.detail == "My phone: its signature counter went backwards"
    passkey.refresh_from_db()
    assert passkey.sign_count == 7
    assert passkey_login(client, authenticator, sign_count=3).status_code == 200
    assert passkey_login(client, authenticator, sign_count=8).status_code == 302


def test_a_challenge_is_used_once(client, enrolled):
    _user, authenticator, _passkey = enrolled
    options = client.post("/login/passkey/options/").json()
    answer = authenticator.get(options)
    assert client.post("/login/passkey/", {"credential": answer}).status_code == 302
    client.post("/logout/")
    replay = client.post("/login/passkey/", {"credential": answer})
    assert "Your passkey was not accepted" in replay.content.decode()
    assert SESSION_KEY not in client.session


def test_a_removed_passkey_no_longer_logs_in(client, enrolled):
    _user, authenticator, passkey = enrolled
    passkey.delete()
    response = passkey_login(client, authenticator)
    assert "Your passkey was not accepted" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_a_locked_username_refuses_the_passkey_too(client, enrolled):
    user, authenticator, _passkey = enrolled
    for _ in range(5):
        client.post("/login/", {"username": user.username, "password": "not the password 1"})
    response = passkey_login(client, authenticator)
    assert "Online access is temporarily locked" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_a_hold_refuses_the_passkey(client, enrolled):
    user, authenticator, _passkey = enrolled
    hold_place(user=user, reason=HoldReason.NOT_ME)
    response = passkey_login(client, authenticator)
    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert not events(user, SecurityEvent.Kind.LOGIN_SUCCEEDED)


def test_refused_passkeys_count_toward_the_lock(client, enrolled):
    user, authenticator, _passkey = enrolled
    for _ in range(5):
        passkey_login(client, authenticator, rp_id="evil.example")
    assert events(user, SecurityEvent.Kind.LOCKED)
    # The right password is refused now, like the right passkey.
    html = client.post("/login/", {"username": user.username, "password": DEMO_PASSWORD})
    assert "Online access is temporarily locked" in html.content.decode()
    assert (
        "Online access is temporarily locked"
        in passkey_login(client, authenticator).content.decode()
    )


def test_a_disabled_account_is_told_to_call(client, enrolled):
    user, authenticator, _passkey = enrolled
    user.is_active = False
    user.save()
    response = passkey_login(client, authenticator)
    assert "Online access is turned off" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_a_post_without_a_passkey_says_so(client):
    response = client.post("/login/passkey/", {"credential": ""})
    assert "Your passkey was not accepted" in response.content.decode()
    garbage = client.post("/login/passkey/", {"credential": json.dumps({"id": "x"})})
    assert "Your passkey was not accepted" in garbage.content.decode()


def test_passkey_login_needs_csrf(enrolled):
    strict = HttpsClient(enforce_csrf_checks=True)
    assert strict.post("/login/passkey/options/").status_code == 403
    assert strict.post("/login/passkey/", {"credential": "{}"}).status_code == 403
