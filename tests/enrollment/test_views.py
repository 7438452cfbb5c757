"""The enrollment wizard over HTTPS, as a customer and as an attacker would meet it."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from importlib import import_module

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth.hashers import check_password
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import ElectronicConsent, User
from enrollment.flow import SESSION_KEY
from security.challenge import answer_matches
from security.models import ChallengeAnswer, IdentityVerificationThrottle, SecurityEvent
from tests.enrollment.conftest import (
    ANSWERS,
    BIRTH_DATE,
    BIRTH_DATE_TYPED,
    PASSWORD,
    QUESTION_KEYS,
    TIN,
    Wizard,
    identity_data,
)

pytestmark = pytest.mark.django_db

NOT_VERIFIED = "We couldn&#x27;t verify your information."
IDENTITY_STRINGS = [TIN, BIRTH_DATE_TYPED, BIRTH_DATE.isoformat(), "1985", "04/12"]


def _error_summary(response) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', response.content.decode(), re.S)
    assert match, response.content.decode()[:3000]
    return match.group(0)


def _hidden_inputs(response) -> list[str]:
    return re.findall(r'<input type="hidden"[^>]*>', response.content.decode())


def _session_dump(client) -> str:
    return json.dumps(dict(client.session.items()), default=str)


def _wrong_vin_check_digit(vin: str) -> str:
    return vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]


# --- Step 1 ---------------------------------------------------------------------------------------
def test_enroll_now_leads_to_step_one_with_a_visible_step_indicator(client):
    home = client.get("/").content.decode()
    assert 'href="/enroll/">Enroll Now</a>' in home
    page = client.get("/enroll/").content.decode()
    assert '<li aria-current="step">Step 1: Your account information</li>' in page
    assert "<h1>Enter your account information</h1>" in page
    for label in ("Last 4 digits of SSN or TIN", "Date of birth", "Account number or VIN"):
        assert f">{label}</label>" in page
    hint = "Month, day and year. For example, 04121985 or 04/12/1985."
    assert f'id="id_birth_date_helptext">{hint}</p>' in page


def test_identity_matching_an_account_number_starts_the_wizard(client, wizard):
    wizard.verify()
    page = client.get("/enroll/vehicles/").content.decode()
    assert "<h1>Add your vehicle(s)</h1>" in page
    assert '<li class="done">Step 1: Your account information (done)</li>' in page


def test_identity_matching_a_vin_typed_in_lower_case_with_spaces_starts_the_wizard(
    client, wizard, customer
):
    vin = customer.loan_accounts.order_by("account_number").last().vehicle.vin
    wizard.verify(reference=f" {vin[:6].lower()} {vin[6:]} ")
    assert client.session[SESSION_KEY]["verified_account_id"] == (
        customer.loan_accounts.order_by("account_number").last().pk
    )


def test_mismatch_message_is_identical_whichever_field_was_wrong(client, customer, make_customer):
    other = make_customer(tin_last4="1111")
    cases = {
        "tin": identity_data(customer, tin_last4="8643"),
        "birth date": identity_data(customer, birth_date="04/13/1985"),
        "unknown account": identity_data(customer, reference="9999999999"),
        "another customer's account": identity_data(
            customer, reference=other.loan_accounts.get().account_number
        ),
    }
    summaries = {}
    for name, data in cases.items():
        response = client.post("/enroll/", data)
        assert response.status_code == 200, name
        assert NOT_VERIFIED in response.content.decode()
        assert 'class="errorlist' not in response.content.decode().split("</div>", 1)[1]
        summaries[name] = _error_summary(response)
    assert len(set(summaries.values())) == 1
    summary = next(iter(summaries.values()))
    for word in ("SSN", "TIN", "birth", "account number", "VIN"):
        assert word not in summary
    assert SESSION_KEY not in client.session


def test_failed_verification_is_recorded_without_identity_data(client, customer):
    client.post("/enroll/", identity_data(customer, tin_last4="8643"), REMOTE_ADDR="203.0.113.9")
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.VERIFY_FAILED)
    assert event.ip == "203.0.113.9"
    assert event.user is None
    stored = f"{event.detail} {event.device}"
    account = customer.loan_accounts.first()
    for secret in [*IDENTITY_STRINGS, "8643", account.account_number, account.vehicle.vin]:
        assert secret not in stored


def test_vin_with_a_bad_check_digit_is_refused_before_it_counts_as_an_attempt(
    client, wizard, customer
):
    vin = customer.loan_accounts.order_by("account_number").first().vehicle.vin
    for _ in range(5):
        response = client.post(
            "/enroll/", identity_data(customer, reference=_wrong_vin_check_digit(vin))
        )
        assert response.status_code == 200
        assert "check digit" in response.content.decode()
    assert IdentityVerificationThrottle.objects.count() == 0
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.VERIFY_FAILED).exists()
    wizard.verify(reference=vin)


def test_after_three_failures_on_an_account_even_correct_data_needs_a_code(client, customer):
    """The loan is paused: no wizard starts on the details alone (tests/enrollment/
    test_paused_loan.py: the code to the contact on record lets the customer through)."""
    for _ in range(3):
        response = client.post("/enroll/", identity_data(customer, tin_last4="0000"))
        assert NOT_VERIFIED in response.content.decode()
    response = client.post("/enroll/", identity_data(customer))
    assert response.status_code == 302 and response["Location"] == "/enroll/code/"
    assert SESSION_KEY not in client.session
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.VERIFY_LIMITED).count() == 1


def test_failure_limit_counts_per_account_or_vin_tried(client, customer, make_customer):
    stranger = make_customer(tin_last4="5555")
    for _ in range(3):
        client.post("/enroll/", identity_data(customer, tin_last4="0000"))
    # The same customer's other loan, and another customer, are not locked by those failures.
    second = customer.loan_accounts.order_by("account_number").last().account_number
    assert client.post("/enroll/", identity_data(customer, reference=second)).status_code == 302
    other = Wizard(client.__class__(), stranger)
    other.verify(tin_last4="5555", reference=stranger.loan_accounts.get().account_number)


def test_failure_limit_resets_after_the_24_hour_window(client, customer):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            client.post("/enroll/", identity_data(customer, tin_last4="0000"))
        paused = client.post("/enroll/", identity_data(customer))
        assert paused["Location"] == "/enroll/code/"
    with time_machine.travel(start + timedelta(hours=24, seconds=1), tick=False):
        assert client.post("/enroll/", identity_data(customer))["Location"] == "/enroll/vehicles/"


def test_per_ip_limit_refuses_further_attempts_from_that_address(
    client, customer, make_customer, settings
):
    settings.PORTAL_VERIFY_IP_RATE = "3/h"
    for n in range(3):
        response = client.post(
            "/enroll/", identity_data(customer, reference=f"77777{n}"), REMOTE_ADDR="198.51.100.7"
        )
        assert NOT_VERIFIED in response.content.decode()
    response = client.post("/enroll/", identity_data(customer), REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 429
    assert "too many attempts" in response.content.decode().lower()
    # Refused before checking: no further failure recorded, nothing for the real account.
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.VERIFY_FAILED).count() == 3
    assert SESSION_KEY not in client.session
    fresh = client.__class__()
    assert (
        fresh.post("/enroll/", identity_data(customer), REMOTE_ADDR="198.51.100.8").status_code
        == 302
    )


def test_per_ip_limit_fails_closed_when_the_limit_store_is_down(client, customer, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr("security.ratelimits.is_ratelimited", broken)
    response = client.post("/enroll/", identity_data(customer))
    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_already_enrolled_customer_is_told_so_with_links_to_log_in_and_recover(client, make_user):
    user = make_user(tin_last4=TIN, birth_date=BIRTH_DATE)
    response = client.post("/enroll/", identity_data(user.customer))
    page = response.content.decode()
    assert response.status_code == 200
    assert "You are already enrolled" in page
    assert 'href="/login/">Log In</a>' in page
    assert re.search(r'href="/[^"]*forgot-username/">Forgot username\?</a>', page)
    assert re.search(r'href="/[^"]*forgot-password/">Forgot password\?</a>', page)
    assert SESSION_KEY not in client.session


def test_verification_gives_the_session_a_new_key(client, wizard):
    client.get("/enroll/")
    client.session.save()
    before = client.cookies["__Host-session"].value
    wizard.verify()
    assert client.cookies["__Host-session"].value != before


# --- Identity data stays in step 1 ----------------------------------------------------------------
def test_identity_data_never_reaches_the_session_urls_or_hidden_fields(client, wizard, customer):
    responses = [client.get("/enroll/"), wizard.verify()]
    state = client.session[SESSION_KEY]
    assert set(state) == {
        "customer_id",
        "verified_account_id",
        "flow_id",
        "last_activity",
        "account_ids",
        "profile",
        "consented",
        "channel",
        "contact_proven",
    }
    assert state["customer_id"] == customer.pk
    responses += [client.get("/enroll/vehicles/"), wizard.vehicles()]
    responses += [client.get("/enroll/profile/"), wizard.profile()]
    responses += [client.get("/enroll/consent/"), client.get("/enroll/consent/declined/")]
    responses += [wizard.consent(), client.get("/enroll/confirm/")]
    code = wizard.send_code()
    responses.append(client.get("/enroll/confirm/"))
    dump = _session_dump(client)
    for secret in [
        TIN,
        BIRTH_DATE_TYPED,
        BIRTH_DATE.isoformat(),
        "04/12",
        PASSWORD,
        *ANSWERS,
        code,
    ]:
        # As a value of its own: digits may occur by chance inside a timestamp or the flow id.
        assert not re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", dump)
    responses.append(wizard.confirm(code))
    for response in responses:
        location = response.get("Location", "")
        for secret in IDENTITY_STRINGS:
            assert secret not in location
        for hidden in _hidden_inputs(response):
            assert 'name="csrfmiddlewaretoken"' in hidden
    assert SESSION_KEY not in client.session


def test_security_events_of_an_enrollment_hold_no_identity_data(client, wizard, customer):
    client.post("/enroll/", identity_data(customer, birth_date="04/13/1985"))
    wizard.finish()
    account = customer.loan_accounts.first()
    for event in SecurityEvent.objects.all():
        stored = f"{event.detail} {event.device}"
        for secret in [
            *IDENTITY_STRINGS,
            "04/13/1985",
            account.account_number,
            account.vehicle.vin,
        ]:
            assert secret not in stored


# --- Step order and expiry ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/enroll/vehicles/",
        "/enroll/profile/",
        "/enroll/consent/",
        "/enroll/consent/declined/",
        "/enroll/confirm/",
        "/enroll/confirm/send/",
    ],
)
def test_later_steps_need_a_verified_identity(client, path, mailoutbox):
    data = {"agree": "on", "accounts": [1], "channel": "email", "code": "123456"}
    for response in (client.get(path), client.post(path, data)):
        assert response.status_code == 302
        assert response["Location"] == "/enroll/"
    assert User.objects.count() == 0
    assert mailoutbox == []


def test_steps_cannot_be_skipped(client, wizard, mailoutbox):
    wizard.verify()
    assert client.get("/enroll/profile/")["Location"] == "/enroll/vehicles/"
    assert client.post("/enroll/consent/", {"agree": "on"})["Location"] == "/enroll/vehicles/"
    wizard.vehicles()
    assert client.get("/enroll/consent/")["Location"] == "/enroll/profile/"
    assert client.post("/enroll/consent/", {"agree": "on"})["Location"] == "/enroll/profile/"
    wizard.profile()
    assert client.get("/enroll/confirm/")["Location"] == "/enroll/consent/"
    send = client.post("/enroll/confirm/send/", {"channel": "email"})
    assert send["Location"] == "/enroll/consent/"
    assert client.post("/enroll/confirm/", {"code": "123456"})["Location"] == "/enroll/consent/"
    assert User.objects.count() == 0
    assert mailoutbox == []


def test_wizard_expires_after_15_minutes_without_activity(client, wizard):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        wizard.verify()
    with time_machine.travel(start + timedelta(minutes=14), tick=False):
        assert client.get("/enroll/vehicles/").status_code == 200
    # 14 minutes after that last request the wizard is still alive; 15 and a bit, it is gone.
    with time_machine.travel(start + timedelta(minutes=28), tick=False):
        assert client.get("/enroll/vehicles/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=43, seconds=1), tick=False):
        response = client.get("/enroll/vehicles/", follow=True)
        assert response.redirect_chain == [("/enroll/", 302)]
        assert "timed out after 15 minutes" in response.content.decode()
        assert SESSION_KEY not in client.session


def test_enrollment_pages_are_never_cached(client, wizard):
    assert "no-store" in client.get("/enroll/")["Cache-Control"]
    wizard.verify()
    assert "no-store" in client.get("/enroll/vehicles/")["Cache-Control"]


def test_signed_in_customer_is_sent_to_my_vehicles(client, make_user):
    client.force_login(make_user())
    assert client.get("/enroll/")["Location"] == "/my/vehicles/"
    assert client.get("/enroll/consent/")["Location"] == "/my/vehicles/"
    assert client.get("/enroll/confirm/")["Location"] == "/my/vehicles/"


# --- Step 2 ---------------------------------------------------------------------------------------
def test_vehicles_step_lists_each_loan_with_the_verified_one_locked(client, wizard, customer):
    wizard.verify()
    page = client.get("/enroll/vehicles/").content.decode()
    first, second = customer.loan_accounts.order_by("account_number")
    for account in (first, second):
        v = account.vehicle
        assert (
            f"{v.year} {v.make} {v.model}, VIN ending {v.vin[-4:]}, "
            f"account ending {account.account_number[-4:]}"
        ) in page
    assert f'value="{first.pk}" id="id_accounts_0" checked disabled' in page


def test_verified_vehicle_stays_linked_even_if_the_post_leaves_it_out(client, wizard, customer):
    second = customer.loan_accounts.order_by("account_number").last()
    wizard.verify(reference=second.account_number)
    wizard.vehicles([])
    wizard.profile()
    wizard.consent()
    wizard.confirm(wizard.send_code())
    user = User.objects.get(customer=customer)
    assert list(user.loan_accounts.all()) == [second]


def test_another_customers_vehicle_cannot_be_added(client, wizard, customer, make_customer):
    other = make_customer()
    wizard.verify()
    response = client.post("/enroll/vehicles/", {"accounts": [other.loan_accounts.get().pk]})
    assert response.status_code == 200
    assert "Choose only vehicles from the list." in response.content.decode()
    assert client.session[SESSION_KEY]["account_ids"] is None


def test_single_vehicle_customer_sees_it_confirmed(client, make_customer):
    single = make_customer(tin_last4=TIN, birth_date=BIRTH_DATE, loans=1)
    wizard = Wizard(client, single)
    wizard.verify()
    page = client.get("/enroll/vehicles/").content.decode()
    vehicle = single.loan_accounts.get().vehicle
    assert "We found this vehicle on your account" in page
    assert f"{vehicle.year} {vehicle.make} {vehicle.model}" in page
    assert 'type="checkbox"' not in page
    wizard.vehicles()


# --- Step 3 ---------------------------------------------------------------------------------------
def test_profile_step_asks_for_no_email_or_mobile_the_record_has_them(client, wizard, customer):
    wizard.verify()
    wizard.vehicles()
    page = client.get("/enroll/profile/").content.decode()
    assert 'name="email"' not in page and 'name="mobile_phone"' not in page
    assert customer.email not in page and customer.mobile_phone not in page
    assert "uses the email address and mobile number on your loan record" in page
    assert "change them under My Online Profile" in page
    assert page.count('autocomplete="new-password"') == 2
    assert page.count("<select") == 3


def test_profile_errors_keep_typed_values_but_never_the_password(client, wizard):
    wizard.verify()
    wizard.vehicles()
    response = client.post(
        "/enroll/profile/",
        {**_profile(), "password1": "iloveyouiloveyou", "password2": "iloveyouiloveyou"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert '<div class="error-summary" role="alert"' in page
    assert "list of passwords that attackers try first" in page
    assert 'value="dana.r-2026"' in page
    assert "iloveyouiloveyou" not in page
    assert client.session[SESSION_KEY]["profile"] is None


def _profile():
    from tests.enrollment.conftest import profile_data

    return profile_data()


# --- Step 4 and the result ------------------------------------------------------------------------
def test_consent_step_shows_the_disclosure_and_requires_the_box(client, wizard, settings):
    settings.PORTAL_ESIGN_VERSION = "2026-11"
    wizard.through_profile()
    page = client.get("/enroll/consent/").content.decode()
    assert "<h1>Authorize electronic communications</h1>" in page
    assert "Disclosure version 2026-11" in page
    assert "Withdrawing your consent" in page and "Paper copies" in page
    assert ">Agree and continue</button>" in page
    response = client.post("/enroll/consent/", {})
    assert response.status_code == 200
    assert "tick the box to agree" in response.content.decode()
    assert client.get("/enroll/confirm/")["Location"] == "/enroll/consent/"
    assert User.objects.count() == 0


def test_declining_explains_that_enrollment_needs_consent_and_how_to_reach_support(
    client, wizard, settings
):
    wizard.through_profile()
    page = client.get("/enroll/consent/").content.decode()
    assert 'href="/enroll/consent/declined/">I do not agree</a>' in page
    declined = client.get("/enroll/consent/declined/").content.decode()
    assert "Online enrollment needs your consent" in declined
    assert settings.PORTAL_SUPPORT_PHONE in declined
    assert settings.PORTAL_SUPPORT_HOURS in declined
    assert User.objects.count() == 0


def test_finishing_with_the_code_creates_the_account_with_the_contact_on_record(
    client, wizard, customer, mailoutbox, settings
):
    first, second = customer.loan_accounts.order_by("account_number")
    wizard.verify()
    wizard.vehicles([second.pk])
    wizard.profile()
    wizard.consent()
    code = wizard.send_code()
    response = wizard.confirm(
        code,
        REMOTE_ADDR="192.0.2.44",
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
    )
    assert response.status_code == 302 and response["Location"] == "/enroll/device/"

    user = User.objects.get(customer=customer)
    assert user.username == "dana.r-2026"
    assert check_password(PASSWORD, user.password)
    assert user.password.startswith("argon2$argon2id$")
    assert (user.email, user.mobile_phone) == (customer.email, customer.mobile_phone)
    assert (user.first_name, user.last_name) == (customer.first_name, customer.last_name)
    assert set(user.loan_accounts.all()) == {first, second}

    answers = list(ChallengeAnswer.objects.filter(user=user).order_by("id"))
    assert [a.question for a in answers] == QUESTION_KEYS
    for row, answer in zip(answers, ANSWERS, strict=True):
        assert answer not in row.answer_hash
        assert answer_matches(f"  {answer.upper()} ", row.answer_hash)

    consent = ElectronicConsent.objects.get(user=user)
    assert consent.disclosure_version == settings.PORTAL_ESIGN_VERSION
    assert consent.ip == "192.0.2.44"
    assert consent.user_agent == "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
    assert abs((timezone.now() - consent.accepted_at).total_seconds()) < 60

    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.ENROLLED)
    assert event.user == user and event.ip == "192.0.2.44"

    code_email, set_up = mailoutbox
    assert code_email.to == set_up.to == [customer.email]
    assert "online access" in code_email.body
    assert "Online access to your" in set_up.subject and "was set up" in set_up.subject
    assert PASSWORD not in set_up.body and TIN not in set_up.body and code not in set_up.body
    # The one link is "This wasn't me"; customers are taught to type the address to log in.
    assert re.findall(r"https?://\S+", set_up.body) == [
        re.search(r"https://\S+/not-me/\S+/", set_up.body).group(0)
    ]
    assert "type our web address yourself" in set_up.body


def test_a_failing_set_up_email_keeps_the_account(client, wizard, customer, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("the message could not be queued")

    wizard.through_consent()
    code = wizard.send_code()
    monkeypatch.setattr("security.notifications.email_queue", broken)
    assert wizard.confirm(code)["Location"] == "/enroll/device/"
    assert User.objects.filter(customer=customer).count() == 1
    assert "_auth_user_id" in client.session


def test_submitting_the_code_again_after_finishing_creates_nothing_more(client, wizard, customer):
    wizard.through_consent()
    code = wizard.send_code()
    assert wizard.confirm(code)["Location"] == "/enroll/device/"
    again = wizard.confirm(code)
    assert again["Location"] == "/my/vehicles/"  # signed in now: the wizard is over
    assert User.objects.filter(customer=customer).count() == 1


def test_second_of_two_simultaneous_submissions_sees_a_clear_message(client, wizard, customer):
    # Both requests carried the same session (the second read it before the first signed in and
    # retired its key): a session holding the old state reproduces what the slower one sees.
    wizard.through_consent()
    code = wizard.send_code()
    before = dict(client.session.items())
    assert wizard.confirm(code)["Location"] == "/enroll/device/"
    stale = import_module(django_settings.SESSION_ENGINE).SessionStore()
    stale.update(before)
    stale.create()
    loser = client_class()
    loser.cookies[django_settings.SESSION_COOKIE_NAME] = stale.session_key
    response = Wizard(loser, customer).confirm(code)
    page = response.content.decode()
    assert response.status_code == 200
    assert "An online account for you was created a moment ago" in page
    assert 'href="/login/">Log In</a>' in page
    assert "_auth_user_id" not in loser.session and SESSION_KEY not in loser.session
    assert User.objects.filter(customer=customer).count() == 1
    assert ChallengeAnswer.objects.count() == 3
    assert ElectronicConsent.objects.count() == 1
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.ENROLLED).count() == 1


def test_two_browsers_enrolling_the_same_customer_end_with_one_account(customer):
    first = Wizard(client_class(), customer)
    second = Wizard(client_class(), customer)
    first.through_consent(username="first.browser")
    second.through_consent(username="second.browser")
    first_code = first.send_code()
    second_code = second.send_code()
    assert first.confirm(first_code)["Location"] == "/enroll/device/"
    loser = second.confirm(second_code)
    assert "An online account for you was created a moment ago" in loser.content.decode()
    assert list(User.objects.values_list("username", flat=True)) == ["first.browser"]
    assert ChallengeAnswer.objects.count() == 3
    assert ElectronicConsent.objects.count() == 1


def test_username_taken_meanwhile_sends_the_customer_back_to_choose_another(
    client, wizard, customer, make_customer
):
    rival_customer = make_customer(tin_last4="4321")
    wizard.through_consent(username="Shared.Name")
    code = wizard.send_code()
    rival = Wizard(client_class(), rival_customer)
    rival.verify(tin_last4="4321", reference=rival_customer.loan_accounts.get().account_number)
    rival.vehicles()
    rival.profile(username="shared.NAME")
    rival.consent()
    assert rival.confirm(rival.send_code())["Location"] == "/enroll/device/"

    response = wizard.confirm(code)
    assert response["Location"] == "/enroll/profile/"
    page = client.get("/enroll/profile/").content.decode()
    assert "Someone else took that username a moment ago" in page
    assert not User.objects.filter(customer=customer).exists()
    # The consent stands, and the code was not used up by the attempt that saved nothing.
    wizard.profile(username="another.name", then="/enroll/confirm/")
    assert wizard.confirm(code)["Location"] == "/enroll/device/"
    assert User.objects.get(customer=customer).username == "another.name"


def client_class():
    from tests.conftest import HttpsClient

    return HttpsClient()


# --- Never a server error -------------------------------------------------------------------------
_FIELDS = ["tin_last4", "birth_date", "reference", "accounts", "username", "password1"]
_FIELDS += ["password2", "email", "mobile_phone", "question_1", "answer_1", "agree", "channel"]
_FIELDS += ["code", "choice"]
_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=80)


@hypothesis_settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(st.sampled_from(_FIELDS), _text))
def test_no_step_answers_with_a_server_error(client, wizard, settings, data):
    settings.PORTAL_VERIFY_IP_RATE = "10000/h"
    assert client.post("/enroll/", data).status_code in {200, 429}
    wizard.verify()
    for url in (
        "/enroll/vehicles/",
        "/enroll/profile/",
        "/enroll/consent/",
        "/enroll/confirm/send/",
        "/enroll/confirm/",
        "/enroll/device/",
    ):
        assert client.post(url, data).status_code in {200, 302}
