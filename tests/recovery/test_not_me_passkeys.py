""" "This wasn't me" removes every passkey of the customer, the one a "passkey added" email was
about included, and its pages say so (in English and Spanish)."""

from __future__ import annotations

import secrets

import pytest
from django.core import mail

from security.models import Passkey, SecurityEvent
from security.notifications import not_me_token_create
from tests.conftest import SPANISH, HttpsClient
from tests.profile.profile_support import mail_to, sign_in
from tests.security.authenticator import SoftAuthenticator

pytestmark = pytest.mark.django_db

PASSKEYS_URL = "/my/profile/passkeys/"


def _passkey(user, name: str = "Work laptop") -> Passkey:
    return Passkey.objects.create(
        user=user,
        credential_id=secrets.token_urlsafe(32),
        public_key=b"\xa5\x01\x02",
        user_handle=secrets.token_urlsafe(32),
        name=name,
    )


def test_the_passkey_added_emails_link_removes_that_passkey(
    client, make_user, settings, passkey_origin
):
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    customer = make_user()
    # Someone signed in as the customer adds a passkey; the customer gets the email.
    intruder = sign_in(HttpsClient(), customer)
    options = intruder.post(PASSKEYS_URL + "options/").json()
    intruder.post(
        PASSKEYS_URL + "add/",
        {"credential": SoftAuthenticator().create(options), "name": "Not mine"},
    )
    assert Passkey.objects.filter(user=customer, name="Not mine").exists()
    [email] = mail_to(mail.outbox, customer.email)
    assert "remove every passkey" in email.body
    link = next(word for word in email.body.split() if "/not-me/" in word)
    path = link.split("://", 1)[1].split("/", 1)[1]

    confirm = client.get("/" + path).content.decode()
    assert "remove every passkey, so none of them can log in." in confirm
    done = client.post("/" + path)

    assert done.status_code == 200
    assert "forgotten every registered device and removed every passkey." in (done.content.decode())
    assert not Passkey.objects.filter(user=customer).exists()
    event = SecurityEvent.objects.get(user=customer, kind=SecurityEvent.Kind.PASSKEY_REMOVED)
    assert event.detail == "All passkeys (1)"


def test_every_passkey_of_the_customer_goes_and_no_one_elses(client, make_user):
    customer = make_user()
    other = make_user()
    _passkey(customer, "Work laptop")
    _passkey(customer, "Pixel phone")
    theirs = _passkey(other)

    client.post(f"/not-me/{not_me_token_create(user=customer)}/")

    assert not Passkey.objects.filter(user=customer).exists()
    assert list(Passkey.objects.all()) == [theirs]


def test_the_pages_say_so_in_spanish(client, make_user):
    customer = make_user()
    _passkey(customer)
    url = f"/not-me/{not_me_token_create(user=customer)}/"

    confirm = client.get(url, headers=SPANISH).content.decode()
    assert "eliminaremos todas las llaves de acceso, para que ninguna pueda iniciar sesión." in (
        confirm
    )
    done = client.post(url, headers=SPANISH).content.decode()
    assert (
        "olvidamos todos los dispositivos registrados y eliminamos todas las llaves de acceso."
        in (done)
    )
    assert not Passkey.objects.filter(user=customer).exists()
