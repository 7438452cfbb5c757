"""Creates a support staff user with an authenticator app, ready to sign in to the console."""

from __future__ import annotations

import io
import secrets
import sys
from typing import Any

import segno
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.conf import portal
from support.flow import ROLE_GROUPS, SupportUserError, staff_totp_uri, support_user_create


class Command(BaseCommand):
    help = (
        "Create a support staff user (role agent or supervisor) with an authenticator app. "
        "The password is read from standard input; with none given, one is generated and printed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(ROLE_GROUPS))
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--base-url",
            default="https://localhost:8443",
            help="Where the portal is served (default https://localhost:8443).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = "" if sys.stdin.isatty() else sys.stdin.readline().rstrip("\r\n")
        generated = not password
        if generated:
            password = secrets.token_urlsafe(24)  # 192 random bits
        try:
            device = support_user_create(
                username=options["username"],
                role=options["role"],
                password=password,
                email=options["email"],
            )
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from None
        except SupportUserError as exc:
            raise CommandError(str(exc)) from None

        uri = staff_totp_uri(device)
        url = options["base_url"].rstrip("/") + "/" + portal.admin_path
        self.stdout.write(f"Created {options['role']} {options['username']!r}.")
        if generated:
            self.stdout.write(f"Password (shown once, keep it safe): {password}")
        self.stdout.write(f"Support console: {url}")
        self.stdout.write("Add this account to an authenticator app with the QR code or the URI:")
        qr = io.StringIO()
        segno.make(uri, error="m").terminal(out=qr, compact=True)
        self.stdout.write(qr.getvalue(), ending="")
        self.stdout.write(uri)
