"""Keeps secrets that travel in URLs out of every log line.

A "This wasn't me" link carries a single-use token in its path, and Django logs request paths
(a CSRF failure, a 404). Every log record is made through `redacting_record_factory`, which
replaces such path segments before any handler sees the message, whatever logger wrote it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# A random URL token: 16+ characters of the base64url alphabet with at least one digit,
# capital or underscore. Readable slugs ("electronic-communications") have none of those.
_TOKEN_SEGMENT = re.compile(r"(?<=/)(?=[A-Za-z0-9_-]*[0-9A-Z_])[A-Za-z0-9_-]{16,}(?=/|$|\?|\s)")
REDACTED = "[redacted]"


def redact_tokens(text: str) -> str:
    return _TOKEN_SEGMENT.sub(REDACTED, text)


_make_record = logging.getLogRecordFactory()


def redacting_record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _make_record(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a malformed record is logging's own problem to report, as before
        return record
    redacted = redact_tokens(message)
    if redacted != message:
        record.msg, record.args = redacted, None
    return record


def install() -> None:
    if logging.getLogRecordFactory() is not redacting_record_factory:
        logging.setLogRecordFactory(redacting_record_factory)
