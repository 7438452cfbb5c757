"""My Vehicles and My Online Profile for a customer whose language on record is Spanish."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.formats import date_format

from tests.profile.profile_support import sign_in

pytestmark = pytest.mark.django_db


def test_my_vehicles_is_in_spanish_with_spanish_dates(client, spanish_customer):
    sign_in(client, spanish_customer)
    page = client.get("/my/vehicles/").content.decode()
    assert "<h1>Mis vehículos</h1>" in page
    assert "Saldo" in page and "Próximo pago" in page
    loan = spanish_customer.loan_accounts.first()
    with translation.override("es"):
        due = date_format(loan.payment_due_date, "DATE_FORMAT")
    assert f"fecha de pago: {due}" in page
    assert "Agregar un vehículo" in page


def test_my_online_profile_and_its_pages_are_in_spanish(client, spanish_customer):
    sign_in(client, spanish_customer)
    page = client.get("/my/profile/").content.decode()
    assert "<h1>Mi perfil en línea</h1>" in page
    assert "Preguntas de seguridad" in page and "Verificación en dos pasos" in page
    assert "¿" in page  # the customer's questions, in Spanish
    for path, heading in [
        ("/my/profile/challenge-questions/", "<h1>Preguntas de seguridad</h1>"),
        ("/my/profile/password/", "<h1>Contraseña</h1>"),
        ("/my/profile/contact/", "<h1>Información de contacto</h1>"),
        ("/my/profile/devices/", "<h1>Dispositivos registrados</h1>"),
        ("/my/profile/two-step/", "<h1>Verificación en dos pasos</h1>"),
        ("/my/profile/activity/", "<h1>Actividad de inicio de sesión</h1>"),
    ]:
        assert heading in client.get(path).content.decode(), path
