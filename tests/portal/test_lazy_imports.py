"""Modules that cost every worker memory wait for the rare pages that use them.

zxcvbn's dictionaries (~11 MB) load only when a new password is checked, not when a form shows
the validators' help; segno (~0.7 MB) only when a QR code is drawn; phonenumbers (~1 MB) only
when a phone number is checked. Run in a fresh interpreter:
this test process may have imported both already.
"""

from __future__ import annotations

import json
import os

from tests.portal.fresh_python import run_python

WORKER = r"""
import json, sys
import django
from django.core.exceptions import ValidationError

django.setup()
from django.contrib.auth.password_validation import (
    password_validators_help_texts,
    validate_password,
)
from django.urls import get_resolver

loaded = lambda: sorted(
    name for name in ("phonenumbers", "segno", "zxcvbn") if name in sys.modules
)
get_resolver().url_patterns  # every view module, as a worker's first request imports them
password_validators_help_texts()  # what every new-password form shows
after_pages = loaded()
try:
    validate_password("qwertyuiopasdfghjkl")
    refused = []
except ValidationError as error:
    refused = [e.code for e in error.error_list]
print(json.dumps({"after_pages": after_pages, "refused": refused, "after_check": loaded()}))
"""


def test_zxcvbn_segno_and_phonenumbers_load_only_for_the_pages_that_use_them(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="portal.settings", PORTAL_VAR_DIR=str(tmp_path))
    outcome = json.loads(run_python(WORKER, env).strip().splitlines()[-1])
    assert outcome["after_pages"] == []
    # The strength check still runs (a keyboard walk is refused as too easy to guess).
    assert "password_too_weak" in outcome["refused"]
    assert outcome["after_check"] == ["zxcvbn"]
