"""The files under deploy/ for a particular host, and what the scale test reads from them.

    python -m portal.deploy nginx --host portal.lender.com \\
        --upstream 127.0.0.1:8001 --upstream 127.0.0.1:8002 [--cert FILE --key FILE] \\
        [--run-dir DIR] [--listen-http [ADDR:]PORT] [--listen-https [ADDR:]PORT] [--out FILE]
    python -m portal.deploy systemd --out DIR [--prefix /opt/portal] [--venv PREFIX/.venv]

deploy/nginx.conf is a working configuration for portal.example.com and the template at once:
rendering replaces its example values (each must be found exactly where expected, so the file
and this command cannot drift apart silently). --run-dir puts the pid file, logs and temporary
files under one directory, for running nginx outside the system's (the scale test does).
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
SYSTEMD_DIR = ROOT / "deploy" / "systemd"
UNIT_PREFIX = "/opt/portal"  # WorkingDirectory of the committed units

EXAMPLE_HOST = "portal.example.com"
EXAMPLE_CERT = f"/etc/letsencrypt/live/{EXAMPLE_HOST}/fullchain.pem"
EXAMPLE_KEY = f"/etc/letsencrypt/live/{EXAMPLE_HOST}/privkey.pem"
_UPSTREAM_SERVER = re.compile(r"^( +)server 127\.0\.0\.1:800[12] (.*);\n", re.MULTILINE)


class TemplateMismatch(Exception):
    """deploy/nginx.conf no longer has an example value where the renderer expects it."""


def _replace(text: str, old: str, new: str, count: int) -> str:
    found = text.count(old)
    if found != count:
        raise TemplateMismatch(f"expected {count} x {old!r} in deploy/nginx.conf, found {found}")
    return text.replace(old, new)


def render_nginx(
    *,
    host: str,
    upstreams: list[str],
    cert: str | None = None,
    key: str | None = None,
    run_dir: Path | None = None,
    listen_http: str | None = None,
    listen_https: str | None = None,
    template: str | None = None,
) -> str:
    text = NGINX_CONF.read_text() if template is None else template
    if not upstreams:
        raise ValueError("at least one upstream instance is needed")
    servers = _UPSTREAM_SERVER.findall(text)
    if len(servers) != 2:
        raise TemplateMismatch("expected the two example upstream servers in deploy/nginx.conf")
    indent, options = servers[0]
    lines = "".join(f"{indent}server {upstream} {options};\n" for upstream in upstreams)
    text = _UPSTREAM_SERVER.sub("", text, count=1)
    text = _UPSTREAM_SERVER.sub(lambda _: lines, text, count=1)
    text = _replace(text, EXAMPLE_CERT, cert or f"/etc/letsencrypt/live/{host}/fullchain.pem", 1)
    text = _replace(text, EXAMPLE_KEY, key or f"/etc/letsencrypt/live/{host}/privkey.pem", 1)
    text = _replace(text, f"server_name {EXAMPLE_HOST};", f"server_name {host};", 2)
    if listen_http:
        text = _replace(text, "        listen 80;\n", f"        listen {listen_http};\n", 1)
        text = _replace(text, "        listen [::]:80;\n", "", 1)
    if listen_https:
        text = _replace(
            text, "        listen 443 ssl;\n", f"        listen {listen_https} ssl;\n", 1
        )
        text = _replace(text, "        listen [::]:443 ssl;\n", "", 1)
        port = listen_https.rsplit(":", 1)[-1]
        if port != "443":
            redirect = f"return 301 https://$host:{port}$request_uri;"
            text = _replace(text, "return 301 https://$host$request_uri;", redirect, 1)
    if run_dir is not None:
        text = _replace(text, "user www-data;\n", "", 1)  # runs as whoever starts it
        text = _replace(text, "pid /run/nginx.pid;", f"pid {run_dir}/nginx.pid;", 1)
        text = _replace(text, "/var/log/nginx/", f"{run_dir}/", 3)
        text = _replace(text, "/var/lib/nginx/", f"{run_dir}/", 5)
    return text


def render_units(out: Path, *, prefix: str = UNIT_PREFIX, venv: str | None = None) -> list[Path]:
    """The systemd units with the checkout at `prefix` and the virtualenv at `venv`."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for unit in sorted(SYSTEMD_DIR.iterdir()):
        text = unit.read_text()
        if venv:
            text = text.replace(f"{UNIT_PREFIX}/.venv", venv)
        text = text.replace(UNIT_PREFIX, prefix)
        path = out / unit.name
        path.write_text(text)
        written.append(path)
    return written


def read_env_file(path: Path) -> dict[str, str]:
    """An environment file as systemd's EnvironmentFile= reads it: NAME=value lines, # or ;
    comments, blank lines, and a value optionally in matching quotes."""
    variables = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        name, sep, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"{path}:{number}: not NAME=value")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        variables[name] = value
    return variables


def write_env_file(path: Path, variables: dict[str, str]) -> None:
    path.write_text("".join(f"{name}={value}\n" for name, value in variables.items()))
    path.chmod(0o600)


def unit_service(unit: Path, instance: str = "") -> tuple[list[str], dict[str, str]]:
    """A rendered service unit's ExecStart= command and Environment= variables, %i expanded."""
    command: list[str] = []
    environment: dict[str, str] = {}
    for line in unit.read_text().splitlines():
        name, _, value = line.partition("=")
        value = value.replace("%i", instance)
        if name == "ExecStart":
            command = shlex.split(value)
        elif name == "Environment":
            key, _, setting = value.partition("=")
            environment[key] = setting
    if not command:
        raise ValueError(f"{unit} has no ExecStart=")
    return command, environment


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m portal.deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)
    nginx = commands.add_parser("nginx", help="deploy/nginx.conf for a host")
    nginx.add_argument("--host", required=True, help="the portal's public host name")
    nginx.add_argument("--upstream", action="append", required=True, metavar="ADDR:PORT",
                       help="a portal instance (repeat for each)")  # fmt: skip
    nginx.add_argument("--cert", help="certificate chain (default: Let's Encrypt's for --host)")
    nginx.add_argument("--key", help="private key (default: Let's Encrypt's for --host)")
    nginx.add_argument("--run-dir", type=Path, help="pid file, logs and temporary files here")
    nginx.add_argument("--listen-http", metavar="[ADDR:]PORT", help="instead of 80")
    nginx.add_argument("--listen-https", metavar="[ADDR:]PORT", help="instead of 443")
    nginx.add_argument("--out", type=Path, help="file to write (default: standard output)")
    systemd = commands.add_parser("systemd", help="deploy/systemd/* for another checkout path")
    systemd.add_argument("--out", type=Path, required=True, help="directory to write the units")
    systemd.add_argument("--prefix", default=UNIT_PREFIX, help="the checkout (WorkingDirectory)")
    systemd.add_argument("--venv", help="the virtualenv (default: PREFIX/.venv)")
    args = parser.parse_args(argv)
    if args.command == "nginx":
        try:
            text = render_nginx(
                host=args.host, upstreams=args.upstream, cert=args.cert, key=args.key,
                run_dir=args.run_dir.resolve() if args.run_dir else None,
                listen_http=args.listen_http, listen_https=args.listen_https,
            )  # fmt: skip
        except TemplateMismatch as exc:
            raise SystemExit(str(exc)) from None
        if args.out:
            args.out.write_text(text)
        else:
            sys.stdout.write(text)
    else:
        for path in render_units(args.out, prefix=args.prefix, venv=args.venv):
            print(path)


if __name__ == "__main__":
    main()
