"""Passkeys in the support console: listed by name and dates only, removed one at a time with a
reason (audited, the customer emailed), and all of them with the registered devices."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from security.models import Passkey, SecurityEvent
from support.models import StaffAuditEntry

pytestmark = pytest.mark.django_db


def _passkey(user, name: str = "Work laptop", **fields) -> Passkey:
    return Passkey.objects.create(
        user=user,
        credential_id=secrets.token_urlsafe(32),
        public_key=b"\xa5\x01\x02" + secrets.token_bytes(64),
        user_handle=secrets.token_urlsafe(32),
        name=name,
        **fields,
    )


def test_the_customer_page_lists_passkeys_by_name_and_dates_only(agent, customer_url, make_user):
    customer = make_user()
    used = timezone.now() - timedelta(days=2)
    laptop = _passkey(customer, "Work laptop", last_used_at=used)
    phone = _passkey(customer, "Pixel phone")

    page = agent.get(customer_url(customer)).content.decode()

    assert '<h2 id="passkeys-heading">Passkeys</h2>' in page
    assert "<td>Work laptop</td>" in page and "<td>Pixel phone</td>" in page
    shown = timezone.localtime(used)  # the console shows the portal's time zone
    assert f"<td>{shown:%b} {shown.day}, {shown.year}, " in page  # last used
    assert "<td>Never</td>" in page  # the phone's passkey was never used
    for passkey in (laptop, phone):
        assert passkey.credential_id not in page
        assert passkey.user_handle not in page
    assert "Remove a passkey" in page


def test_a_customer_without_passkeys_gets_no_remove_form(agent, customer_url, make_user):
    page = agent.get(customer_url(make_user())).content.decode()
    assert "No passkeys." in page
    assert "Remove a passkey" not in page


def test_agent_removes_one_passkey_with_a_reason_audited_and_emailed(
    agent, customer_url, make_user
):
    customer = make_user()
    lost = _passkey(customer, "Lost phone")
    kept = _passkey(customer, "Work laptop")

    response = agent.post(
        customer_url(customer, "passkeys/remove"),
        {"passkey-passkey": lost.pk, "passkey-reason": "Caller lost the phone"},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == customer_url(customer)
    assert list(Passkey.objects.filter(user=customer)) == [kept]
    entry = StaffAuditEntry.objects.get(action="passkey_removed")
    assert (entry.staff, entry.customer_id) == (agent.staff, customer.pk)
    assert (entry.reason, entry.outcome) == ("Caller lost the phone", "Removed: Lost phone")
    event = SecurityEvent.objects.get(user=customer, kind="passkey_removed")
    assert (event.detail, event.ip) == ("Lost phone", None)  # never the agent's address
    [email] = mail.outbox
    assert email.to == [customer.email]
    assert email.subject == "A passkey was removed from your Example Auto Finance account"
    assert 'A passkey named "Lost phone" was removed' in email.body
    assert "If you asked our support team for this, there is nothing to do." in email.body
    assert "127.0.0.1" not in email.body
    page = agent.get(customer_url(customer)).content.decode()
    assert "Removed the passkey Lost phone of" in page


def test_a_spanish_speaking_customer_is_told_in_spanish(agent, customer_url, make_user):
    customer = make_user()
    customer.language = "es"
    customer.save(update_fields=["language"])
    passkey = _passkey(customer, "Portátil")
    agent.post(
        customer_url(customer, "passkeys/remove"),
        {"passkey-passkey": passkey.pk, "passkey-reason": "Caller asked"},
    )
    [email] = mail.outbox
    assert "Portátil" in email.body
    assert "Si usted se lo pidió a nuestro equipo de asistencia, no tiene que hacer nada." in (
        email.body
    )
    assert "Es posible que alguien nos haya llamado haciéndose pasar por usted." in email.body


def test_removal_needs_a_reason_and_changes_nothing_without_one(agent, customer_url, make_user):
    customer = make_user()
    passkey = _passkey(customer)
    response = agent.post(
        customer_url(customer, "passkeys/remove"),
        {"passkey-passkey": passkey.pk, "passkey-reason": " "},
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert Passkey.objects.filter(pk=passkey.pk).exists()
    assert not StaffAuditEntry.objects.filter(action="passkey_removed").exists()
    assert mail.outbox == []


def test_another_customers_passkey_is_404_and_stays(agent, customer_url, make_user):
    customer = make_user()
    other = make_user()
    theirs = _passkey(other)
    _passkey(customer)
    response = agent.post(
        customer_url(customer, "passkeys/remove"),
        {"passkey-passkey": theirs.pk, "passkey-reason": "Caller asked"},
    )
    assert response.status_code == 404
    assert Passkey.objects.filter(pk=theirs.pk).exists()
    assert Passkey.objects.filter(user=customer).count() == 1
    assert not StaffAuditEntry.objects.filter(action="passkey_removed").exists()
    assert mail.outbox == []


def test_staff_without_the_permission_are_refused(make_staff, customer_url, make_user):
    from django.contrib.auth.models import Permission
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.conftest import HttpsClient

    # A role that may look at customers but not remove passkeys.
    staff = make_staff("viewer")
    staff.user_permissions.add(Permission.objects.get(codename="view_customeraccount"))
    client = HttpsClient()
    client.force_login(staff)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=staff).persistent_id
    session.save()
    customer = make_user()
    passkey = _passkey(customer)

    assert client.get(customer_url(customer)).status_code == 200
    assert "Remove a passkey" not in client.get(customer_url(customer)).content.decode()
    response = client.post(
        customer_url(customer, "passkeys/remove"),
        {"passkey-passkey": passkey.pk, "passkey-reason": "Caller asked"},
    )
    assert response.status_code == 403
    assert Passkey.objects.filter(pk=passkey.pk).exists()
    assert not StaffAuditEntry.objects.filter(action="passkey_removed").exists()


def test_removal_refuses_get(agent, customer_url, make_user):
    customer = make_user()
    _passkey(customer)
    assert agent.get(customer_url(customer, "passkeys/remove")).status_code == 405


def test_removing_devices_removes_every_passkey_too(agent, customer_url, make_user):
    customer = make_user()
    other = make_user()
    _passkey(customer, "Work laptop")
    _passkey(customer, "Pixel phone")
    _passkey(other)
    page = agent.get(customer_url(customer)).content.decode()
    assert "Remove registered devices and passkeys" in page
    assert "every passkey of the customer stops working" in page

    response = agent.post(
        customer_url(customer, "devices/remove"), {"devices-reason": "Account taken over"}
    )

    assert response.status_code == 302
    assert not Passkey.objects.filter(user=customer).exists()
    assert Passkey.objects.filter(user=other).count() == 1
    entry = StaffAuditEntry.objects.get(action="devices_removed")
    assert (entry.reason, entry.outcome) == (
        "Account taken over",
        "0 devices and 2 passkeys removed",
    )
    event = SecurityEvent.objects.get(user=customer, kind="passkey_removed")
    assert event.detail == "All passkeys (2)"
    [email] = mail.outbox
    assert email.to == [customer.email]
    assert "Our support team removed your registered devices and every passkey" in email.body
    page = agent.get(customer_url(customer)).content.decode()
    assert "Removed 0 registered devices and 2 passkeys of" in page
