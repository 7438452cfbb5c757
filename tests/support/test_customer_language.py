"""Support's actions reach the customer in the language on the customer's record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from security.lockout import username_key
from security.models import SignInLock

pytestmark = pytest.mark.django_db


def test_unlock_tells_a_spanish_speaking_customer_in_spanish(agent, customer_url, make_user):
    customer = make_user()
    customer.language = "es"
    customer.save(update_fields=["language"])
    SignInLock.objects.create(
        username_key=username_key(customer.username),
        failure_count=5,
        locked_until=timezone.now() + timedelta(minutes=30),
    )
    agent.post(customer_url(customer, "unlock"), {"unlock-reason": "Caller verified"})
    [email] = mail.outbox
    assert email.to == [customer.email]
    assert email.subject == "Se restableció el acceso en línea a su cuenta de Example Auto Finance"
    assert "está habilitado de nuevo" in email.body and "Hola, " in email.body
