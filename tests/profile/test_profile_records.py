"""My Online Profile: the overview, Electronic communications and Log-in activity."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import ElectronicConsent
from security.models import SecurityEvent
from tests.profile.profile_support import sign_in

pytestmark = pytest.mark.django_db

ACTIVITY = "/my/profile/activity/"
ESIGN = "/my/profile/electronic-communications/"


@pytest.fixture
def customer(make_user):
    return make_user()


def test_the_profile_menu_and_overview_name_every_section(client, customer):
    sign_in(client, customer)
    page = client.get("/my/profile/").content.decode()
    menu = page.split('<details class="menu">')[1].split("</details>")[0]
    assert "<summary>Manage My Profile</summary>" in menu
    for words in (
        "My Online Profile",
        "Challenge Questions",
        "Password",
        "Contact information",
        "Registered devices",
        "Two-step verification",
        "Electronic communications",
        "Log-in activity",
    ):
        assert f">{words}</a>" in menu
        assert words in page.split("<main")[1]
    # The overview names it in the Help Center's words (the menu's link text is base.html's).
    assert 'href="/my/profile/activity/"' in menu
    assert ">Log-in activity</a>" in page.split("<main")[1]


def test_signed_out_visitors_see_no_profile_menu(client):
    assert "Manage My Profile" not in client.get("/").content.decode()


def test_profile_pages_need_a_login(client):
    for url in ("/my/profile/", ACTIVITY, ESIGN, "/my/profile/password/", "/my/reauth/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


def test_activity_lists_the_last_20_events_newest_first_with_failed_attempts(client, customer):
    now = timezone.now()
    for minute in range(25):
        SecurityEvent.objects.create(
            user=customer,
            kind=SecurityEvent.Kind.LOGIN_SUCCEEDED,
            created_at=now - timedelta(minutes=100 - minute),
            ip="198.51.100.7",
            device="Firefox on Linux",
        )
    SecurityEvent.objects.create(
        user=customer,
        kind=SecurityEvent.Kind.LOGIN_FAILED,
        created_at=now - timedelta(minutes=1),
        ip="203.0.113.99",
        device="Chrome on Windows",
    )
    sign_in(client, customer)
    page = client.get(ACTIVITY).content.decode()
    rows = page.split("<tbody>")[1].split("</tbody>")[0].count("<tr>")
    assert rows == 20
    first_row = page.split("<tbody>")[1].split("</tr>")[0]
    assert "Wrong username or password" in first_row
    assert "203.0.113.99" in first_row and "Chrome on Windows" in first_row
    for header in ("Time", "Event", "Device or browser", "IP address"):
        assert f'<th scope="col">{header}</th>' in page


def test_activity_shows_nobody_elses_events(client, customer, make_user):
    other = make_user()
    SecurityEvent.objects.create(
        user=other, kind=SecurityEvent.Kind.LOGIN_FAILED, ip="192.0.2.44", device="Opera"
    )
    SecurityEvent.objects.create(kind=SecurityEvent.Kind.LOGIN_FAILED, ip="192.0.2.45")
    sign_in(client, customer)
    page = client.get(ACTIVITY).content.decode()
    assert "192.0.2.44" not in page and "192.0.2.45" not in page


def test_electronic_communications_shows_version_time_and_full_text(client, customer):
    accepted_at = timezone.now().replace(year=2026, month=11, day=2, hour=15, minute=4)
    ElectronicConsent.objects.create(
        user=customer, disclosure_version="2026-11", accepted_at=accepted_at
    )
    sign_in(client, customer)
    page = client.get(ESIGN).content.decode()
    # In the portal's named date format (portal/formats), whatever it is for English.
    day = date_format(timezone.localtime(accepted_at), "DATE_FORMAT")
    assert f"You accepted disclosure version 2026-11 on {day} at " in page
    assert "Consent to receive electronic communications" in page
    assert "Withdrawing your consent" in page
    assert "Disclosure version 2026-11" in page


def test_electronic_communications_without_a_record_says_so(client, customer):
    sign_in(client, customer)
    assert "no record of your consent" in client.get(ESIGN).content.decode()


def test_activity_times_carry_the_portals_time_zone(client, customer):
    from datetime import UTC, datetime

    created_at = datetime(2026, 11, 30, 20, 45, tzinfo=UTC)
    SecurityEvent.objects.create(
        user=customer,
        kind=SecurityEvent.Kind.LOGIN_FAILED,
        created_at=created_at,
        ip="203.0.113.99",
    )
    sign_in(client, customer)
    page = client.get(ACTIVITY).content.decode()
    assert "<h1>Log-in activity</h1>" in page
    # 20:45 UTC is 3:45 PM in the portal's zone, shown in its named format with the zone.
    local = date_format(timezone.localtime(created_at), "DATETIME_FORMAT")
    assert "3:45" in local
    assert f'<td data-label="Time">{local} EST</td>' in page
