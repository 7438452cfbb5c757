"""Log In and the step-up check in Spanish, and the lock email in the customer's own language."""

from __future__ import annotations

import pytest
from django.core import mail

from security.models import SecurityCode
from tests.conftest import DEMO_PASSWORD, SPANISH

pytestmark = pytest.mark.django_db

ENGLISH = {"Accept-Language": "en-US,en;q=0.9"}


def test_the_log_in_page_in_spanish(client):
    html = client.get("/login/", headers=SPANISH).content.decode()
    assert "<h1>Iniciar sesión</h1>" in html
    assert ">Nombre de usuario</label>" in html and ">Contraseña</label>" in html
    assert ">¿Olvidó su nombre de usuario?</a>" in html and ">¿Olvidó su contraseña?</a>" in html
    assert ">Inscribirse ahora</a>" in html
    assert "Log In" not in html.split("<main", 1)[-1]


def test_a_wrong_password_is_refused_in_spanish(client, make_user):
    user = make_user()
    html = client.post(
        "/login/", {"username": user.username, "password": "not it at all"}, headers=SPANISH
    ).content.decode()
    assert "Hay un problema" in html
    assert "El nombre de usuario o la contraseña que ingresó no es correcto." in html


def test_locked_by_wrong_passwords_from_an_english_browser_the_lock_email_is_spanish(
    client, spanish_customer
):
    for _ in range(5):
        response = client.post(
            "/login/",
            {"username": spanish_customer.username, "password": "a wrong guess"},
            headers=ENGLISH,
        )
    # The page answers whoever is at the browser, in the browser's language ...
    assert "Online access is temporarily locked" in response.content.decode()
    # ... the email goes to the customer, in the language on their record.
    [email] = mail.outbox
    assert email.to == [spanish_customer.email]
    assert email.subject == (
        "El acceso en línea a su cuenta de Example Auto Finance está bloqueado temporalmente"
    )
    body = email.body
    assert body.startswith(f"Hola, {spanish_customer.first_name}:")
    assert "queda suspendido durante 30 minutos después de 5 intentos fallidos seguidos" in body
    assert "Si fue usted: Espere hasta entonces" in body
    assert "Si no fue usted" in body and "/not-me/" in body
    assert "Online access" not in body and "If this wasn't you" not in body


def test_the_lock_page_in_spanish_says_how_long_and_what_to_do(client, make_user):
    user = make_user()
    for _ in range(6):
        response = client.post(
            "/login/", {"username": user.username, "password": "a wrong guess"}, headers=SPANISH
        )
    html = response.content.decode()
    assert "El acceso en línea está bloqueado temporalmente" in html
    assert "queda suspendido durante 30 minutos" in html
    assert 'llámenos al <a href="tel:1-800-555-0142">1-800-555-0142</a>' in html


def test_the_step_up_page_and_the_security_code_email_in_spanish(client, spanish_customer):
    response = client.post(
        "/login/",
        {"username": spanish_customer.username, "password": DEMO_PASSWORD},
        headers=SPANISH,
    )
    assert response["Location"] == "/login/verify/"
    html = client.get("/login/verify/", headers=SPANISH).content.decode()
    assert "<title>Confirme que es usted" in html and "<h1>Confirme que es usted</h1>" in html
    assert "No reconocemos este dispositivo" in html
    assert ">Enviar código</button>" in html and ">Continuar</button>" in html
    assert "¿Adónde debemos enviar su código de seguridad?" in html
    assert "Correo electrónico a " in html and "Mensaje de texto al (***) ***-" in html

    html = client.post(
        "/login/verify/", {"action": "send", "channel": "email"}, headers=SPANISH
    ).content.decode()
    assert "Le enviamos un código de seguridad (correo electrónico a " in html
    assert "Vence en 5 minutos." in html
    [email] = mail.outbox
    assert email.subject == "Su código de seguridad de Example Auto Finance"
    assert "para terminar de iniciar sesión" in email.body
    assert SecurityCode.objects.filter(user=spanish_customer).count() == 1
