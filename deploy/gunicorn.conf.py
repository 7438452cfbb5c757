"""gunicorn's configuration for one portal instance.

    gunicorn --config deploy/gunicorn.conf.py

serves portal.wsgi with the settings `python -m portal.serve` uses (they are defined once, in
portal/serve.py) from the same environment: PORT, HOST, WEB_CONCURRENCY, WEB_THREADS,
PORTAL_SERVE_TLS, TLS_CERT_FILE, TLS_KEY_FILE (see .env.example). Access log and error log go
to standard output and standard error (the journal, under systemd).

glibc reads its malloc settings (portal.serve.MALLOC_ENVIRONMENT) only when a process starts,
so this file cannot apply them to the gunicorn that is reading it: the systemd unit
(deploy/systemd/portal-web@.service) sets them with Environment= lines, and
`python -m portal.serve` sets them before it starts gunicorn.
"""

import os
import sys
from pathlib import Path

# The checkout, importable whichever directory gunicorn was started from.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from portal.env import ConfigError
from portal.serve import gunicorn_settings, malloc_environment, server_options

try:
    _settings = gunicorn_settings(server_options())
except ConfigError as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)

if malloc_environment(os.environ):
    print(
        "Note: " + ", ".join(malloc_environment(os.environ)) + " not set: workers keep freed "
        "password-hash memory (the systemd unit and python -m portal.serve set them)",
        file=sys.stderr,
    )

# gunicorn reads its settings from this module's global names.
globals().update(_settings)
