"""The public pages, the Help Center, the shared error summary and field messages in Spanish, the
English | Español switch on every page, and dates and amounts as each language writes them."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.template import Context, Template
from django.utils import formats, translation

from accounts.forms import CustomerForm, IdentityForm
from portal.help import SECTIONS, search_faq
from tests.conftest import SPANISH

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = [
    ("/", "Su préstamo de auto, en línea"),
    ("/help/", "Centro de ayuda"),
    ("/security/", "Centro de seguridad"),
    ("/contact/", "Contáctenos"),
]


def questions_on(html: str) -> list[str]:
    return re.findall(r"<summary>(.*?)</summary>", html)


@pytest.mark.parametrize(("url", "heading"), PUBLIC_PAGES)
def test_public_pages_speak_spanish_when_the_browser_asks_for_it(client, url, heading):
    html = client.get(url, headers={"Accept-Language": "es-MX,es;q=0.9"}).content.decode()
    assert '<html lang="es">' in html
    assert f">{heading}</h1>" in html
    # The header and footer too.
    assert ">Iniciar sesión</a>" in html and ">Inscribirse ahora</a>" in html
    assert ">Ir al contenido principal</a>" in html
    assert "Servicio al cliente:" in html
    assert "de lunes a viernes de 8 a.m. a 9 p.m." in html
    assert "Customer support" not in html and "Log In" not in html


@pytest.mark.parametrize(("url", "heading"), PUBLIC_PAGES)
def test_english_stays_the_default(client, url, heading):
    html = client.get(url, headers={"Accept-Language": "fr-FR"}).content.decode()
    assert '<html lang="en">' in html
    assert ">Log In</a>" in html
    assert "Monday to Friday 8 a.m. to 9 p.m." in html


def test_the_home_page_in_spanish(client):
    html = client.get("/", headers=SPANISH).content.decode()
    assert "<title>Le damos la bienvenida | Example Auto Finance</title>" in html
    assert '<a class="button" href="/login/">Iniciar sesión</a>' in html
    assert "¿Primera vez aquí?" in html
    assert 'href="/security/">Conozca nuestras medidas de protección</a>' in html


def test_the_security_and_contact_pages_in_spanish(client):
    security = client.get("/security/", headers=SPANISH).content.decode()
    assert ">Lo que nunca le pediremos</h2>" in security
    assert "<strong>No fui yo</strong>" in security
    assert "al menos 15 caracteres" in security
    contact = client.get("/contact/", headers=SPANISH).content.decode()
    assert ">¿Su acceso en línea está bloqueado?</h2>" in contact
    assert 'Llame a servicio al cliente al <a href="tel:1-800-555-0142">' in contact


def test_a_lenders_own_support_hours_are_shown_as_written(client, settings):
    settings.PORTAL_SUPPORT_HOURS = "todos los días de 7 a.m. a 11 p.m. CT"
    html = client.get("/contact/", headers=SPANISH).content.decode()
    assert "Horario: todos los días de 7 a.m. a 11 p.m. CT." in html


def test_the_404_page_in_spanish(client):
    response = client.get("/no-such-page/", headers=SPANISH)
    assert response.status_code == 404
    html = response.content.decode()
    assert ">No se encontró la página</h1>" in html
    assert '<a href="/help/">Centro de ayuda</a>' in html


def test_every_help_center_question_and_section_is_in_spanish(client):
    english = client.get("/help/").content.decode()
    spanish = client.get("/help/", headers=SPANISH).content.decode()
    assert len(questions_on(spanish)) == sum(len(section.faqs) for section in SECTIONS)
    assert not set(questions_on(english)) & set(questions_on(spanish))
    assert "¿Cómo me inscribo para obtener acceso en línea?" in questions_on(spanish)
    assert ">Inscripción e inicio de sesión</h2>" in spanish
    assert '<p><a href="/enroll/">Inscribirse ahora</a></p>' in spanish


def test_a_spanish_search_finds_the_spanish_answer(client):
    html = client.get("/help/", {"q": "¿Olvidé mi contraseña?"}, headers=SPANISH).content.decode()
    assert "Olvidé mi contraseña. ¿Cómo la restablezco?" in questions_on(html)
    assert "1 respuesta para &ldquo;¿Olvidé mi contraseña?&rdquo;." in html
    assert "I forgot my password" not in html


def test_a_spanish_search_ignores_accents_and_finds_the_search_words(client):
    # Typed without its accent ("contraseña"), and a word only the hidden search words have.
    found = questions_on(
        client.get("/help/", {"q": "contrasena"}, headers=SPANISH).content.decode()
    )
    assert "Olvidé mi contraseña. ¿Cómo la restablezco?" in found
    phishing = questions_on(client.get("/help/", {"q": "estafa"}, headers=SPANISH).content.decode())
    assert phishing == ["¿Cómo sé que estoy en el sitio verdadero de Example Auto Finance?"]


def test_an_english_word_finds_nothing_in_spanish_answers():
    with translation.override("es"):
        assert search_faq("giraffe") == []
        assert "locked" in [faq.slug for s in search_faq("bloqueado") for faq in s.faqs]


def test_the_step_up_answer_follows_the_policy_in_spanish(client, settings):
    settings.PORTAL_STEP_UP_POLICY = "code"
    html = client.get("/help/", {"q": "iniciar sesión"}, headers=SPANISH).content.decode()
    assert "primero le pediremos que ingrese un código de seguridad de un solo uso." in html
    assert "responda una de sus preguntas de seguridad" not in html


def test_an_error_summary_and_field_messages_in_spanish(client):
    response = client.post("/enroll/", {"birth_date": "25/12/1985"}, headers=SPANISH)
    html = response.content.decode()
    assert response.status_code == 200
    assert ">Hay un problema</h2>" in html
    assert "Últimos 4 dígitos del SSN o TIN: Ingrese los últimos 4 dígitos de su SSN o TIN." in html
    assert "Fecha de nacimiento: Esa fecha no existe." in html
    assert "Número de cuenta o VIN: Ingrese su número de cuenta o VIN." in html
    assert "Mes, día y año, en ese orden." in html
    assert "<title>Error: " in html


def test_generated_messages_read_as_whole_spanish_sentences():
    class Sample(CustomerForm):
        code = forms.CharField(label="Código enviado a su nuevo correo electrónico", max_length=7)
        nickname = forms.CharField(label="Apodo", max_length=5, min_length=2)
        question = forms.ChoiceField(label="Pregunta de seguridad 1", choices=[("a", "A")])
        agree = forms.BooleanField(label="Acepto")

    with translation.override("es"):
        errors = Sample(data={"nickname": "x"}).errors
        long = Sample(data={"nickname": "demasiado"}).errors
    assert errors["code"] == ["Complete el campo «código enviado a su nuevo correo electrónico»."]
    assert errors["nickname"] == ["El campo «Apodo» debe tener al menos 2 caracteres."]
    assert long["nickname"] == ["El campo «Apodo» admite como máximo 5 caracteres."]
    assert errors["question"] == ["Elija una opción en «pregunta de seguridad 1»."]
    assert errors["agree"] == ["Marque la casilla para continuar."]


def test_the_same_form_speaks_the_language_active_when_it_validates():
    with translation.override("es"):
        assert IdentityForm(data={}).errors["birth_date"] == ["Ingrese su fecha de nacimiento."]
    assert IdentityForm(data={}).errors["birth_date"] == ["Enter your date of birth."]


# --- English | Español ----------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/", "/help/?q=lock", "/security/", "/contact/", "/no-such-page/"])
def test_every_page_offers_the_other_language_in_that_language(client, url):
    english = client.get(url).content.decode()
    action = "/language/?next=" + quote(url, safe="")
    assert f'<form class="language-switch" method="post" action="{action}">' in english
    assert 'name="language" value="es" lang="es">Español</button>' in english
    assert 'lang="en">English</button>' not in english
    spanish = client.get(url, headers=SPANISH).content.decode()
    assert 'name="language" value="en" lang="en">English</button>' in spanish
    assert ">Español</button>" not in spanish


def test_the_switch_works_without_javascript(client):
    # As the footer's form sends it: the button's value, the page in the form's address.
    response = client.post("/language/?next=%2Fhelp%2F%3Fq%3Dlock", {"language": "es"})
    assert response.status_code == 302 and response["Location"] == "/help/?q=lock"
    response = client.post("/language/?next=//evil.example/", {"language": "es"})
    assert response["Location"] == "/"
    html = client.get("/security/").content.decode()
    assert '<html lang="es">' in html and ">Centro de seguridad</h1>" in html
    client.post("/language/", {"language": "en", "next": "/security/"})
    assert ">Security Center</h1>" in client.get("/security/").content.decode()


# --- Dates and amounts ----------------------------------------------------------------------------
AMOUNT = Template('${{ amount|floatformat:"2g" }}')


@pytest.mark.parametrize(
    ("language", "day", "moment", "short"),
    [
        ("en", "Apr 12, 2026", "Apr 12, 2026, 3:05 PM", "04/12/2026"),
        ("es", "12 de abril de 2026", "12 de abril de 2026, 3:05 PM", "04/12/2026"),
    ],
)
def test_dates_in_each_language(language, day, moment, short):
    when = datetime(2026, 4, 12, 15, 5, tzinfo=ZoneInfo("America/New_York"))
    with translation.override(language):
        assert formats.date_format(date(2026, 4, 12), "DATE_FORMAT") == day
        assert formats.date_format(when, "DATETIME_FORMAT") == moment
        # Numeric dates stay month first, as on US records and as customers type them.
        assert formats.date_format(date(2026, 4, 12), "SHORT_DATE_FORMAT") == short


@pytest.mark.parametrize("language", ["en", "es"])
def test_amounts_are_us_dollars_in_both_languages(language):
    with translation.override(language):
        assert AMOUNT.render(Context({"amount": Decimal("1234.56")})) == "$1,234.56"
        assert formats.number_format(Decimal("1234.5"), 2, force_grouping=True) == "1,234.50"


def test_the_esign_disclosure_is_wholly_in_spanish():
    """A legal disclosure: no heading, paragraph or list item may be left in English."""
    from django.template.loader import render_to_string

    context = {"lender_name": "Example Auto Finance", "esign_version": "2026-11"}
    context |= {"support_phone": "1-800-555-0142", "support_hours": "9 a.m. to 5 p.m."}
    blocks = re.compile(r"<(h2|h3|p|li)[^>]*>(.*?)</\1>", re.S)
    template = "partials/esign_disclosure.html"

    def texts(language: str) -> list[str]:
        with translation.override(language):
            return [text for _, text in blocks.findall(render_to_string(template, context))]

    english, spanish = texts("en"), texts("es")
    assert len(english) == len(spanish) == 21
    assert not set(english) & set(spanish)
    assert "Consentimiento para recibir comunicaciones electrónicas" in spanish
