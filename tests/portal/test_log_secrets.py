"""No password, security code, challenge answer, link token or identity datum reaches a log line
during a whole enrollment, a log-in with extra verification and a password recovery, wrong
entries included."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.utils import timezone

from accounts.models import User
from portal.request_log import JsonFormatter
from security.challenge import QUESTIONS
from security.sms import LocmemSmsBackend
from signin.flow import FLOW_KEY
from tests.conftest import HttpsClient
from tests.enrollment.conftest import ANSWERS, PASSWORD, QUESTION_KEYS, Wizard

pytestmark = pytest.mark.django_db

TIN = "7319"
BIRTH_DATE = date(1979, 8, 23)
NEW_PASSWORD = "orchid lantern gravel sunrise 27"
CODE = re.compile(r"\b(\d{6})\b")
LINK_TOKEN = re.compile(r"/not-me/([A-Za-z0-9_-]{20,})/")


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    """Every record any logger writes, at every level, as the portal prints it (JSON) and also
    as bare message text, so neither the formatter nor the redaction can hide a leak."""
    stream = io.StringIO()
    as_json = logging.StreamHandler(stream)
    as_json.setFormatter(JsonFormatter())
    bare = logging.StreamHandler(stream)
    bare.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(as_json)
    root.addHandler(bare)
    try:
        yield stream
    finally:
        root.removeHandler(as_json)
        root.removeHandler(bare)
        root.setLevel(previous)


def sent_codes() -> set[str]:
    bodies = [m.body for m in mail.outbox] + [body for _, body in LocmemSmsBackend.outbox]
    return {code for body in bodies for code in CODE.findall(body)}


def test_no_secret_or_identity_datum_is_ever_logged(make_customer, log_text):
    customer = make_customer(tin_last4=TIN, birth_date=BIRTH_DATE)
    account = customer.loan_accounts.get()
    reference_forms = {account.account_number, account.vehicle.vin}
    client = HttpsClient()
    wizard = Wizard(client, customer)

    # Enrollment: a wrong TIN first, a wrong code, then the whole wizard.
    wrong = client.post("/enroll/", {"tin_last4": "0000", "birth_date": "08/23/1979",
                                     "reference": account.account_number})  # fmt: skip
    assert wrong.status_code == 200
    wizard.verify(tin_last4=TIN, birth_date="08231979")
    wizard.vehicles()
    wizard.profile(username="log.safe.customer")
    wizard.consent()
    code = wizard.send_code()
    assert wizard.confirm("999999" if code != "999999" else "999998").status_code == 200
    assert wizard.confirm(code)["Location"] == "/enroll/device/"
    client.post("/enroll/device/", {"choice": "skip"})
    client.post("/logout/")

    # Log In from an unregistered device: a wrong password, a wrong answer, then the code (a
    # minute later: one address gets one code per resend interval).
    later = time_machine.travel(timezone.now() + timedelta(minutes=1), tick=True)
    later.start()
    device = HttpsClient()
    device.post("/login/", {"username": "log.safe.customer", "password": PASSWORD + "x"})
    device.post("/login/", {"username": "log.safe.customer", "password": PASSWORD})
    device.get("/login/verify/")
    asked = device.session[FLOW_KEY]["question"]
    answer = ANSWERS[QUESTION_KEYS.index(asked)]
    device.post("/login/verify/", {"action": "continue", "answer": "not " + answer, "code": "1"})
    device.post("/login/verify/", {"action": "send", "channel": "email", "answer": answer})
    login_code = CODE.findall(mail.outbox[-1].body)[0]
    response = device.post(
        "/login/verify/", {"action": "continue", "answer": answer, "code": login_code}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    session_key = device.cookies[settings.SESSION_COOKIE_NAME].value
    device.get("/my/vehicles/")
    device.post("/logout/")

    later.stop()

    # Forgot password? with the identity details, the code and a new password.
    later = time_machine.travel(timezone.now() + timedelta(minutes=2), tick=True)
    later.start()
    recovery = HttpsClient()
    identity = {"tin_last4": TIN, "birth_date": "08/23/1979", "reference": account.vehicle.vin}
    step = recovery.post("/forgot-password/", {"username": "log.safe.customer", **identity})
    assert step["Location"] == "/forgot-password/send/"
    recovery.post("/forgot-password/send/", {"channel": "email"})
    recovery.post("/forgot-password/code/", {"code": "000001"})
    recovery.post("/forgot-password/code/", {"code": CODE.findall(mail.outbox[-1].body)[0]})
    done = recovery.post(
        "/forgot-password/new/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert done.status_code == 302
    later.stop()

    # A "This wasn't me" link from one of the security emails, opened.
    tokens = {t for m in mail.outbox for t in LINK_TOKEN.findall(m.body)}
    assert tokens, "the security emails carry a link"
    HttpsClient().get(f"/not-me/{sorted(tokens)[0]}/")
    # Django logs the path of a refused form: one posted without its CSRF token, with a link.
    forged = HttpsClient(enforce_csrf_checks=True).post(f"/not-me/{sorted(tokens)[-1]}/")
    assert forged.status_code == 403

    assert User.objects.filter(username="log.safe.customer").exists()
    text = log_text.getvalue()
    # The capture works: request-bound lines of the message worker and of the CSRF refusal.
    assert '"logger": "django.tasks"' in text and '"logger": "django.security.csrf"' in text
    secrets = {
        "password": {PASSWORD, PASSWORD + "x", NEW_PASSWORD},
        "challenge answer": set(ANSWERS) | {"not " + a for a in ANSWERS},
        "security code": sent_codes(),
        "link token": tokens,
        "session key": {session_key},
        "account number or VIN": reference_forms,
        "birth date": {"08/23/1979", "08231979", "1979-08-23"},
    }
    assert all(secrets.values())
    leaks = [
        f"{kind}: {value!r}"
        for kind, values in secrets.items()
        for value in values
        if value in text
    ]
    # The TIN digits as a number of their own (not inside a longer run of digits or an id).
    if re.search(rf"(?<![0-9A-Za-z]){TIN}(?![0-9A-Za-z])", text):
        leaks.append(f"TIN digits: {TIN!r}")
    assert leaks == []
    assert QUESTIONS[asked] not in text  # not even which question was asked
