"""Authenticator app (TOTP) and backup codes: security.two_step."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, unquote, urlparse

import pytest
import time_machine
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from security import two_step
from security.models import BackupCode, SecurityEvent

pytestmark = pytest.mark.django_db

T0 = 1_800_000_000  # a fixed moment, at the start of a 30-second step


def app_code(key_text: str, at: float) -> str:
    """What a phone app shows: RFC 6238 from the base32 key the customer typed in."""
    compact = key_text.replace(" ", "")
    key = base64.b32decode(compact + "=" * (-len(compact) % 8))
    with time_machine.travel(at, tick=False):
        return f"{totp(key):06d}"


@pytest.fixture
def user(make_user):
    return make_user()


@pytest.fixture
def app(user):
    """A confirmed authenticator app set up at T0; returns its key as the customer saw it."""
    device = two_step.totp_setup_begin(user=user)
    key_text = two_step.totp_key_text(device)
    with time_machine.travel(T0, tick=False):
        assert two_step.totp_setup_confirm(user=user, code=app_code(key_text, T0))
    return key_text


def test_setup_creates_an_unconfirmed_app_that_is_not_yet_a_sign_in_choice(user):
    device = two_step.totp_setup_begin(user=user)
    assert device.confirmed is False
    assert two_step.totp_device_for(user) is None
    with time_machine.travel(T0, tick=False):
        code = app_code(two_step.totp_key_text(device), T0)
        assert two_step.totp_verify(user=user, code=code) is False


def test_key_is_shown_as_base32_in_groups_of_four(user):
    device = two_step.totp_setup_begin(user=user)
    text = two_step.totp_key_text(device)
    groups = text.split(" ")
    assert all(len(g) == 4 for g in groups) and len(groups) == 8  # 20 bytes = 32 characters
    assert base64.b32decode("".join(groups)) == device.bin_key


def test_qr_code_is_an_inline_svg_image_of_the_otpauth_uri(user, settings):
    settings.PORTAL_LENDER_NAME = "Example Auto Finance"
    device = two_step.totp_setup_begin(user=user)
    uri = two_step.totp_qr_data_uri(device)
    assert uri.startswith("data:image/svg+xml;base64,")
    svg = base64.b64decode(uri.split(",", 1)[1]).decode()
    assert svg.startswith("<svg") and "<script" not in svg
    config = urlparse(two_step.totp_config_url(device))
    assert config.scheme == "otpauth" and config.netloc == "totp"
    assert unquote(config.path) == f"/Example Auto Finance:{user.username}"
    params = parse_qs(config.query)
    assert params["secret"] == [two_step.totp_key_text(device).replace(" ", "")]
    assert params["issuer"] == ["Example Auto Finance"]


def test_confirming_with_the_app_code_makes_it_the_sign_in_app_and_records_one_event(user):
    device = two_step.totp_setup_begin(user=user)
    with time_machine.travel(T0, tick=False):
        assert two_step.totp_setup_confirm(
            user=user, code=app_code(two_step.totp_key_text(device), T0)
        )
    assert two_step.totp_device_for(user).pk == device.pk
    events = SecurityEvent.objects.filter(user=user, kind=SecurityEvent.Kind.TWO_STEP_CHANGED)
    assert [e.detail for e in events] == ["Authenticator app set up"]


def test_a_wrong_confirmation_code_changes_nothing(user):
    two_step.totp_setup_begin(user=user)
    with time_machine.travel(T0, tick=False):
        assert two_step.totp_setup_confirm(user=user, code="000000") is False
    assert two_step.totp_device_for(user) is None
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TWO_STEP_CHANGED).exists()


def test_a_new_app_replaces_the_old_one_only_once_confirmed(user, app):
    old = two_step.totp_device_for(user)
    pending = two_step.totp_setup_begin(user=user)
    assert two_step.totp_device_for(user).pk == old.pk
    later = T0 + 300
    with time_machine.travel(later, tick=False):
        assert two_step.totp_setup_confirm(
            user=user, code=app_code(two_step.totp_key_text(pending), later)
        )
    assert list(TOTPDevice.objects.filter(user=user).values_list("pk", flat=True)) == [pending.pk]


def test_current_app_code_verifies(user, app):
    at = T0 + 120
    with time_machine.travel(at, tick=False):
        assert two_step.totp_verify(user=user, code=app_code(app, at)) is True


def test_a_code_cannot_be_replayed(user, app):
    at = T0 + 120
    code = app_code(app, at)
    with time_machine.travel(at, tick=False):
        assert two_step.totp_verify(user=user, code=code) is True
    with time_machine.travel(at + 5, tick=False):
        assert two_step.totp_verify(user=user, code=code) is False


def test_the_confirmation_code_cannot_be_reused_at_sign_in(user, app):
    with time_machine.travel(T0 + 1, tick=False):
        assert two_step.totp_verify(user=user, code=app_code(app, T0)) is False


def test_an_old_code_is_refused(user, app):
    at = T0 + 600
    with time_machine.travel(at, tick=False):
        assert two_step.totp_verify(user=user, code=app_code(app, at - 300)) is False


@pytest.mark.parametrize(
    "code",
    ["", "12345", "1234567", "12 3456", "\uff11\uff12\uff13\uff14\uff15\uff16", "+12345", "abcdef"],
)
def test_malformed_codes_are_refused(user, app, code):
    assert two_step.totp_verify(user=user, code=code) is False


def test_wrong_codes_are_throttled_so_the_right_code_waits(user, app):
    at = T0 + 120
    with time_machine.travel(at, tick=False):
        assert two_step.totp_verify(user=user, code="000000") is False
        assert two_step.totp_verify(user=user, code="000001") is False
        # django-otp now wants 2 seconds before the next try: even the right code is refused.
        assert two_step.totp_verify(user=user, code=app_code(app, at)) is False
    with time_machine.travel(at + 5, tick=False):
        assert two_step.totp_verify(user=user, code=app_code(app, at + 5)) is True


def test_another_customers_app_code_does_not_work(make_user, user, app):
    other = make_user()
    at = T0 + 90
    with time_machine.travel(at, tick=False):
        assert two_step.totp_verify(user=other, code=app_code(app, at)) is False


def test_removing_the_app_ends_it_as_a_choice_and_records_an_event(user, app):
    assert two_step.totp_remove(user=user) is True
    assert two_step.totp_device_for(user) is None
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert SecurityEvent.objects.filter(
        user=user, kind=SecurityEvent.Kind.TWO_STEP_CHANGED, detail="Authenticator app removed"
    ).exists()
    assert two_step.totp_remove(user=user) is False


# --- Backup codes -------------------------------------------------------------------------------
def test_ten_backup_codes_of_at_least_128_random_bits_are_stored_only_as_hashes(user):
    codes = two_step.backup_codes_generate(user=user)
    assert len(codes) == 10 and len(set(codes)) == 10
    for code in codes:
        compact = code.replace(" ", "")
        assert len(compact) * 5 >= 128
        assert set(compact) <= set(two_step.BACKUP_CODE_ALPHABET)
    stored = set(BackupCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert stored == {hashlib.sha256(c.replace(" ", "").encode()).hexdigest() for c in codes}
    assert not any(c.replace(" ", "") in h for c in codes for h in stored)
    assert two_step.backup_codes_remaining(user) == 10


def test_each_backup_code_works_once(user):
    codes = two_step.backup_codes_generate(user=user)
    assert two_step.backup_code_use(user=user, code=codes[3]) is True
    assert two_step.backup_code_use(user=user, code=codes[3]) is False
    assert two_step.backup_code_use(user=user, code=codes[4]) is True
    assert two_step.backup_codes_remaining(user) == 8


def test_backup_code_is_accepted_without_spaces_in_any_case_and_with_lookalikes(user):
    codes = two_step.backup_codes_generate(user=user)
    typed = codes[0].replace(" ", "-").lower().replace("0", "o").replace("1", "l")
    assert two_step.backup_code_use(user=user, code=typed) is True


def test_regenerating_voids_the_old_codes_and_records_an_event(user):
    old = two_step.backup_codes_generate(user=user)
    new = two_step.backup_codes_generate(user=user)
    assert two_step.backup_code_use(user=user, code=old[0]) is False
    assert two_step.backup_code_use(user=user, code=new[0]) is True
    assert (
        SecurityEvent.objects.filter(
            user=user, kind=SecurityEvent.Kind.TWO_STEP_CHANGED, detail="Backup codes generated"
        ).count()
        == 2
    )


def test_another_customers_backup_code_does_not_work(make_user, user):
    codes = two_step.backup_codes_generate(user=user)
    assert two_step.backup_code_use(user=make_user(), code=codes[0]) is False
    assert two_step.backup_codes_remaining(user) == 10


@pytest.mark.parametrize("code", ["", "A" * 28, "0" * 27, "not a code at all"])
def test_wrong_backup_codes_are_refused(user, code):
    two_step.backup_codes_generate(user=user)
    assert two_step.backup_code_use(user=user, code=code) is False
    assert two_step.backup_codes_remaining(user) == 10


def test_backup_code_is_compared_in_constant_time(user, monkeypatch):
    codes = two_step.backup_codes_generate(user=user)
    calls = []
    real = two_step.hmac.compare_digest
    monkeypatch.setattr(two_step.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    assert two_step.backup_code_use(user=user, code=codes[9]) is True
    assert len(calls) == 10  # every unused code compared, no early exit on a match


def test_a_backup_code_spent_by_a_parallel_request_is_not_accepted_twice(user, monkeypatch):
    """The parallel request marks the code used after this one read it but before it claims it:
    the conditional UPDATE must notice."""
    codes = two_step.backup_codes_generate(user=user)
    real = two_step.hmac.compare_digest

    def racing_compare(a, b):
        matched = real(a, b)
        if matched:
            BackupCode.objects.filter(code_hash=a).update(used_at=two_step.timezone.now())
        return matched

    monkeypatch.setattr(two_step.hmac, "compare_digest", racing_compare)
    assert two_step.backup_code_use(user=user, code=codes[0]) is False
