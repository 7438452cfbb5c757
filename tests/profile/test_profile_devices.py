"""My Online Profile: Registered devices."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from security.devices import DEVICE_COOKIE, device_for_request
from security.models import RegisteredDevice, SecurityEvent
from tests.profile.profile_support import sign_in

pytestmark = pytest.mark.django_db

URL = "/my/profile/devices/"


def register(user, name: str, *, days_ago: int = 0) -> tuple[RegisteredDevice, str]:
    token = secrets.token_urlsafe(32)
    when = timezone.now() - timedelta(days=days_ago)
    device = RegisteredDevice.objects.create(
        user=user,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        name=name,
        created_at=when,
        last_used_at=when,
    )
    return device, token


@pytest.fixture
def customer(make_user):
    return make_user()


def test_devices_are_listed_with_name_dates_and_this_device_marked(client, customer):
    phone, _ = register(customer, "Safari on iPhone", days_ago=30)
    _laptop, token = register(customer, "Firefox on Windows", days_ago=2)
    client.cookies[DEVICE_COOKIE] = token
    sign_in(client, customer)
    page = client.get(URL).content.decode()
    assert "Safari on iPhone" in page and "Firefox on Windows" in page
    assert page.count("(This device)</strong>") == 1
    this_row = page.split("Firefox on Windows")[1].split("</tr>")[0]
    assert "This device" in this_row
    assert phone.created_at.strftime("%b") in page
    assert page.count(">Remove</button>") == 2 and ">Remove all</button>" in page


def test_removing_one_device_means_it_is_asked_for_verification_again(client, customer, rf):
    device, token = register(customer, "Chrome on Mac")
    keep, _ = register(customer, "Safari on iPhone")
    sign_in(client, customer)
    response = client.post(f"/my/profile/devices/{device.pk}/remove/")
    assert response.status_code == 302 and response["Location"] == URL
    assert list(RegisteredDevice.objects.filter(user=customer)) == [keep]
    request = rf.get("/")
    request.COOKIES[DEVICE_COOKIE] = token
    assert device_for_request(request, customer) is None
    assert (
        SecurityEvent.objects.filter(
            user=customer, kind=SecurityEvent.Kind.DEVICE_REMOVED, detail="Chrome on Mac"
        ).count()
        == 1
    )
    assert len(mail.outbox) == 1 and "Chrome on Mac" in mail.outbox[0].body


def test_remove_all_forgets_every_device(client, customer):
    register(customer, "Chrome on Mac")
    register(customer, "Safari on iPhone")
    sign_in(client, customer)
    client.post("/my/profile/devices/remove-all/")
    assert not RegisteredDevice.objects.filter(user=customer).exists()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.DEVICE_REMOVED).count() == 1
    assert "All your registered devices were removed" in mail.outbox[0].body
    assert "no registered devices" in client.get(URL).content.decode()


def test_another_customers_device_cannot_be_removed(client, customer, make_user):
    other = make_user()
    theirs, _ = register(other, "Edge on Windows")
    sign_in(client, customer)
    assert client.post(f"/my/profile/devices/{theirs.pk}/remove/").status_code == 404
    assert RegisteredDevice.objects.filter(pk=theirs.pk).exists()
    assert "Edge on Windows" not in client.get(URL).content.decode()
    client.post("/my/profile/devices/remove-all/")
    assert RegisteredDevice.objects.filter(pk=theirs.pk).exists()
    assert mail.outbox == []


def test_removing_needs_a_post(client, customer):
    device, _ = register(customer, "Chrome on Mac")
    sign_in(client, customer)
    assert client.get(f"/my/profile/devices/{device.pk}/remove/").status_code == 405
    assert client.get("/my/profile/devices/remove-all/").status_code == 405
    assert RegisteredDevice.objects.filter(pk=device.pk).exists()
