"""My Online Profile: Passkeys (add, list, remove), and the emails about them."""

from __future__ import annotations

import time

import pytest
from django.core import mail

from security.models import Passkey, SecurityEvent
from tests.profile.profile_support import mail_to, sign_in
from tests.security.authenticator import BE, UP, SoftAuthenticator
from tests.signin.test_passkey_login import CHROME

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("passkey_origin")]

URL = "/my/profile/passkeys/"


@pytest.fixture
def customer(make_user):
    return make_user()


def add(client, authenticator, name="", **create):
    options = client.post(URL + "options/").json()
    return client.post(
        URL + "add/",
        {"credential": authenticator.create(options, **create), "name": name},
        HTTP_USER_AGENT=CHROME,
    )


def test_the_page_needs_the_password_entered_recently(client, customer):
    sign_in(client, customer, password_entered_at=time.time() - 3600)
    assert client.get(URL)["Location"].startswith("/my/reauth/?next=")
    assert client.post(URL + "options/")["Location"].startswith("/my/reauth/")
    assert client.post(URL + "add/", {"credential": "{}"})["Location"].startswith("/my/reauth/")


def test_the_menu_and_my_online_profile_link_to_the_page(client, customer):
    sign_in(client, customer)
    html = client.get("/my/profile/").content.decode()
    assert html.count(f'href="{URL}"') == 2  # the header menu and the card


def test_the_add_form_is_hidden_until_the_script_finds_webauthn(client, customer):
    sign_in(client, customer)
    html = client.get(URL).content.decode()
    assert "You have no passkeys." in html
    assert "<div data-passkey hidden>" in html and "data-passkey-unsupported" in html
    assert 'src="/static/js/passkeys.js"' in html and "<script>" not in html


def test_the_registration_options_ask_for_a_discoverable_verified_passkey(client, customer):
    sign_in(client, customer)
    options = client.post(URL + "options/").json()
    assert options["rp"]["id"] == "localhost"
    assert options["user"]["name"] == customer.username
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"


def test_a_passkey_is_added_named_after_the_browser_and_the_customer_is_emailed(client, customer):
    sign_in(client, customer)
    response = add(client, SoftAuthenticator())
    assert response["Location"] == URL
    passkey = Passkey.objects.get(user=customer)
    assert passkey.name == "Chrome on Windows"
    assert passkey.backup_eligible and passkey.backed_up and passkey.sign_count == 0
    html = client.get(URL).content.decode()
    assert "Your passkey Chrome on Windows was added" in html
    assert "Chrome on Windows" in html and "Never" in html
    [event] = SecurityEvent.objects.filter(user=customer, kind=SecurityEvent.Kind.PASSKEY_ADDED)
    assert event.detail == "Chrome on Windows"
    [email] = mail_to(mail.outbox, customer.email)
    assert "A passkey was added" in email.subject
    assert 'A passkey named "Chrome on Windows" was added' in email.body
    assert "/not-me/" in email.body


def test_the_customer_may_name_the_passkey(client, customer):
    sign_in(client, customer)
    add(client, SoftAuthenticator(), name="  Work laptop ", flags=UP | 0x04)
    passkey = Passkey.objects.get(user=customer)
    assert passkey.name == "Work laptop"
    assert not passkey.backup_eligible and not passkey.backed_up


def test_a_passkey_without_user_verification_is_refused(client, customer):
    sign_in(client, customer)
    response = add(client, SoftAuthenticator(), flags=UP | BE)
    assert "Your passkey could not be added" in response.content.decode()
    assert not Passkey.objects.exists() and not mail.outbox


def test_a_passkey_for_another_relying_party_is_refused(client, customer):
    sign_in(client, customer)
    options = client.post(URL + "options/").json()
    options["rp"]["id"] = "evil.example"
    response = client.post(URL + "add/", {"credential": SoftAuthenticator().create(options)})
    assert "Your passkey could not be added" in response.content.decode()
    assert not Passkey.objects.exists()


def test_a_registration_answer_is_used_once(client, customer):
    sign_in(client, customer)
    options = client.post(URL + "options/").json()
    authenticator = SoftAuthenticator()
    answer = authenticator.create(options)
    client.post(URL + "add/", {"credential": answer})
    Passkey.objects.all().delete()
    replay = client.post(URL + "add/", {"credential": answer})
    assert "Your passkey could not be added" in replay.content.decode()
    assert not Passkey.objects.exists()


def test_a_post_without_a_passkey_says_what_is_needed(client, customer):
    sign_in(client, customer)
    html = client.post(URL + "add/", {"credential": "", "name": "x"}).content.decode()
    assert "Your browser did not send a passkey" in html


def test_the_same_authenticator_is_excluded_the_next_time(client, customer):
    sign_in(client, customer)
    authenticator = SoftAuthenticator()
    add(client, authenticator)
    options = client.post(URL + "options/").json()
    assert [item["id"] for item in options["excludeCredentials"]] == [
        Passkey.objects.get().credential_id
    ]
    # The same user handle: an authenticator replaces its passkey for this account.
    assert options["user"]["id"] == Passkey.objects.get().user_handle


def test_removing_a_passkey_needs_the_password_entered_recently(client, customer):
    sign_in(client, customer)
    add(client, SoftAuthenticator())
    passkey = Passkey.objects.get()
    sign_in(client, customer, password_entered_at=time.time() - 3600)
    response = client.post(f"{URL}{passkey.pk}/remove/")
    assert response["Location"].startswith("/my/reauth/")
    assert Passkey.objects.filter(pk=passkey.pk).exists()


def test_a_passkey_is_removed_and_the_customer_is_emailed(client, customer):
    sign_in(client, customer)
    add(client, SoftAuthenticator(), name="Old phone")
    passkey = Passkey.objects.get()
    mail.outbox.clear()
    response = client.post(f"{URL}{passkey.pk}/remove/")
    assert response["Location"] == URL
    assert not Passkey.objects.exists()
    assert "The passkey was removed" in client.get(URL).content.decode()
    [event] = SecurityEvent.objects.filter(user=customer, kind=SecurityEvent.Kind.PASSKEY_REMOVED)
    assert event.detail == "Old phone"
    [email] = mail_to(mail.outbox, customer.email)
    assert "A passkey was removed" in email.subject
    assert 'A passkey named "Old phone" was removed' in email.body


def test_another_customers_passkey_cannot_be_removed(client, customer, make_user):
    other = make_user()
    sign_in(client, other)
    add(client, SoftAuthenticator())
    theirs = Passkey.objects.get()
    sign_in(client, customer)
    assert client.post(f"{URL}{theirs.pk}/remove/").status_code == 404
    assert client.get(f"{URL}{theirs.pk}/remove/").status_code == 405
    assert Passkey.objects.filter(pk=theirs.pk).exists()
    assert theirs.name not in client.get(URL).content.decode()


def test_the_emails_are_in_spanish_for_a_spanish_speaking_customer(client, customer):
    customer.language = "es"
    customer.save()
    sign_in(client, customer)
    add(client, SoftAuthenticator(), name="Mi celular")
    [email] = mail_to(mail.outbox, customer.email)
    assert "llave de acceso" in email.subject
