"""Configuration comes from the environment and fails with one clear line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "PORTAL_ENV": "production",
    "SECRET_KEY": "production-like-secret-Zq8vW3pL0xK7rT2nB5mY9cH4jD6fG1sA-0123456789",
    "PORTAL_IDENTITY_KEY": "i" * 40,
    "ALLOWED_HOSTS": "portal.example",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_HOST": "smtp.example",
    "SMS_BACKEND": "sms_gateway.ProviderBackend",
}


def manage(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    base.update({"PORTAL_VAR_DIR": str(tmp_path)}, **env)
    base.pop("DJANGO_SETTINGS_MODULE", None)
    base.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DATABASE_URL": "mysql://nope"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
        ({"TRUSTED_PROXY_COUNT": "two"}, "TRUSTED_PROXY_COUNT"),
        ({"PORTAL_ENV": "staging"}, "PORTAL_ENV"),
        ({"PORTAL_STEP_UP_POLICY": "nothing"}, "PORTAL_STEP_UP_POLICY"),
        ({**PRODUCTION_ENV, "SECRET_KEY": ""}, "SECRET_KEY"),
        ({**PRODUCTION_ENV, "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({**PRODUCTION_ENV, "REDIS_URL": ""}, "REDIS_URL"),
        ({**PRODUCTION_ENV, "DEBUG": "true"}, "DEBUG"),
        ({**PRODUCTION_ENV, "EMAIL_HOST": ""}, "EMAIL_HOST"),
        ({**PRODUCTION_ENV, "EMAIL_HOST": "", "PORTAL_OUTBOX_DIR": "var/outbox"}, "EMAIL_HOST"),
        ({**PRODUCTION_ENV, "SMS_BACKEND": ""}, "SMS_BACKEND"),
        ({**PRODUCTION_ENV, "SMS_BACKEND": "portal.outbox.OutboxSmsBackend"}, "SMS_BACKEND"),
    ],
)
def test_bad_configuration_stops_with_one_line_naming_the_variable(env, variable, tmp_path):
    result = manage(["check"], env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Configuration error: {variable} ")
    assert "Traceback" not in result.stderr


def test_production_takes_the_outbox_only_when_explicitly_allowed_for_a_demo(tmp_path):
    demo = {**PRODUCTION_ENV, "EMAIL_HOST": "", "SMS_BACKEND": "", "PORTAL_ALLOW_OUTBOX": "true"}
    result = manage(
        [
            "shell",
            "-c",
            "from django.conf import settings as s; "
            "print(s.MAILERS['default']['BACKEND'], s.PORTAL_SMS_BACKEND)",
        ],
        demo,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].split() == [
        "portal.outbox.OutboxEmailBackend",
        "portal.outbox.OutboxSmsBackend",
    ]


def test_local_default_generates_and_keeps_its_secret_key(tmp_path):
    assert manage(["check"], {}, tmp_path).returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    assert manage(["check"], {}, tmp_path).returncode == 0
    assert (tmp_path / "secret_key").read_text() == key
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_check_deploy_is_clean_in_production(tmp_path):
    result = manage(["check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_debug_shows_no_traceback_on_server_error(client, settings):
    from django.urls import path

    def broken(request):
        raise RuntimeError("boom")

    settings.DEBUG = False
    settings.ROOT_URLCONF = type("urls", (), {"urlpatterns": [path("boom/", broken)]})
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    assert b"Traceback" not in response.content and b"boom" not in response.content
