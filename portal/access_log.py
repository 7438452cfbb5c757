"""gunicorn's access log without secrets: request paths pass through the portal's redaction.

A "This wasn't me" link carries a single-use token in its path; gunicorn writes the raw request
line. This logger hands gunicorn's format the path with such segments replaced (the same
`redact_tokens` as every other log line) and no query string, whatever atoms the format uses.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

from portal.log_redaction import redact_tokens

# Atoms (gunicorn's names; headers as {name}i, WSGI environ as {name}e) that hold a request's
# or a referring page's address, and those that hold its query string.
_ADDRESS_ATOM = re.compile(r"^[Uf]$|referer|uri|path", re.IGNORECASE)
_QUERY_ATOM = re.compile(r"^q$|query_string", re.IGNORECASE)


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for name, value in atoms.items():
            if not isinstance(value, str):
                continue
            if _QUERY_ATOM.search(name):
                atoms[name] = ""
            elif _ADDRESS_ATOM.search(name):
                atoms[name] = redact_tokens(value.split("?", 1)[0])
            else:
                atoms[name] = redact_tokens(value)
        atoms["r"] = f"{atoms['m']} {atoms['U']} {atoms['H']}"
        return atoms
