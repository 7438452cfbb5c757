"""The Help Center and Security Center explain passkeys, in English and Spanish, in the words
the portal's own pages use."""

from __future__ import annotations

import re

import pytest

from tests.conftest import SPANISH

pytestmark = pytest.mark.django_db


def questions_on(html: str) -> list[str]:
    return re.findall(r"<summary>(.*?)</summary>", html)


def test_the_help_center_has_a_passkeys_section(client):
    response = client.get("/help/")
    assert response.status_code == 200
    html = response.content.decode()
    assert ">Passkeys</h2>" in html
    for question in (
        "What is a passkey?",
        "How do I add a passkey?",
        "How do I log in with a passkey?",
        "How do I remove a passkey, for example if I lose my phone?",
    ):
        assert question in questions_on(html), question
    assert "Select Passkeys." in html and "Select Add a passkey" in html
    assert "select Use a passkey" in html
    assert (
        "on a device you have not registered, you can confirm it&#x27;s you with your passkey "
        "instead of a challenge question and a code." in html
    )
    assert "Under My Online Profile &gt; Passkeys, select Remove" in html
    assert "our support team can remove one passkey or all of them" in html
    assert "your username and password keep working as before." in html


def test_a_search_for_a_lost_phone_finds_how_to_remove_a_passkey(client):
    html = client.get("/help/", {"q": "lost passkey"}).content.decode()
    assert questions_on(html) == ["How do I remove a passkey, for example if I lose my phone?"]


def test_the_help_center_explains_passkeys_in_spanish(client):
    response = client.get("/help/", headers=SPANISH)
    assert response.status_code == 200
    html = response.content.decode()
    assert ">Llaves de acceso</h2>" in html
    assert "¿Qué es una llave de acceso?" in questions_on(html)
    assert "¿Cómo inicio sesión con una llave de acceso?" in questions_on(html)
    assert "seleccione Usar una llave de acceso" in html
    assert "Seleccione Agregar una llave de acceso" in html
    found = questions_on(
        client.get("/help/", {"q": "llave perdido"}, headers=SPANISH).content.decode()
    )
    assert found == ["¿Cómo elimino una llave de acceso, por ejemplo si pierdo mi teléfono?"]


def test_this_wasnt_me_answer_says_passkeys_go_too(client):
    html = client.get("/help/", {"q": "didn't make"}).content.decode()
    assert "remove every registered device and every passkey." in html


def test_the_security_center_explains_passkeys_in_both_languages(client):
    english = client.get("/security/")
    assert english.status_code == 200
    html = english.content.decode()
    assert ">Passkeys</h2>" in html
    assert "It works only on our website, so a look-alike site cannot use it" in html
    assert "Add one under My Online Profile &gt; Passkeys" in html
    spanish = client.get("/security/", headers=SPANISH).content.decode()
    assert ">Llaves de acceso</h2>" in spanish
    assert "Solo funciona en nuestro sitio web" in spanish
