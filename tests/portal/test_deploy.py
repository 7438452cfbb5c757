"""The files under deploy/ and .env.example work as an operator uses them."""

from __future__ import annotations

import ast
import http.client
import logging
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from portal import deploy
from portal.serve import MALLOC_ENVIRONMENT
from tests.portal.fresh_python import ROOT, run_python

TOKEN = "Zk3_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6"
VENV = str(Path(sys.executable).parent.parent)
SERVICES = ("portal-web@.service", "portal-worker.service", "portal-purge.service")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                output = process.communicate(timeout=10)[0] if process.poll() is not None else ""
                raise AssertionError(f"the instance did not start: {output}") from None
            time.sleep(0.2)


# --- .env.example ------------------------------------------------------------------------------
def variables_read_by(path: Path) -> set[str]:
    """Names passed to portal.env's readers (env.text("NAME"), env.integer("NAME", ...), ...)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "env"
            and node.func.attr != "ConfigError"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(node.args[0].value)
    return names


def test_env_example_lists_exactly_the_variables_the_portal_reads():
    read = variables_read_by(ROOT / "portal" / "settings.py") | variables_read_by(
        ROOT / "portal" / "serve.py"
    )
    assert {"SECRET_KEY", "DATABASE_URL", "PORT", "WEB_THREADS"} <= read  # the parse found them
    lines = (ROOT / ".env.example").read_text().splitlines()
    listed = {}
    for index, line in enumerate(lines):
        match = re.match(r"^(?:# )?([A-Z][A-Z0-9_]*)=", line)
        if match:
            listed[match.group(1)] = lines[index - 1]
    assert sorted(read - set(listed)) == [], "read by the portal but missing from .env.example"
    assert sorted(set(listed) - read) == [], "in .env.example but read by nothing"
    # Each has its comment line.
    assert [name for name, above in listed.items() if not above.startswith("# ")] == []


def test_env_example_is_a_valid_production_environment_once_secrets_and_providers_are_set(
    tmp_path,
):
    values = deploy.read_env_file(ROOT / ".env.example")
    values.update(PATH=os.environ["PATH"], PORTAL_VAR_DIR=str(tmp_path))
    # As published (no secret in it), production refuses to start, naming the variable.
    refused = subprocess.run(
        [sys.executable, "-c", "import portal.settings"],
        cwd=ROOT,
        env={**values, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0
    assert "SECRET_KEY must be set" in refused.stderr
    values.update(
        SECRET_KEY="k" * 50, PORTAL_IDENTITY_KEY="i" * 32, SMS_BACKEND="sms_gateway.ProviderBackend"
    )
    out = run_python(
        "from portal import settings; print(settings.PRODUCTION, settings.ALLOWED_HOSTS)", values
    )
    assert out.strip() == "True ['portal.example.com']"


# --- gunicorn and the systemd units --------------------------------------------------------------
def rendered_units(tmp_path: Path) -> Path:
    out = tmp_path / "units"
    deploy.render_units(out, prefix=str(ROOT), venv=VENV)
    return out


def unit_environment(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """What systemd gives a unit: PATH, the unit's Environment= lines, then the env file."""
    values = deploy.read_env_file(ROOT / ".env.example")
    values.update(
        PORTAL_ENV="local",
        PORTAL_VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        REDIS_URL="",
        WEB_CONCURRENCY="1",
        ALLOWED_HOSTS="localhost",
        **overrides,
    )
    env_file = tmp_path / "portal.env"
    deploy.write_env_file(env_file, values)
    return {"PATH": os.environ["PATH"], **deploy.read_env_file(env_file)}


def test_the_web_units_malloc_settings_are_those_of_portal_serve(tmp_path):
    _, environment = deploy.unit_service(rendered_units(tmp_path) / "portal-web@.service", "8001")
    assert {k: v for k, v in environment.items() if k != "PORT"} == MALLOC_ENVIRONMENT
    assert environment["PORT"] == "8001"


def test_the_gunicorn_config_file_has_the_settings_of_portal_serve(tmp_path):
    env = unit_environment(tmp_path, PORT="8123", HOST="127.0.0.2", WEB_THREADS="3")
    snippet = (
        "import runpy, json; from gunicorn.config import KNOWN_SETTINGS;"
        "from portal.serve import gunicorn_settings, server_options;"
        "conf = runpy.run_path('deploy/gunicorn.conf.py');"
        "mine = gunicorn_settings(server_options());"
        "known = {s.name for s in KNOWN_SETTINGS};"
        "print(json.dumps([sorted(set(mine) - known),"
        " {k: conf[k] for k in mine} == mine, conf['bind'], conf['threads'], conf['accesslog']]))"
    )
    unknown, same, bind, threads, accesslog = __import__("json").loads(run_python(snippet, env))
    assert unknown == []  # every name is a gunicorn setting
    assert same
    assert bind == ["127.0.0.2:8123"] and threads == 3 and accesslog == "-"


