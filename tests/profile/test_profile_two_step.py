"""My Online Profile: Two-step verification (authenticator app and backup codes)."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from security import two_step
from security.models import BackupCode, SecurityEvent
from tests.portal.test_https import ERROR_SUMMARY_SCRIPT
from tests.profile.profile_support import sign_in

pytestmark = pytest.mark.django_db

URL = "/my/profile/two-step/"
APP = "/my/profile/two-step/app/"
T0 = "2026-11-28 10:00:00+00:00"


def app_code(key_text: str) -> str:
    compact = key_text.replace(" ", "")
    return f"{totp(base64.b32decode(compact + '=' * (-len(compact) % 8))):06d}"


def shown_key(page: str) -> str:
    return re.search(r'<code class="key" id="totp-key">([A-Z2-7 ]+)</code>', page).group(1)


@pytest.fixture
def customer(make_user):
    return make_user()


def test_setting_up_shows_a_server_drawn_qr_code_and_the_key(client, customer):
    sign_in(client, customer)
    assert "Set up an authenticator app" in client.get(URL).content.decode()
    response = client.post("/my/profile/two-step/app/start/")
    assert response.status_code == 302 and response["Location"] == APP
    page = client.get(APP).content.decode()
    assert '<img class="qr" src="data:image/svg+xml;base64,' in page
    assert re.findall(r"<script\b[^>]*>", page) == [ERROR_SUMMARY_SCRIPT]
    assert "<svg" not in page
    device = TOTPDevice.objects.get(user=customer)
    assert device.confirmed is False
    assert shown_key(page) == two_step.totp_key_text(device)


def test_the_app_is_confirmed_with_a_code_computed_from_the_key(client, customer):
    with time_machine.travel(T0, tick=False):
        sign_in(client, customer)
        client.post("/my/profile/two-step/app/start/")
        key = shown_key(client.get(APP).content.decode())
        response = client.post(APP, {"code": app_code(key)})
    assert response.status_code == 302 and response["Location"] == URL
    assert two_step.totp_device_for(customer) is not None
    assert (
        SecurityEvent.objects.filter(
            user=customer, kind=SecurityEvent.Kind.TWO_STEP_CHANGED
        ).count()
        == 1
    )
    assert "An authenticator app was set up" in mail.outbox[0].body
    with time_machine.travel(T0, tick=False):
        page = client.get(URL).content.decode()
    assert "An authenticator app is set up" in page


def test_a_wrong_code_leaves_the_app_unconfirmed_and_clears_the_box(client, customer):
    with time_machine.travel(T0, tick=False):
        sign_in(client, customer)
        client.post("/my/profile/two-step/app/start/")
        page = client.post(APP, {"code": "123456"}).content.decode()
    assert "This code is not right" in page and 'value="123456"' not in page
    assert two_step.totp_device_for(customer) is None
    assert mail.outbox == []
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TWO_STEP_CHANGED).exists()


def test_a_right_code_right_after_a_wrong_one_is_told_to_wait_not_called_wrong(client, customer):
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(client, customer)
        client.post("/my/profile/two-step/app/start/")
        key = shown_key(client.get(APP).content.decode())
        wrong = "000000" if app_code(key) != "000000" else "111111"
        assert "This code is not right" in client.post(APP, {"code": wrong}).content.decode()
        clock.shift(timedelta(milliseconds=500))
        page = client.post(APP, {"code": app_code(key)}).content.decode()
        assert "Wait 1 second, then enter the code" in page
        assert "not right" not in page
        assert two_step.totp_device_for(customer) is None
        clock.shift(timedelta(seconds=1))
        assert client.post(APP, {"code": app_code(key)})["Location"] == URL
    assert two_step.totp_device_for(customer) is not None


def test_confirm_page_without_a_setup_in_progress_goes_back(client, customer):
    sign_in(client, customer)
    assert client.get(APP)["Location"] == URL
    assert client.post(APP, {"code": "123456"})["Location"] == URL


def test_removing_the_app(client, customer):
    device = two_step.totp_setup_begin(user=customer)
    TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    sign_in(client, customer)
    client.post("/my/profile/two-step/app/remove/")
    assert not TOTPDevice.objects.filter(user=customer).exists()
    assert "authenticator app was removed" in mail.outbox[0].body
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TWO_STEP_CHANGED).count() == 1


def test_backup_codes_are_shown_once_and_work_once(client, customer):
    sign_in(client, customer)
    page = client.post("/my/profile/two-step/backup-codes/").content.decode()
    codes = re.findall(r"<li><code>([0-9A-Z ]+)</code></li>", page)
    assert len(codes) == 10
    assert "shown only this once" in page
    assert "no-store" in client.get(URL)["Cache-Control"]
    later = client.get(URL).content.decode()
    assert not any(code in later for code in codes)
    assert "10 unused backup codes" in later
    assert two_step.backup_code_use(user=customer, code=codes[0])
    assert not two_step.backup_code_use(user=customer, code=codes[0])
    assert "backup codes" in mail.outbox[0].body.lower()


def test_regenerating_backup_codes_voids_the_old_ones(client, customer):
    sign_in(client, customer)
    first = re.findall(
        r"<li><code>([0-9A-Z ]+)</code></li>",
        client.post("/my/profile/two-step/backup-codes/").content.decode(),
    )
    second = re.findall(
        r"<li><code>([0-9A-Z ]+)</code></li>",
        client.post("/my/profile/two-step/backup-codes/").content.decode(),
    )
    assert not set(first) & set(second)
    assert not two_step.backup_code_use(user=customer, code=first[0])
    assert two_step.backup_code_use(user=customer, code=second[0])
    assert BackupCode.objects.filter(user=customer).count() == 10


def test_backup_codes_cannot_be_created_by_a_get(client, customer):
    sign_in(client, customer)
    assert client.get("/my/profile/two-step/backup-codes/").status_code == 405
    assert not BackupCode.objects.exists()
