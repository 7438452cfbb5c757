"""Emails and text messages in the customer's own language: Spanish for a customer whose record
says es, whatever the language of the request that caused them; Spanish text messages stay one
segment of GSM-7 characters."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import RequestFactory
from django.utils import timezone, translation
from django.utils.dates import MONTHS

from security.codes import Channel, code_send
from security.lockout import LockNotice
from security.models import SecurityCode
from security.notifications import KINDS, notify

pytestmark = pytest.mark.django_db

# GSM 03.38's basic character set: a text message of these alone fits 160 characters in one
# segment. (Its extension table, such as € or [, costs two characters each: not used here.)
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


@pytest.fixture
def spanish_user(make_user):
    def factory(**kwargs):
        user = make_user(**kwargs)
        user.language = "es"
        user.save(update_fields=["language"])
        return user

    return factory


def _one_gsm7_segment(text: str) -> None:
    assert len(text) <= 160, (len(text), text)
    assert set(text) <= GSM7, (set(text) - GSM7, text)


@pytest.mark.parametrize("purpose", SecurityCode.Purpose.values)
def test_a_spanish_security_code_text_is_one_gsm7_segment(
    spanish_user, sms_outbox, settings, purpose
):
    settings.PORTAL_LENDER_NAME = "Example Auto Finance"
    settings.PORTAL_SUPPORT_PHONE = "1-800-555-0142"
    settings.PORTAL_CODE_TTL_SECONDS = 15 * 60
    user = spanish_user()
    code_send(user=user, purpose=purpose, flow_id="f1", channel=Channel.SMS)
    [(_, text)] = sms_outbox
    assert re.search(r"su codigo de seguridad es \d{6}\. Vence en 15 minutos\.", text), text
    _one_gsm7_segment(text)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_spanish_security_notice_by_text_is_one_gsm7_segment(
    spanish_user, sms_outbox, settings, kind
):
    settings.PORTAL_LENDER_NAME = "Example Auto Finance"
    settings.PORTAL_SUPPORT_PHONE = "1-800-555-0142"
    user = spanish_user()
    user.email = ""  # only a mobile phone on file: the notice goes by text message
    user.save(update_fields=["email"])
    context = {"lock": LockNotice(until=timezone.now() + timedelta(minutes=30))}
    if kind == "security_change":
        context["change"] = "Se cambiaron sus preguntas de seguridad."
    request = RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE="en")
    notify(user=user, kind=kind, request=request, context=context)
    [(to, text)] = sms_outbox
    assert to == user.mobile_phone
    assert text.startswith("Example Auto Finance: ")
    assert "¿No fue usted? Llame al 1-800-555-0142." in text
    _one_gsm7_segment(text)


def test_a_security_code_email_is_in_the_users_language_not_the_requests(spanish_user):
    user = spanish_user()
    with translation.override("en"):  # the page that asked is in English
        code_send(user=user, purpose="login", flow_id="f1", channel=Channel.EMAIL)
    [message] = mail.outbox
    assert message.subject == "Su código de seguridad de Example Auto Finance"
    assert "Ingréselo en la página que se lo pidió para terminar de iniciar sesión" in message.body
    assert "security code" not in message.body


def test_an_enrolling_customers_code_is_in_the_language_of_the_pages(make_customer):
    customer = make_customer()  # no online account yet, so no language on record
    with translation.override("es"):
        code_send(customer=customer, purpose="enrollment", flow_id="f1", channel=Channel.EMAIL)
    [message] = mail.outbox
    assert message.subject == "Su código de seguridad de Example Auto Finance"
    assert "terminar de configurar el acceso en línea a su préstamo" in message.body


def test_an_english_customers_notice_stays_english_on_a_spanish_page(make_user):
    user = make_user()
    with translation.override("es"):
        notify(user=user, kind="password_changed")
    [message] = mail.outbox
    assert message.subject == "Your Example Auto Finance password was changed"
    assert message.body.startswith(f"Hello {user.first_name},")


def test_a_spanish_security_email_dates_the_event_in_spanish(spanish_user):
    user = spanish_user()
    with translation.override("en"):
        notify(user=user, kind="new_device")
    [message] = mail.outbox
    assert (
        message.subject == "Se registró un dispositivo nuevo en su cuenta de Example Auto Finance"
    )
    assert message.body.startswith(f"Hola, {user.first_name}:")
    with translation.override("es"):
        month = str(MONTHS[timezone.localtime().month])  # Django's Spanish month name
    when = re.search(r"^Cuándo: (.+)$", message.body, re.MULTILINE)
    assert when is not None, message.body
    assert f" de {month} de " in when.group(1), when.group(1)  # "30 de noviembre de 2026, ..."
    assert "Si no fue usted" in message.body and "If this wasn't you" not in message.body
