"""Forgot username? and Forgot password? in Spanish: the pages, the refusals, the security code
and the emails."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.conftest import DEMO_PASSWORD, SPANISH

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet tractor umbrella quietly 83"


def _identity(user, **overrides):
    data = {
        "tin_last4": "1234",
        "birth_date": "04/12/1985",
        "reference": user.loan_accounts.first().account_number,
    }
    return {**data, **overrides}


def test_forgot_username_page_in_spanish(client):
    html = client.get("/forgot-username/", headers=SPANISH).content.decode()
    assert "<h1>¿Olvidó su nombre de usuario?</h1>" in html
    assert "Díganos quién es y le enviaremos su nombre de usuario" in html
    assert ">Enviarme mi nombre de usuario</button>" in html


def test_forgot_password_in_spanish_from_the_form_to_the_new_password(client, spanish_customer):
    html = client.get("/forgot-password/", headers=SPANISH).content.decode()
    assert "<h1>¿Olvidó su contraseña?</h1>" in html and ">Nombre de usuario</label>" in html
    assert ">Continuar</button>" in html

    wrong = _identity(spanish_customer, tin_last4="9999")
    html = client.post(
        "/forgot-password/", {"username": spanish_customer.username, **wrong}, headers=SPANISH
    ).content.decode()
    assert "No pudimos verificar su información." in html
    assert "llámenos al 1-800-555-0142" in html

    response = client.post(
        "/forgot-password/",
        {"username": spanish_customer.username, **_identity(spanish_customer)},
        headers=SPANISH,
    )
    assert response["Location"] == "/forgot-password/send/"
    html = client.get("/forgot-password/send/", headers=SPANISH).content.decode()
    assert "<h1>Obtener un código de seguridad</h1>" in html
    assert "Enviar mi código de seguridad por" in html and "Correo electrónico a " in html

    client.post("/forgot-password/send/", {"channel": "email"}, headers=SPANISH)
    html = client.get("/forgot-password/code/", headers=SPANISH).content.decode()
    assert "Le enviamos un código por correo electrónico a " in html
    assert "<h1>Ingrese su código de seguridad</h1>" in html
    assert "Sirve una sola vez y vence en 5 minutos." in html
    [code_email] = mail.outbox
    assert code_email.subject == "Su código de seguridad de Example Auto Finance"
    assert "para restablecer su contraseña" in code_email.body

    html = client.post(
        "/forgot-password/code/", {"code": "000000"}, headers=SPANISH
    ).content.decode()
    assert "Ese código de seguridad no es correcto o ya venció." in html

    code = re.search(r"\b(\d{6})\b", code_email.body).group(1)
    response = client.post("/forgot-password/code/", {"code": code}, headers=SPANISH)
    assert response["Location"] == "/forgot-password/new/"
    html = client.get("/forgot-password/new/", headers=SPANISH).content.decode()
    assert (
        "<h1>Elija una contraseña nueva</h1>" in html and ">Restablecer contraseña</button>" in html
    )

    response = client.post(
        "/forgot-password/new/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        headers=SPANISH,
        follow=True,
    )
    assert "Se restableció su contraseña" in response.content.decode()
    reset_email = mail.outbox[-1]
    assert reset_email.subject == "Se restableció su contraseña de Example Auto Finance"
    assert 'con "¿Olvidó su contraseña?"' in reset_email.body
    assert DEMO_PASSWORD not in reset_email.body


def test_a_spanish_customers_username_reminder_is_spanish_from_an_english_page(
    client, spanish_customer
):
    client.post("/forgot-username/", _identity(spanish_customer), headers={"Accept-Language": "en"})
    [email] = mail.outbox
    assert email.subject == "Su nombre de usuario de Example Auto Finance"
    assert "Su nombre de usuario es:" in email.body and spanish_customer.username in email.body
