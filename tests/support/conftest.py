"""Staff users for the support console: agents and supervisors with an authenticator app."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import HttpsClient

STAFF_PASSWORD = "staff console passphrase 7 lanterns"


@pytest.fixture
def console_url() -> Any:
    from portal.conf import portal

    def url(path: str = "") -> str:
        return f"/{portal.admin_path}{path}"

    return url


@pytest.fixture
def make_staff(db: Any) -> Any:
    """A staff user in the role's group, with a confirmed TOTP device unless with_device=False."""
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User
    from support.flow import ROLE_GROUPS

    counter = iter(range(1, 1000))

    def factory(role: str = "agent", *, with_device: bool = True, username: str = "") -> User:
        user = User.objects.create_user(
            username=username or f"{role}{next(counter)}",
            password=STAFF_PASSWORD,
            is_staff=True,
        )
        if role in ROLE_GROUPS:
            user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
        if with_device:
            TOTPDevice.objects.create(user=user, name="Support console", confirmed=True)
        return user

    return factory


@pytest.fixture
def staff_client(make_staff: Any) -> Any:
    """An HTTPS client signed in to the console as a new staff user of `role`, code passed."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def factory(role: str = "agent") -> HttpsClient:
        user = make_staff(role)
        client = HttpsClient()
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
        session.save()
        client.staff = user  # type: ignore[attr-defined]
        return client

    return factory


@pytest.fixture
def agent(staff_client: Any) -> HttpsClient:
    return staff_client("agent")


@pytest.fixture
def supervisor(staff_client: Any) -> HttpsClient:
    return staff_client("supervisor")


@pytest.fixture
def customer_url(console_url: Any) -> Any:
    def url(user: Any, action: str = "") -> str:
        return console_url(
            f"support/customeraccount/{user.pk}/{action + '/' if action else 'change/'}"
        )

    return url
