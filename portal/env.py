"""Reading and validating the process environment, once, at start-up.

Every problem raises ConfigError, whose message is one line naming the variable; the entry
points (manage.py, portal.serve, wsgi) print it and exit instead of showing a traceback.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlparse


class ConfigError(Exception):
    """A missing or malformed environment variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"Configuration error: {variable} {problem}")
        self.variable = variable


def text(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def required(name: str) -> str:
    value = text(name)
    if not value:
        raise ConfigError(name, "must be set")
    return value


def boolean(name: str, default: bool = False) -> bool:
    raw = text(name)
    if not raw:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(name, f"must be true or false, not {raw!r}")


def integer(name: str, default: int, *, minimum: int = 0, maximum: int | None = None) -> int:
    raw = text(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"must be a whole number, not {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise ConfigError(name, f"must be at least {minimum}{upper}, not {value}")
    return value


def choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = text(name, default) or default
    if value not in choices:
        raise ConfigError(name, f"must be one of {', '.join(choices)}, not {value!r}")
    return value


def pattern(name: str, default: str, regex: str, example: str) -> str:
    value = text(name) or default
    if not re.match(regex, value):
        raise ConfigError(name, f"must look like {example}, not {value!r}")
    return value


def url(name: str, schemes: tuple[str, ...], default: str = "") -> str:
    value = text(name, default) or default
    if not value:
        return ""
    parsed = urlparse(value)
    if parsed.scheme not in schemes:
        raise ConfigError(name, f"must start with {' or '.join(s + '://' for s in schemes)}")
    return value


def date(name: str) -> datetime.date | None:
    """An ISO date (YYYY-MM-DD), or None when unset."""
    value = text(name)
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(name, f"must be a date like 2027-06-30, not {value!r}") from None


def networks(name: str, default: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Comma-separated networks in CIDR form (a bare address is a network of one)."""
    result = []
    for item in csv_list(name, default):
        try:
            result.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(name, f"must list networks like 10.0.0.0/8, not {item!r}") from None
    return result


def csv_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in (text(name) or default).split(",") if item.strip()]


def local_secret(name: str, path: Path, *, production: bool, min_length: int = 32) -> str:
    """The secret from the environment; locally, one generated once and kept under var/."""
    value = text(name)
    if value:
        if len(value) < min_length:
            raise ConfigError(name, f"must be at least {min_length} characters long")
        return value
    if production:
        raise ConfigError(name, "must be set when PORTAL_ENV=production")
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # O_EXCL so two processes starting together cannot write different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
