"""Staff sign in to the support console with password plus an authenticator-app code."""

from __future__ import annotations

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import DEMO_PASSWORD
from tests.support.conftest import STAFF_PASSWORD


def _code(user) -> str:
    device = TOTPDevice.objects.get(user=user)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _login(client, console_url, username, password, code=""):
    return client.post(
        console_url("login/"),
        # "next" is the login form's hidden field, set to the console's home page.
        {"username": username, "password": password, "otp_token": code, "next": console_url()},
    )


def test_login_page_asks_for_username_password_and_authenticator_code(client, console_url, db):
    response = client.get(console_url("login/"))
    assert response.status_code == 200
    html = response.content.decode()
    for label in ("Username", "Password", "Code from your authenticator app"):
        assert label in html
    assert 'autocomplete="one-time-code"' in html


def test_staff_with_password_and_current_code_reaches_the_console(client, console_url, make_staff):
    staff = make_staff("agent")
    response = _login(client, console_url, staff.username, STAFF_PASSWORD, _code(staff))
    assert response.status_code == 302
    assert response.headers["Location"] == console_url()
    index = client.get(console_url())
    assert index.status_code == 200
    assert "Customer online accounts" in index.content.decode()


def test_staff_password_without_code_is_refused(client, console_url, make_staff):
    staff = make_staff("agent")
    response = _login(client, console_url, staff.username, STAFF_PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get(console_url()).status_code == 302


def test_staff_with_a_wrong_code_is_refused(client, console_url, make_staff):
    staff = make_staff("agent")
    wrong = f"{(int(_code(staff)) + 1) % 1_000_000:06d}"
    response = _login(client, console_url, staff.username, STAFF_PASSWORD, wrong)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_code_is_accepted_only_once(client, console_url, make_staff):
    from tests.conftest import HttpsClient

    staff = make_staff("agent")
    code = _code(staff)
    assert _login(client, console_url, staff.username, STAFF_PASSWORD, code).status_code == 302
    replay = HttpsClient()
    response = _login(replay, console_url, staff.username, STAFF_PASSWORD, code)
    assert response.status_code == 200
    assert "_auth_user_id" not in replay.session


def test_staff_without_an_authenticator_app_is_refused(client, console_url, make_staff):
    staff = make_staff("agent", with_device=False)
    response = _login(client, console_url, staff.username, STAFF_PASSWORD, "123456")
    assert response.status_code == 200
    # The one answer to any wrong combination: it does not say the password was right.
    assert "The username, password or code is not right." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(console_url()).status_code == 302


def test_staff_signed_in_without_a_code_cannot_use_the_console(
    client, console_url, make_staff, make_user
):
    staff = make_staff("supervisor")
    customer = make_user()
    client.force_login(staff)  # password only: the OTP step never happened
    for path in ("", "support/customeraccount/", f"support/customeraccount/{customer.pk}/change/"):
        response = client.get(console_url(path))
        assert response.status_code == 302
        assert response.headers["Location"].startswith(console_url("login/"))
    response = client.post(
        console_url(f"support/customeraccount/{customer.pk}/disable/"), {"disable-reason": "x"}
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.is_active


def test_a_customer_cannot_sign_in_to_the_console(client, console_url, make_user):
    customer = make_user()
    TOTPDevice.objects.create(user=customer, name="Authenticator app", confirmed=True)
    response = _login(client, console_url, customer.username, DEMO_PASSWORD, _code(customer))
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_console_logins_are_rate_limited_per_ip(client, console_url, make_staff, settings):
    settings.PORTAL_LOGIN_IP_RATE = "3/m"
    staff = make_staff("agent")
    for _ in range(3):
        assert _login(client, console_url, staff.username, "wrong password").status_code == 200
    response = _login(client, console_url, staff.username, STAFF_PASSWORD, _code(staff))
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_an_idle_staff_session_ends(agent, console_url, settings):
    import time_machine
    from django.utils import timezone

    settings.PORTAL_SESSION_IDLE_SECONDS = 15 * 60
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert agent.get(console_url()).status_code == 200
    with time_machine.travel(start.timestamp() + 14 * 60, tick=False):
        assert agent.get(console_url()).status_code == 200
    with time_machine.travel(start.timestamp() + 30 * 60, tick=False):
        response = agent.get(console_url())
        assert response.status_code == 302
        assert response.headers["Location"].startswith(console_url("login/"))
        assert "_auth_user_id" not in agent.session


def test_a_staff_session_ends_at_the_absolute_limit_even_when_active(agent, console_url, settings):
    import time_machine
    from django.utils import timezone

    settings.PORTAL_SESSION_IDLE_SECONDS = 15 * 60
    settings.SESSION_COOKIE_AGE = 12 * 60 * 60
    start = timezone.now()
    # Active every ten minutes, so never idle: only the absolute limit can end it.
    minute = 0
    while minute <= 12 * 60 - 10:
        with time_machine.travel(start.timestamp() + minute * 60, tick=False):
            assert agent.get(console_url()).status_code == 200, f"minute {minute}"
        minute += 10
    with time_machine.travel(start.timestamp() + 12 * 60 * 60 + 60, tick=False):
        response = agent.get(console_url())
    assert response.status_code == 302
    assert response.headers["Location"].startswith(console_url("login/"))
    assert "_auth_user_id" not in agent.session
    assert agent.get(console_url()).status_code == 302
