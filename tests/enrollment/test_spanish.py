"""Enrollment in Spanish: every step, a refusal at step 3, and challenge answers given in
Spanish that still verify at step-up (they are stored against the question keys)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone, translation

from security.challenge import question_text
from signin.flow import FLOW_KEY
from tests.conftest import HttpsClient
from tests.enrollment.conftest import PASSWORD, QUESTION_KEYS, Wizard, profile_data

pytestmark = pytest.mark.django_db

SPANISH_ANSWERS = ["Calle Ñandú", "Pulgoso el gato", "Cartagena"]


@pytest.fixture
def client() -> HttpsClient:
    # Every request of this browser asks for Spanish.
    return HttpsClient(HTTP_ACCEPT_LANGUAGE="es")


def spanish_profile(**overrides: str) -> dict[str, str]:
    answers = {f"answer_{n}": answer for n, answer in enumerate(SPANISH_ANSWERS, start=1)}
    return profile_data(**{**answers, **overrides})


def test_every_enrollment_step_is_in_spanish(client, wizard):
    page = client.get("/enroll/").content.decode()
    assert "Paso 1: Información de su cuenta" in page
    assert "Ingrese la información de su cuenta" in page
    assert ">Continuar</button>" in page
    wizard.verify()
    page = client.get("/enroll/vehicles/").content.decode()
    assert "Paso 1: Información de su cuenta (completado)" in page
    assert "Vehículos que desea agregar" in page
    assert "VIN que termina en" in page
    wizard.vehicles()
    page = client.get("/enroll/profile/").content.decode()
    assert "Cree su nombre de usuario y contraseña" in page
    assert "Preguntas de seguridad" in page
    # The questions are offered in Spanish, under their unchanged keys.
    assert f'<option value="{QUESTION_KEYS[0]}">¿Cuál fue la marca y el modelo' in page
    client.post("/enroll/profile/", spanish_profile())
    page = client.get("/enroll/consent/").content.decode()
    assert "Autorice las comunicaciones electrónicas" in page
    assert "Aceptar y continuar" in page
    wizard.consent()
    page = client.get("/enroll/confirm/").content.decode()
    assert "Confirme que es usted" in page
    assert "¿Adónde debemos enviar su código?" in page
    assert ">Enviar código</button>" in page
    assert "Terminar la inscripción" not in page  # no code asked for yet
    page = client.get("/enroll/consent/declined/").content.decode()
    assert "La inscripción en línea requiere su consentimiento" in page


def test_a_refusal_at_step_three_is_in_spanish(client, wizard):
    wizard.verify()
    wizard.vehicles()
    response = client.post(
        "/enroll/profile/", spanish_profile(password2=PASSWORD + " x", answer_3="ab")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Las dos contraseñas no coinciden." in page
    assert "Su respuesta debe tener al menos 3 caracteres." in page
    assert "Hay un problema" in page or "Error" in page


def test_answers_given_in_spanish_verify_at_step_up_in_spanish(client, customer):
    Wizard(client, customer).verify()
    client.post("/enroll/vehicles/", {"accounts": []})
    client.post("/enroll/profile/", spanish_profile())
    client.post("/enroll/consent/", {"agree": "on"})
    wizard = Wizard(client, customer)
    assert wizard.confirm(wizard.send_code())["Location"] == "/enroll/device/"
    client.logout()

    # A login from another browser, in Spanish, once enrollment's code is no longer recent.
    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=True):
        # Step-up asks one of the questions.
        browser = HttpsClient(HTTP_ACCEPT_LANGUAGE="es")
        response = browser.post("/login/", {"username": "dana.r-2026", "password": PASSWORD})
        assert response["Location"] == "/login/verify/"
        page = browser.get("/login/verify/").content.decode()
        key = browser.session[FLOW_KEY]["question"]
        with translation.override("es"):
            spanish_question = question_text(key)
        assert spanish_question.startswith("¿")
        assert spanish_question.replace("'", "&#x27;") in page
        answer = SPANISH_ANSWERS[QUESTION_KEYS.index(key)]
        mail.outbox.clear()
        sent = browser.post("/login/verify/", {"action": "send", "channel": "email"})
        assert mail.outbox, sent.content.decode()[:3000]
        code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        page = browser.post("/login/verify/", {"answer": answer, "code": wrong}).content.decode()
        # The answer was accepted (only the code is asked for again).
        assert 'id="id_answer"' not in page and 'id="id_code"' in page
