"""PORTAL_WEBAUTHN_RP_ID and PORTAL_WEBAUTHN_ORIGINS: derived from ALLOWED_HOSTS, checked at
start-up."""

from __future__ import annotations

import pytest

from tests.portal.test_settings import PRODUCTION_ENV, manage

PRINT = [
    "shell",
    "--no-imports",
    "-c",
    "from portal.conf import portal; print(portal.webauthn_rp_id, portal.webauthn_origins)",
]


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"PORTAL_WEBAUTHN_RP_ID": "https://localhost"}, "PORTAL_WEBAUTHN_RP_ID"),
        ({"PORTAL_WEBAUTHN_RP_ID": "localhost:8443"}, "PORTAL_WEBAUTHN_RP_ID"),
        ({"PORTAL_WEBAUTHN_RP_ID": "127.0.0.1"}, "PORTAL_WEBAUTHN_RP_ID"),
        ({"PORTAL_WEBAUTHN_ORIGINS": "http://localhost:8443"}, "PORTAL_WEBAUTHN_ORIGINS"),
        ({"PORTAL_WEBAUTHN_ORIGINS": "https://evil.example"}, "PORTAL_WEBAUTHN_ORIGINS"),
        ({"PORTAL_WEBAUTHN_ORIGINS": "https://notlocalhost"}, "PORTAL_WEBAUTHN_ORIGINS"),
        ({"PORTAL_WEBAUTHN_ORIGINS": "https://localhost/login/"}, "PORTAL_WEBAUTHN_ORIGINS"),
    ],
)
def test_a_bad_relying_party_stops_the_start_naming_the_variable(env, variable, tmp_path):
    result = manage(["check"], env, tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().startswith(f"Configuration error: {variable} ")


def test_locally_passkeys_belong_to_localhost_on_the_local_port(tmp_path):
    result = manage(PRINT, {}, tmp_path)
    assert result.stdout.strip() == "localhost ['https://localhost:8443']", result.stderr


def test_in_production_the_first_host_name_is_the_relying_party(tmp_path):
    env = {**PRODUCTION_ENV, "ALLOWED_HOSTS": "10.0.0.5,.portal.example,www.portal.example"}
    result = manage(PRINT, env, tmp_path)
    assert result.stdout.strip() == "portal.example ['https://portal.example']", result.stderr


def test_a_subdomain_origin_of_the_relying_party_is_accepted(tmp_path):
    env = {
        "PORTAL_WEBAUTHN_RP_ID": "Portal.Example",
        "PORTAL_WEBAUTHN_ORIGINS": "https://portal.example/, https://www.portal.example:8443",
    }
    result = manage(PRINT, env, tmp_path)
    assert result.stdout.strip() == (
        "portal.example ['https://portal.example', 'https://www.portal.example:8443']"
    ), result.stderr
