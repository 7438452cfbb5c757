"""The portal in Spanish, as a Spanish speaker whose browser asks for English uses it: the
English | Español switch at the foot of the page (a form: no JavaScript anywhere here) turns
every page Spanish, from enrollment to a later login with step-up and a changed challenge
question, with the codes emailed in Spanish; each page has lang="es", none of its English
phrases, no axe violation, and screenshots at a phone's and a desktop's width."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import expect

from accounts.models import User
from security.challenge import QUESTIONS
from tests.browser.test_enrollment import PASSWORD, imported_customer  # noqa: F401 (fixture)
from tests.conftest import log_in_on_registered_device

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
WIDTHS = (375, 1280)
# English that must not show on any Spanish page (the frame: header, footer, skip link).
FRAME_ENGLISH = ("Log In", "Log Out", "Enroll Now", "Help Center", "Customer support", "Skip to")
# Words of any English sentence that no Spanish sentence has: catches English the lists miss.
# The disclosure names the federal law by its English title, on purpose.
LAW = "Electronic Signatures in Global and National Commerce Act"
ENGLISH_WORDS = re.compile(r"\b(the|your|you|and|with|please|this|of)\b", re.IGNORECASE)
KEYS = list(QUESTIONS)


def spanish(text: str) -> str:
    with translation.override("es"):
        return translation.gettext(text)


@pytest.fixture
def outbox(settings, tmp_path) -> Path:
    """Email goes to files in a directory, read back as a mail client would."""
    settings.MAILERS = {"default": {"BACKEND": "portal.outbox.OutboxEmailBackend"}}
    settings.PORTAL_OUTBOX_DIR = tmp_path
    return tmp_path


@pytest.fixture
def no_js(browser, live_server):
    """A browser without JavaScript whose Accept-Language is English."""
    contexts = []

    def new_page():
        context = browser.new_context(
            ignore_https_errors=True,
            base_url=live_server.url,
            java_script_enabled=False,
            locale="en-US",
            extra_http_headers={"Accept-Language": "en-US,en;q=0.9"},
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


def emails_to(outbox: Path, to: str) -> list:
    messages = [
        message_from_bytes(path.read_bytes(), policy=default_policy)
        for path in sorted(outbox.glob("*-email-*.eml"))
    ]
    return [message for message in messages if message["To"] == to]


def spanish_code_email(outbox: Path, to: str) -> str:
    """The newest code emailed to `to`; the email is in Spanish, subject and body."""
    for message in reversed(emails_to(outbox, to)):
        if "código de seguridad" not in message["Subject"]:
            continue
        assert message["Subject"] == "Su código de seguridad de Example Auto Finance"
        body = message.get_body(preferencelist=("plain",)).get_content()
        english = ("security code", "expires", "never call")
        assert not [phrase for phrase in english if phrase in body], body
        assert "Nunca le llamaremos" in body, body
        return re.search(r"Su código de seguridad de .+ es (\d{6})", body).group(1)
    raise AssertionError(f"no Spanish code emailed to {to} in {outbox}")


def heading(page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def check_spanish(page, axe_check, name: str, english: tuple[str, ...] = ()) -> None:
    """lang="es", none of the page's English phrases, no axe violation; then screenshots."""
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("contentinfo").get_by_role("button", name="English")).to_be_visible()
    shown = page.title() + "\n" + page.locator("body").inner_text()
    found = [phrase for phrase in FRAME_ENGLISH + english if phrase in shown]
    assert found == [], f"English on the Spanish {name} page: {found}"
    sentences = [line for line in shown.replace(LAW, "").splitlines() if ENGLISH_WORDS.search(line)]
    assert sentences == [], f"English on the Spanish {name} page: {sentences}"
    axe_check(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"es-{name}-{width}.png"), full_page=True)


def switch_to_spanish(page) -> None:
    page.get_by_role("contentinfo").get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")