def test_a_bad_variable_stops_the_gunicorn_config_with_one_line(tmp_path):
    env = unit_environment(tmp_path, WEB_THREADS="lots")
    result = subprocess.run(
        [f"{VENV}/bin/gunicorn", "--check-config", "--config", "deploy/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().endswith("WEB_THREADS must be a whole number, not 'lots'")


def access_line(access_log_format: str) -> str:
    """The line gunicorn writes, through the portal's logger, for a request whose path carries a
    "This wasn't me" token and whose query string carries a code."""
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from portal.access_log import RedactingLogger

    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", access_log_format)
    logger = RedactingLogger(config)
    path = f"/not-me/{TOKEN}/"
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"{path}?code=918273",
        "PATH_INFO": path,
        "QUERY_STRING": "code=918273",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_REFERER": f"https://portal.example.com{path}?code=918273",
    }
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    response = SimpleNamespace(
        status="403 Forbidden", headers=[("Location", f"{path}?code=918273")], sent=10
    )
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger.access_log.addHandler(handler)
    try:
        logger.access(response, request, environ, timedelta(milliseconds=5))
    finally:
        logger.access_log.removeHandler(handler)
    assert len(lines) == 1
    return lines[0]


def test_the_access_log_line_has_no_token_or_query_string():
    from portal.serve import ACCESS_LOG_FORMAT

    assert access_line(ACCESS_LOG_FORMAT) == (
        '203.0.113.9 - "POST /not-me/[redacted]/ HTTP/1.1" 403 10 5ms'
    )


def test_no_access_log_format_can_write_a_token_or_query_string():
    """Every atom that can hold an address or a query string, as an operator might log them."""
    line = access_line(
        '"%(r)s" %(U)s %(q)s %(f)s %({referer}i)s %({Referer}i)s %({location}o)s'
        " %({raw_uri}e)s %({path_info}e)s %({query_string}e)s %({http_referer}e)s"
    )
    assert TOKEN not in line
    assert "918273" not in line
    assert line.startswith('"POST /not-me/[redacted]/ HTTP/1.1" /not-me/[redacted]/  ')
    assert "https://portal.example.com/not-me/[redacted]/" in line


def mdwe_prefix() -> list[str]:
    """A command prefix that refuses memory both writable and executable to what it runs, as the
    units' MemoryDenyWriteExecute=yes does (prctl PR_SET_MDWE, Linux 6.3+), or [] without it."""
    probe = subprocess.run(
        [sys.executable, "-c", MDWE_EXEC, sys.executable, "-c", "pass"], capture_output=True
    )
    return [sys.executable, "-c", MDWE_EXEC] if probe.returncode == 0 else []


MDWE_EXEC = r"""
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:  # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
    sys.exit(f"prctl: {os.strerror(ctypes.get_errno())}")
os.execv(sys.argv[1], sys.argv[1:])
"""


def test_the_web_unit_serves_with_a_redacted_access_log_under_its_hardening(tmp_path):
    units = rendered_units(tmp_path)
    port = free_port()
    command, unit_env = deploy.unit_service(units / "portal-web@.service", str(port))
    env = {**unit_env, **unit_environment(tmp_path)}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    wrapper = mdwe_prefix()
    server = subprocess.Popen(
        [*wrapper, *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_up(port, server)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {
            "Host": "localhost",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "192.0.2.7",
            "X-Request-ID": "4f1c0ffee",
        }
        conn.request("GET", f"/not-me/{TOKEN}/?code=918273", headers=headers)
        not_me = conn.getresponse()
        not_me.read()
        for path in ("/healthz", "/login/"):
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            assert response.status == 200, path
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert server.returncode == 0, output  # SIGTERM: a clean stop
    line = next(line for line in output.splitlines() if '"GET /not-me/' in line)
    assert f'4f1c0ffee "GET /not-me/[redacted]/ HTTP/1.1" {not_me.status} ' in line
    assert TOKEN not in output and "918273" not in output
    assert '"GET /healthz HTTP/1.1" 200 ' in output
    if not wrapper:
        pytest.skip("served, but not under MemoryDenyWriteExecute: this kernel lacks PR_SET_MDWE")


def test_argon2_and_tls_work_where_memory_cannot_be_writable_and_executable():
    wrapper = mdwe_prefix()
    if not wrapper:
        pytest.skip("this kernel lacks PR_SET_MDWE (Linux 6.3+), the rule cannot be applied here")
    code = (
        "import mmap\n"
        "try:\n"
        "    mmap.mmap(-1, 4096, prot=7); print('not enforced')\n"
        "except OSError: pass\n"
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'portal.settings'; django.setup()\n"
        "from portal.hashers import PortalArgon2PasswordHasher as H\n"
        "h = H(); print(h.verify('pass phrase here', h.encode('pass phrase here', h.salt())))\n"
        "import psycopg, ssl; ssl.create_default_context()\n"
        "from cryptography.hazmat.primitives.asymmetric import ec; ec.generate_private_key(ec.SECP256R1())\n"
    )
    result = subprocess.run(
        [*wrapper, sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PORTAL_VAR_DIR": str(ROOT / "var")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True"]


@pytest.mark.skipif(
    not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed on this machine"
)
def test_systemd_accepts_every_unit(tmp_path):
    units = rendered_units(tmp_path)
    (units / "portal-web@8001.service").write_text((units / "portal-web@.service").read_text())
    for name in ("portal-web@8001.service", *SERVICES[1:], "portal-purge.timer"):
        result = subprocess.run(
            ["systemd-analyze", "verify", "--man=no", name],
            cwd=units,
            capture_output=True,
            text=True,
            timeout=60,
        )
        # verify exits 0 on unknown keys, only warning: a warning fails too.
        assert (result.returncode, result.stderr) == (0, ""), name


def test_units_run_as_the_portal_user_with_the_env_file_and_a_read_only_system():
    for name in SERVICES:
        settings = (ROOT / "deploy" / "systemd" / name).read_text().splitlines()
        for required in (
            "User=portal",
            "WorkingDirectory=/opt/portal",
            "EnvironmentFile=/etc/portal/portal.env",
            "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/portal",
            "NoNewPrivileges=yes",
            "CapabilityBoundingSet=",
            "MemoryDenyWriteExecute=yes",
            "Restart=on-failure",
            "KillSignal=SIGTERM",
        ):
            assert required in settings, f"{name}: {required}"
    timer = (ROOT / "deploy" / "systemd" / "portal-purge.timer").read_text()
    assert "OnCalendar=daily" in timer
    command, _ = deploy.unit_service(ROOT / "deploy" / "systemd" / "portal-purge.service")
    assert command[-2:] == ["manage.py", "purge_expired"]
    command, _ = deploy.unit_service(ROOT / "deploy" / "systemd" / "portal-worker.service")
    assert command[-2:] == ["manage.py", "deliver_messages"]


def test_the_purge_unit_runs(tmp_path):
    command, unit_env = deploy.unit_service(rendered_units(tmp_path) / "portal-purge.service")
    env = {**unit_env, **unit_environment(tmp_path)}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


# --- nginx ---------------------------------------------------------------------------------------
def token_route_prefixes() -> list[str]:
    """The literal path before every URL segment named *token* in the URLconf."""
    prefixes = []

    def walk(patterns: list, prefix: str) -> None:
        for entry in patterns:
            route = str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + route)
            elif isinstance(entry, URLPattern) and re.search(r"<(\w+:)?\w*token\w*>", route):
                prefixes.append("/" + prefix + route.split("<", 1)[0])

    walk(get_resolver().url_patterns, "")
    return prefixes


def test_every_token_route_is_redacted_in_nginx_access_log():
    prefixes = token_route_prefixes()
    assert prefixes == ["/not-me/"]  # the walk found the route
    config = deploy.NGINX_CONF.read_text()
    for prefix in prefixes:
        assert f'"~^{prefix}[^/]+(?<rest>/.*)?$" "{prefix}[redacted]$rest";' in config
        assert f"location {prefix} {{" in config  # its error lines are kept out too
    log_format = config.split("log_format portal", 1)[1].split(";", 1)[0]
    assert "$loggable_uri" in log_format and "$request_id" in log_format
    assert "$request_uri" not in log_format and "$args" not in log_format
    assert "$http_referer" not in log_format


def test_render_replaces_every_example_value():
    text = deploy.render_nginx(
        host="portal.lender.test",
        upstreams=["127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"],
    )
    settings = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert "example.com" not in settings
    assert "/etc/letsencrypt/live/portal.lender.test/fullchain.pem" in text
    assert re.findall(r"server (127\.0\.0\.1:\d+) max_fails", text) == [
        "127.0.0.1:9001",
        "127.0.0.1:9002",
        "127.0.0.1:9003",
    ]
    with pytest.raises(deploy.TemplateMismatch):
        deploy.render_nginx(host="x", upstreams=["a:1"], template="events {}\n")


needs_nginx = pytest.mark.skipif(not shutil.which("nginx"), reason="nginx is not installed")


@needs_nginx
def test_nginx_accepts_the_committed_file_as_it_is():
    result = subprocess.run(
        ["nginx", "-t", "-c", str(deploy.NGINX_CONF)], capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        # Everything parsed; only the example host's certificate is absent on this machine.
        errors = [line for line in result.stderr.splitlines() if "[emerg]" in line]
        assert len(errors) == 1, result.stderr
        assert f'cannot load certificate "{deploy.EXAMPLE_CERT}"' in errors[0]
        if os.geteuid() == 0:
            # The same file with only a certificate that exists passes entirely.
            config = deploy.NGINX_CONF.read_text()
            cert, key = localhost_certificate()
            config = config.replace(deploy.EXAMPLE_CERT, str(cert))
            config = config.replace(deploy.EXAMPLE_KEY, str(key))
            path = Path(cert).parent / "nginx.conf"
            path.write_text(config)
            check = subprocess.run(
                ["nginx", "-t", "-c", str(path)], capture_output=True, text=True, timeout=60
            )
            assert check.returncode == 0, check.stderr


def localhost_certificate() -> tuple[Path, Path]:
    from portal.tls import ensure_localhost_certificate

    return ensure_localhost_certificate(ROOT / "var" / "test-deploy-tls")


@needs_nginx
def test_rendered_nginx_passes_the_request_id_and_logs_no_token(tmp_path):
    instance_port, https_port, http_port = free_port(), free_port(), free_port()
    cert, key = localhost_certificate()
    run_dir = tmp_path / "nginx"
    run_dir.mkdir()
    out = run_dir / "nginx.conf"
    subprocess.run(
        [sys.executable, "-m", "portal.deploy", "nginx", "--host", "localhost",
         "--upstream", f"127.0.0.1:{instance_port}", "--cert", str(cert), "--key", str(key),
         "--run-dir", str(run_dir), "--listen-http", f"127.0.0.1:{http_port}",
         "--listen-https", f"127.0.0.1:{https_port}", "--out", str(out)],
        cwd=ROOT, check=True, timeout=60,
    )  # fmt: skip
    assert subprocess.run(["nginx", "-t", "-q", "-c", str(out)], timeout=60).returncode == 0
    command, unit_env = deploy.unit_service(
        rendered_units(tmp_path) / "portal-web@.service", str(instance_port)
    )
    env = {**unit_env, **unit_environment(tmp_path)}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    nginx_started = False
    try:
        wait_until_up(instance_port, server)
        subprocess.run(["nginx", "-c", str(out)], check=True, timeout=60)
        nginx_started = True
        context = ssl.create_default_context(cafile=str(cert))
        conn = http.client.HTTPSConnection("localhost", https_port, context=context, timeout=10)
        conn.request("GET", f"/not-me/{TOKEN}/?code=918273")
        response = conn.getresponse()
        response.read()
        plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        plain.request("GET", "/help/", headers={"Host": "localhost"})
        redirect = plain.getresponse()
    finally:
        if nginx_started:
            subprocess.run(["nginx", "-c", str(out), "-s", "quit"], timeout=60)
        server.terminate()
        instance_log = server.communicate(timeout=30)[0]
    assert redirect.status == 301
    assert redirect.headers["Location"] == f"https://localhost:{https_port}/help/"
    access = (run_dir / "portal.access.log").read_text()
    assert f'"GET /not-me/[redacted]/ HTTP/1.1" {response.status} ' in access
    assert TOKEN not in access and "918273" not in access
    assert TOKEN not in (run_dir / "error.log").read_text()
    # The instance logged the same request under nginx's request id.
    request_id = re.search(r"^\S+ ([0-9a-f]{32}) .*/not-me/", access, re.MULTILINE).group(1)  # type: ignore[union-attr]
    assert f'{request_id} "GET /not-me/[redacted]/ HTTP/1.1"' in instance_log
    assert TOKEN not in instance_log
