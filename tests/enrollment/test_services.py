"""enrollment_complete: all or nothing, only the customer's own loans, one account per customer
and per username even when enrollments finish at the same instant."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password

from accounts.models import ElectronicConsent, User
from enrollment.flow import (
    ConflictReason,
    EnrollmentConflict,
    EnrollmentProfile,
    enrollment_complete,
)
from security.challenge import QUESTIONS, hash_answer
from security.models import ChallengeAnswer, SecurityEvent
from tests.enrollment.conftest import PASSWORD

_PASSWORD_HASH = make_password(PASSWORD)
_ANSWERS = tuple(
    (key, hash_answer(answer))
    for key, answer in zip(list(QUESTIONS)[:3], ["blue sky", "rex dog", "paris city"], strict=True)
)


def profile_for(username: str) -> EnrollmentProfile:
    return EnrollmentProfile(
        username=username,
        password_hash=_PASSWORD_HASH,
        answers=_ANSWERS,
    )


def complete(customer, username: str, account_ids: list[int] | None = None) -> User:
    verified = customer.loan_accounts.order_by("account_number").first()
    return enrollment_complete(
        customer_id=customer.pk,
        verified_account_id=verified.pk,
        account_ids=account_ids or [],
        profile=profile_for(username),
    )


def _nothing_saved() -> bool:
    return not (
        User.objects.exists()
        or ChallengeAnswer.objects.exists()
        or ElectronicConsent.objects.exists()
        or SecurityEvent.objects.filter(kind=SecurityEvent.Kind.ENROLLED).exists()
    )


@pytest.mark.django_db
def test_the_online_account_gets_the_contact_on_the_customers_record(make_customer):
    customer = make_customer(email="rosa@example.com", mobile_phone="+12015550177")
    user = complete(customer, "rosa.online")
    assert (user.email, user.mobile_phone) == ("rosa@example.com", "+12015550177")


@pytest.mark.django_db
def test_a_staff_username_is_taken_like_any_other(make_customer, django_user_model):
    django_user_model.objects.create_user(username="Alex.Morgan", password="x" * 20, is_staff=True)
    with pytest.raises(EnrollmentConflict) as raised:
        complete(make_customer(), "alex.morgan")
    assert raised.value.reason == ConflictReason.USERNAME_TAKEN
    assert User.objects.filter(customer__isnull=False).count() == 0


@pytest.mark.django_db
def test_links_only_the_customers_own_loans(make_customer):
    customer, other = make_customer(loans=2), make_customer()
    mine = list(customer.loan_accounts.order_by("account_number"))
    user = complete(customer, "owner.one", [mine[1].pk, other.loan_accounts.get().pk])
    assert set(user.loan_accounts.all()) == set(mine)


@pytest.mark.django_db
def test_verifying_account_of_another_customer_is_refused(make_customer):
    customer, other = make_customer(), make_customer()
    with pytest.raises(ValueError, match="verifying account"):
        enrollment_complete(
            customer_id=customer.pk,
            verified_account_id=other.loan_accounts.get().pk,
            account_ids=[],
            profile=profile_for("someone.else"),
        )
    assert _nothing_saved()


@pytest.mark.django_db
def test_a_failure_midway_leaves_nothing_half_made(make_customer, monkeypatch):
    customer = make_customer()

    def broken(*args, **kwargs):
        raise RuntimeError("event store down")

    monkeypatch.setattr("enrollment.flow.record_event", broken)
    with pytest.raises(RuntimeError):
        complete(customer, "half.made")
    assert _nothing_saved()


@pytest.mark.django_db
def test_username_taken_in_another_case_is_a_conflict_with_nothing_saved(make_customer, make_user):
    make_user(username="Taken.Name")
    customer = make_customer()
    with pytest.raises(EnrollmentConflict) as raised:
        complete(customer, "taken.NAME")
    assert raised.value.reason == ConflictReason.USERNAME_TAKEN
    assert not User.objects.filter(customer=customer).exists()
    assert ChallengeAnswer.objects.count() == 3  # only make_user's


@pytest.mark.django_db
def test_enrolled_customer_cannot_get_a_second_account(make_customer):
    customer = make_customer()
    complete(customer, "first.account")
    with pytest.raises(EnrollmentConflict) as raised:
        complete(customer, "second.account")
    assert raised.value.reason == ConflictReason.CUSTOMER_ENROLLED
    assert User.objects.count() == 1