def test_enroll_log_in_and_change_a_question_in_spanish_without_javascript(
    no_js,
    axe_check,
    imported_customer,  # noqa: F811
    outbox,
    settings,
):
    # The login's code goes to the address the enrollment code went to moments before; waiting
    # out the resend interval is not what this test is about (tests/security covers it).
    settings.PORTAL_CODE_RESEND_SECONDS = 0
    first_vin, second_vin = imported_customer["vins"]
    email = "rosa.delgado@example.com"
    page = no_js()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # Accept-Language: English
    switch_to_spanish(page)
    check_spanish(page, axe_check, "home", ("Welcome", "Log in"))
    page.get_by_role("navigation", name="Cuenta").get_by_role(
        "link", name="Inscribirse ahora"
    ).click()

    # Enrollment, step 1 to 5.
    heading(page, "Ingrese la información de su cuenta")
    check_spanish(page, axe_check, "enroll-1", ("Date of birth", "Continue", "Step 1"))
    page.get_by_label("Últimos 4 dígitos del SSN o TIN", exact=True).fill("0457")
    page.get_by_label("Fecha de nacimiento", exact=True).fill("01/23/1991")
    page.get_by_label("Número de cuenta o VIN", exact=True).fill(first_vin)
    page.get_by_role("button", name="Continuar").click()

    heading(page, "Agregue su(s) vehículo(s)")
    check_spanish(page, axe_check, "enroll-2", ("Add your vehicle", "VIN ending", "Continue"))
    page.get_by_label(re.compile(rf"Mazda CX-5.*{second_vin[-4:]}")).check()
    page.get_by_role("button", name="Continuar").click()

    heading(page, "Cree su nombre de usuario y contraseña, y configure su perfil")
    check_spanish(
        page, axe_check, "enroll-3", ("Username", "Password", "Challenge question", "Continue")
    )
    page.get_by_label("Nombre de usuario", exact=True).fill("rosa.d-91")
    page.get_by_label("Contraseña", exact=True).fill(PASSWORD)
    page.get_by_label("Confirmar contraseña", exact=True).fill(PASSWORD)
    for number, (key, answer) in enumerate(
        [(KEYS[2], "Galleta"), (KEYS[0], "Seat Ibiza"), (KEYS[1], "Calle Mayor")], start=1
    ):
        page.get_by_label(f"Pregunta de seguridad {number}", exact=True).select_option(
            label=spanish(QUESTIONS[key])
        )
        page.get_by_label(f"Respuesta a la pregunta de seguridad {number}").fill(answer)
    page.get_by_role("button", name="Continuar").click()

    heading(page, "Autorice las comunicaciones electrónicas")
    check_spanish(page, axe_check, "enroll-4", ("I authorize", "Agree and continue", "disclosure"))
    page.get_by_label(re.compile("He leído la divulgación anterior y autorizo")).check()
    page.get_by_role("button", name="Aceptar y continuar").click()

    heading(page, "Confirme que es usted")
    expect(page.get_by_label("Correo electrónico a r***@example.com")).to_be_checked()
    check_spanish(page, axe_check, "enroll-5", ("Send code", "Email to", "Text message"))
    page.get_by_role("button", name="Enviar código").click()
    expect(page.get_by_role("status")).to_contain_text("r***@example.com")
    check_spanish(page, axe_check, "enroll-5-sent", ("We sent", "Finish enrollment"))
    page.get_by_role("textbox", name="Código de seguridad").fill(spanish_code_email(outbox, email))
    page.get_by_role("button", name="Terminar la inscripción").click()

    heading(page, "¿Registrar este dispositivo?")
    expect(page.get_by_role("status")).to_contain_text("ya inició sesión")
    check_spanish(page, axe_check, "register-device", ("Register this device", "Not now"))
    page.get_by_role("button", name="Registrar este dispositivo", exact=True).click()
    heading(page, "Mis vehículos")
    check_spanish(page, axe_check, "vehicles", ("My Vehicles", "Manage My Profile", "Balance"))
    user = User.objects.get(username="rosa.d-91")
    assert user.language == "es"  # the language enrolled in: emails and texts follow it
    page.get_by_role("button", name="Cerrar sesión").click()
    heading(page, "Iniciar sesión")
    check_spanish(page, axe_check, "login", ("Username", "Password", "Forgot"))

    # A new browser (still asking for English): the switch, the login and step-up in Spanish.
    page = no_js()
    page.goto("/login/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    switch_to_spanish(page)
    page.get_by_label("Nombre de usuario").fill("rosa.d-91")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Iniciar sesión").click()
    heading(page, "Confirme que es usted")
    check_spanish(page, axe_check, "step-up", ("Send code", "Security code", "Continue"))
    question = page.locator('label[for="id_answer"]').inner_text()
    answers = {
        spanish(QUESTIONS[KEYS[2]]): "Galleta",
        spanish(QUESTIONS[KEYS[0]]): "Seat Ibiza",
        spanish(QUESTIONS[KEYS[1]]): "Calle Mayor",
    }
    assert question in answers, question  # the question is asked in Spanish
    page.get_by_role("textbox", name=question).fill(answers[question])
    page.get_by_role("button", name="Enviar código").click()
    expect(page.get_by_role("status")).to_contain_text("Le enviamos un código de seguridad")
    page.get_by_role("textbox", name="Código de seguridad").fill(spanish_code_email(outbox, email))
    page.get_by_role("button", name="Continuar").click()
    heading(page, "¿Registrar este dispositivo?")
    page.get_by_role("button", name="Registrar este dispositivo", exact=True).click()
    heading(page, "Mis vehículos")

    # A challenge question replaced under Mi perfil en línea.
    page.get_by_text("Administrar mi perfil").click()  # the <summary>
    page.get_by_role("navigation", name="Cuenta").get_by_role(
        "link", name="Mi perfil en línea"
    ).click()
    heading(page, "Mi perfil en línea")
    check_spanish(page, axe_check, "profile", ("My Online Profile", "Challenge Questions", "Email"))
    page.get_by_role("main").get_by_role("link", name="Preguntas de seguridad").click()
    heading(page, "Preguntas de seguridad")
    check_spanish(page, axe_check, "challenge-questions", ("New question", "New answer", "Update"))
    page.get_by_label(spanish(QUESTIONS[KEYS[2]])).check()
    page.get_by_label("Pregunta nueva").select_option(label=spanish(QUESTIONS[KEYS[6]]))
    page.get_by_label("Respuesta nueva").fill("Jordania")
    page.get_by_role("button", name="Actualizar").click()
    expect(page.get_by_role("status")).to_contain_text("Se actualizó su pregunta de seguridad")
    expect(page.get_by_role("main")).to_contain_text(spanish(QUESTIONS[KEYS[6]]))
    check_spanish(page, axe_check, "challenge-questions-updated", ("was updated",))
    assert set(user.challenge_answers.values_list("question", flat=True)) == {
        KEYS[0],
        KEYS[1],
        KEYS[6],
    }

    page.get_by_role("button", name="Cerrar sesión").click()
    heading(page, "Iniciar sesión")
    expect(page.locator("html")).to_have_attribute("lang", "es")

    # Every email of the way in Spanish: the codes, the notice that online access was set up,
    # the new device's and the changed question's notices.
    messages = emails_to(outbox, email)
    with translation.override("es"):
        set_up = translation.gettext("Online access to your %(lender)s loan was set up")
    assert set_up % {"lender": "Example Auto Finance"} in [m["Subject"] for m in messages]
    assert len(messages) >= 4, [m["Subject"] for m in messages]
    for message in messages:
        text = message["Subject"] + "\n" + message.get_body(("plain",)).get_content()
        assert not ENGLISH_WORDS.search(text), text


def test_switch_without_javascript_on_a_signed_in_page_saves_the_language(
    no_js, make_user, live_server
):
    user = make_user()
    page = no_js()
    log_in_on_registered_device(page, user, live_server.url)
    heading(page, "My Vehicles")
    switch_to_spanish(page)
    heading(page, "Mis vehículos")  # back on the same page, now in Spanish
    expect(page).to_have_url(re.compile(r"/my/vehicles/$"))
    user.refresh_from_db()
    assert user.language == "es"

    page.get_by_role("contentinfo").get_by_role("button", name="English").click()
    heading(page, "My Vehicles")
    user.refresh_from_db()
    assert user.language == "en"
