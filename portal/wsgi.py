import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from portal.env import ConfigError

try:
    import portal.settings  # noqa: F401  (validate the environment before Django starts)
except ConfigError as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
