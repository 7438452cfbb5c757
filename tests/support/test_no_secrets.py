"""No console page shows a hash, a code, a key or identity data: crawled as each role."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from security.models import (
    ActionToken,
    BackupCode,
    ChallengeAnswer,
    RegisteredDevice,
    SecurityCode,
    SecurityEvent,
)
from support.models import StaffAuditEntry

HREF = re.compile(r'href="([^"#]+)')
BIRTH_DATE = date(1979, 11, 23)


@pytest.fixture
def customer_with_secrets(make_user, agent):
    customer = make_user(tin_last4="8642", birth_date=BIRTH_DATE, mobile_phone="+12025550199")
    now = timezone.now()
    RegisteredDevice.objects.create(
        user=customer, token_hash=hashlib.sha256(b"device").hexdigest(), name="Firefox on Linux"
    )
    SecurityCode.objects.create(
        user=customer,
        purpose="login",
        flow_id=secrets.token_hex(16),
        channel="email",
        destination=customer.email,
        code_hash=hashlib.sha256(b"code").hexdigest(),
        expires_at=now + timedelta(minutes=5),
    )
    BackupCode.objects.create(user=customer, code_hash=hashlib.sha256(b"backup").hexdigest())
    ActionToken.objects.create(
        user=customer,
        purpose="not_me",
        token_hash=hashlib.sha256(b"token").hexdigest(),
        expires_at=now + timedelta(days=7),
    )
    TOTPDevice.objects.create(user=customer, name="Authenticator app", confirmed=True)
    for kind in ("login_failed", "locked", "device_added", "code_sent"):
        SecurityEvent.objects.create(
            user=customer, kind=kind, ip="203.0.113.9", device="Firefox on Linux"
        )
    StaffAuditEntry.objects.create(
        staff=agent.staff,
        staff_username=agent.staff.username,
        customer=customer,
        customer_username=customer.username,
        action="unlocked",
        reason="Caller verified",
    )
    return customer


def _secrets_of(customer, staff_users) -> dict[str, str]:
    found = {
        "password hash": customer.password,
        "identity digest": customer.customer.identity_digest,
        "full email": customer.email,
        "full phone": customer.mobile_phone,
        "birth date (ISO)": BIRTH_DATE.isoformat(),
        "birth date (US)": BIRTH_DATE.strftime("%m/%d/%Y"),
        "birth date (text)": "Nov. 23, 1979",
        "birth date (long)": "November 23, 1979",
    }
    for i, answer in enumerate(ChallengeAnswer.objects.filter(user=customer)):
        found[f"answer hash {i}"] = answer.answer_hash
        found[f"answer hash tail {i}"] = answer.answer_hash.rsplit("$", 1)[-1]
    for model, fieldname in (
        (RegisteredDevice, "token_hash"),
        (SecurityCode, "code_hash"),
        (BackupCode, "code_hash"),
        (ActionToken, "token_hash"),
    ):
        for value in model.objects.filter(user=customer).values_list(fieldname, flat=True):
            found[f"{model.__name__}.{fieldname}"] = value
    for account in customer.loan_accounts.select_related("vehicle"):
        found["full VIN"] = account.vehicle.vin
        found["full account number"] = account.account_number
    for user in [customer, *staff_users]:
        found[f"password hash of {user.username}"] = user.password
        for device in TOTPDevice.objects.filter(user=user):
            found[f"TOTP key of {user.username}"] = device.key
    return found


def _crawl(client, start_urls, console_prefix, limit=400) -> dict[str, str]:
    pages: dict[str, str] = {}
    queue = list(start_urls)
    while queue and len(pages) < limit:
        url = queue.pop(0)
        if url in pages:
            continue
        response = client.get(url)
        if response.status_code in (301, 302):
            continue
        assert response.status_code in (200, 403), (url, response.status_code)
        html = response.content.decode()
        pages[url] = html
        for href in HREF.findall(html):
            target = urljoin(url, href.replace("&amp;", "&"))
            path = urlsplit(target).path
            # Filter links are followed one level deep (their combinations add nothing new).
            if (
                path.startswith(console_prefix)
                and "/logout/" not in path
                and not ("?" in url and "?" in target)
                and target not in pages
            ):
                queue.append(target)
    return pages


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_no_console_page_shows_hashes_codes_keys_or_identity_data(
    role, request, customer_with_secrets, console_url, customer_url
):
    client = request.getfixturevalue(role)
    customer = customer_with_secrets
    # A few actions first, so verification outcomes and action messages are on the pages.
    client.post(
        customer_url(customer, "verify/identity"),
        {"identity-tin_last4": "8642", "identity-birth_date": BIRTH_DATE.isoformat()},
    )
    client.post(
        customer_url(customer, "verify/answer"),
        {"question-question": "first_car", "question-answer": "blue"},
    )
    client.post(customer_url(customer, "unlock"), {"unlock-reason": "Caller verified"})
    pages = _crawl(
        client,
        [
            console_url(),
            customer_url(customer),
            console_url(f"support/customeraccount/{customer.pk}/history/"),
            console_url(f"support/customeraccount/?q={customer.last_name}"),
            console_url(f"support/customeraccount/?q={customer.username}"),
        ],
        console_url(),
    )
    assert customer_url(customer) in pages
    assert any("securityevent/" in url and "change" in url for url in pages)
    if role == "supervisor":
        assert any("staffauditentry/" in url and "change" in url for url in pages)
    # Pages re-rendered with form errors, too.
    for action, data in (
        ("unlock", {"unlock-reason": ""}),
        ("verify/identity", {"identity-tin_last4": "86", "identity-birth_date": "x"}),
        ("verify/answer", {"question-question": "first_car", "question-answer": ""}),
    ):
        response = client.post(customer_url(customer, action), data)
        assert response.status_code == 200
        pages[f"POST {action}"] = response.content.decode()

    secrets_ = _secrets_of(customer, [client.staff])
    for url, html in pages.items():
        for name, value in secrets_.items():
            assert value not in html, f"{name} appears on {url}"
    page = pages[customer_url(customer)]
    assert "(***) ***-0199" in page
    assert customer.email[0] + "***@example.com" in page
