"""My Online Profile: Contact information (new addresses proven by a code sent to them)."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core import mail

from online_profile.flow import CONTACT_PENDING
from security.models import SecurityEvent
from tests.profile.profile_support import mail_to, sign_in

pytestmark = pytest.mark.django_db

URL = "/my/profile/contact/"
CONFIRM = "/my/profile/contact/confirm/"
NEW_EMAIL = "dana.new@example.org"


@pytest.fixture
def customer(make_user):
    return make_user(mobile_phone="+12015550123")


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def contact(user, **changes: str) -> dict[str, str]:
    return {"email": user.email, "mobile_phone": user.mobile_phone, **changes}


def test_page_shows_the_current_email_and_phone(client, customer):
    sign_in(client, customer)
    page = client.get(URL).content.decode()
    assert f'value="{customer.email}"' in page and 'value="+12015550123"' in page


def test_a_new_email_takes_effect_only_after_the_code_sent_to_it(client, customer):
    old_email = customer.email
    sign_in(client, customer)
    response = client.post(URL, contact(customer, email=NEW_EMAIL))
    assert response.status_code == 302 and response["Location"] == CONFIRM
    [code_mail] = mail_to(mail.outbox, NEW_EMAIL)
    assert mail_to(mail.outbox, old_email) == []
    customer.refresh_from_db()
    assert customer.email == old_email  # not yet
    page = client.get(CONFIRM).content.decode()
    assert "d***@example.org" in page and NEW_EMAIL not in page
    assert ">Send a new code</button>" in page  # one code: not "Send new codes"

    response = client.post(CONFIRM, {"email_code": code_in(code_mail.body)})
    assert response.status_code == 302 and response["Location"] == "/my/profile/"
    customer.refresh_from_db()
    assert customer.email == NEW_EMAIL
    event = SecurityEvent.objects.get(user=customer, kind=SecurityEvent.Kind.CONTACT_CHANGED)
    assert NEW_EMAIL not in event.detail
    [notice] = mail_to(mail.outbox, old_email)  # the notice goes to the OLD address
    assert "email address" in notice.body
    assert "not_me" in notice.body or "wasn" in notice.body.lower()


def test_a_wrong_code_changes_nothing_and_the_right_one_still_works(client, customer):
    old_email = customer.email
    sign_in(client, customer)
    client.post(URL, contact(customer, email=NEW_EMAIL))
    code = code_in(mail_to(mail.outbox, NEW_EMAIL)[0].body)
    wrong = "000000" if code != "000000" else "111111"
    page = client.post(CONFIRM, {"email_code": wrong}).content.decode()
    assert "A code is not right or has expired" in page
    assert f'value="{wrong}"' not in page
    customer.refresh_from_db()
    assert customer.email == old_email
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.CONTACT_CHANGED).exists()
    assert client.post(CONFIRM, {"email_code": code}).status_code == 302
    customer.refresh_from_db()
    assert customer.email == NEW_EMAIL


def test_an_expired_code_does_not_change_the_email(client, customer):
    with time_machine.travel("2026-11-28 10:00:00+00:00", tick=False) as clock:
        sign_in(client, customer)
        client.post(URL, contact(customer, email=NEW_EMAIL))
        code = code_in(mail_to(mail.outbox, NEW_EMAIL)[0].body)
        clock.shift(301)
        sign_in(client, customer)  # keep the re-authentication fresh; only the code is old
        client.post(CONFIRM, {"email_code": code})
    customer.refresh_from_db()
    assert customer.email != NEW_EMAIL


def test_a_new_mobile_phone_is_proven_by_a_text_to_it(client, customer, sms_outbox):
    sign_in(client, customer)
    client.post(URL, contact(customer, mobile_phone="(973) 555-0188"))
    [(to, body)] = sms_outbox
    assert to == "+19735550188"
    customer.refresh_from_db()
    assert customer.mobile_phone == "+12015550123"
    assert "(***) ***-0188" in client.get(CONFIRM).content.decode()
    client.post(CONFIRM, {"phone_code": code_in(body)})
    customer.refresh_from_db()
    assert customer.mobile_phone == "+19735550188"
    [notice] = mail_to(mail.outbox, customer.email)
    assert "mobile phone" in notice.body


def test_changing_both_needs_both_codes_and_a_right_one_is_remembered(client, customer, sms_outbox):
    old_email = customer.email
    sign_in(client, customer)
    client.post(URL, contact(customer, email=NEW_EMAIL, mobile_phone="+19735550188"))
    email_code = code_in(mail_to(mail.outbox, NEW_EMAIL)[0].body)
    sms_code = code_in(sms_outbox[0][1])
    assert ">Send new codes</button>" in client.get(CONFIRM).content.decode()
    wrong = "000000" if sms_code != "000000" else "111111"
    client.post(CONFIRM, {"email_code": email_code, "phone_code": wrong})
    customer.refresh_from_db()
    assert (customer.email, customer.mobile_phone) == (old_email, "+12015550123")
    page = client.get(CONFIRM).content.decode()
    assert 'name="email_code"' not in page and 'name="phone_code"' in page
    assert ">Send a new code</button>" in page  # only the text's code is still missing
    client.post(CONFIRM, {"phone_code": sms_code})
    customer.refresh_from_db()
    assert (customer.email, customer.mobile_phone) == (NEW_EMAIL, "+19735550188")
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.CONTACT_CHANGED).count() == 1
    assert len(mail_to(mail.outbox, old_email)) == 1


def test_removing_the_mobile_phone_needs_no_code(client, customer, sms_outbox):
    sign_in(client, customer)
    response = client.post(URL, contact(customer, mobile_phone=""))
    assert response.status_code == 302 and response["Location"] == "/my/profile/"
    customer.refresh_from_db()
    assert customer.mobile_phone == ""
    assert sms_outbox == []
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.CONTACT_CHANGED).count() == 1
    assert len(mail_to(mail.outbox, customer.email)) == 1


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"email": "not-an-email"}, "Enter an email address in the correct format"),
        ({"mobile_phone": "555-01"}, "10-digit"),
        ({"mobile_phone": "call me maybe"}, "mobile number"),
        ({}, "already your contact information"),
    ],
)
def test_invalid_contact_details_change_nothing_and_keep_what_was_typed(
    client, customer, changes, message, sms_outbox
):
    sign_in(client, customer)
    page = client.post(URL, contact(customer, **changes)).content.decode()
    assert message in page
    for value in changes.values():
        assert f'value="{value}"' in page
    customer.refresh_from_db()
    assert customer.mobile_phone == "+12015550123"
    assert mail.outbox == [] and sms_outbox == []


def test_an_undeliverable_code_changes_nothing_and_says_so(client, customer, monkeypatch):
    from security import codes

    def broken(**kwargs):
        raise codes.CodeDeliveryError("down")

    monkeypatch.setattr(codes, "_deliver", broken)
    sign_in(client, customer)
    page = client.post(URL, contact(customer, email=NEW_EMAIL)).content.decode()
    assert "could not send a security code" in page
    assert f'value="{NEW_EMAIL}"' in page
    assert client.get(CONFIRM)["Location"] == URL


def test_cancelling_forgets_the_pending_change(client, customer):
    sign_in(client, customer)
    client.post(URL, contact(customer, email=NEW_EMAIL))
    code = code_in(mail_to(mail.outbox, NEW_EMAIL)[0].body)
    client.post("/my/profile/contact/cancel/")
    response = client.post(CONFIRM, {"email_code": code})
    assert response.status_code == 302 and response["Location"] == URL
    customer.refresh_from_db()
    assert customer.email != NEW_EMAIL


def test_new_codes_can_be_sent_after_the_wait(client, customer):
    with time_machine.travel("2026-11-28 10:00:00+00:00", tick=False) as clock:
        sign_in(client, customer)
        client.post(URL, contact(customer, email=NEW_EMAIL))
        first = code_in(mail_to(mail.outbox, NEW_EMAIL)[0].body)
        page = client.post("/my/profile/contact/resend/", follow=True).content.decode()
        assert "You can ask for a new one in" in page
        clock.shift(31)
        sign_in(client, customer)
        client.post("/my/profile/contact/resend/")
        second = code_in(mail_to(mail.outbox, NEW_EMAIL)[-1].body)
        if first != second:
            client.post(CONFIRM, {"email_code": first})  # the older code is void
            customer.refresh_from_db()
            assert customer.email != NEW_EMAIL
        client.post(CONFIRM, {"email_code": second})
    customer.refresh_from_db()
    assert customer.email == NEW_EMAIL


def test_a_pending_change_that_cannot_be_read_starts_over(client, customer):
    sign_in(client, customer)
    client.post(URL, contact(customer, email=NEW_EMAIL))
    session = client.session
    session[CONTACT_PENDING] = {"flow_id": "left over from another version"}
    session.save()
    response = client.get(CONFIRM)
    assert response.status_code == 302 and response["Location"] == URL
    assert CONTACT_PENDING not in client.session
