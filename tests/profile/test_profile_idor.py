"""A second signed-in customer tries every profile URL and identifier of the first: 404 or
their own data, never the first customer's."""

from __future__ import annotations

import hashlib
import secrets

import pytest
from django.core import mail

from security import two_step
from security.models import RegisteredDevice, SecurityEvent
from tests.profile.profile_support import sign_in

pytestmark = pytest.mark.django_db

PAGES = [
    "/my/vehicles/",
    "/my/vehicles/add/",
    "/my/profile/",
    "/my/profile/challenge-questions/",
    "/my/profile/password/",
    "/my/profile/contact/",
    "/my/profile/devices/",
    "/my/profile/two-step/",
    "/my/profile/electronic-communications/",
    "/my/profile/activity/",
]


@pytest.fixture
def victim(make_user):
    user = make_user(
        email="victim.only@example.com", mobile_phone="+19735550111", first_name="Vera"
    )
    RegisteredDevice.objects.create(
        user=user,
        token_hash=hashlib.sha256(secrets.token_bytes(32)).hexdigest(),
        name="Victim Tablet",
    )
    SecurityEvent.objects.create(user=user, kind=SecurityEvent.Kind.LOGIN_FAILED, ip="192.0.2.77")
    two_step.totp_setup_begin(user=user)
    return user


@pytest.fixture
def attacker(make_user, client):
    user = make_user(first_name="Mallory")
    sign_in(client, user)
    return user


@pytest.mark.parametrize("url", PAGES)
def test_every_page_shows_only_the_signed_in_customers_data(client, victim, attacker, url):
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    for secret in ("victim.only@example.com", "+19735550111", "Victim Tablet", "192.0.2.77"):
        assert secret not in page
    for loan in victim.loan_accounts.select_related("vehicle"):
        assert f"VIN ending</dt><dd>{loan.vehicle.vin[-4:]}<" not in page


def test_another_customers_device_id_gives_404_and_removes_nothing(client, victim, attacker):
    device = RegisteredDevice.objects.get(user=victim)
    assert client.post(f"/my/profile/devices/{device.pk}/remove/").status_code == 404
    assert client.post(f"/my/profile/devices/{device.pk + 1000}/remove/").status_code == 404
    assert RegisteredDevice.objects.filter(pk=device.pk).exists()
    assert mail.outbox == []


def test_another_customers_pending_app_is_never_shown_or_confirmed(client, victim, attacker):
    victim_key = two_step.totp_key_text(two_step.totp_pending_device(victim))
    response = client.get("/my/profile/two-step/app/")
    assert response.status_code == 302  # the attacker has nothing pending
    client.post("/my/profile/two-step/app/start/")
    page = client.get("/my/profile/two-step/app/").content.decode()
    assert victim_key not in page
    client.post("/my/profile/two-step/app/remove/")
    assert two_step.totp_pending_device(victim) is not None


def test_another_customers_challenge_question_cannot_be_targeted(client, victim, attacker):
    from security.models import ChallengeAnswer

    victim_rows = list(ChallengeAnswer.objects.filter(user=victim).values_list("pk", "answer_hash"))
    # The "current" value names a question of one's own; the victim's row is unreachable.
    client.post(
        "/my/profile/challenge-questions/",
        {"current": "first_car", "new_question": "", "answer": "hijacked"},
    )
    assert list(ChallengeAnswer.objects.filter(user=victim).values_list("pk", "answer_hash")) == (
        victim_rows
    )


def test_remove_all_and_backup_codes_touch_only_the_signed_in_customer(client, victim, attacker):
    client.post("/my/profile/devices/remove-all/")
    client.post("/my/profile/two-step/backup-codes/")
    assert RegisteredDevice.objects.filter(user=victim).exists()
    assert two_step.backup_codes_remaining(victim) == 0
    assert all(victim.email not in message.to for message in mail.outbox)
