#!/usr/bin/env python
"""Django's command-line utility; configuration problems end in one line, not a traceback."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from portal.env import ConfigError

    try:
        import portal.settings  # noqa: F401
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
