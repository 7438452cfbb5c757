"""System checks for what `check --deploy` cannot know about this project."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def portal_deploy_checks(app_configs: Any, **kwargs: Any) -> list[Error]:
    errors = []
    if settings.PASSWORD_HASHERS[0] != "portal.hashers.PortalArgon2PasswordHasher":
        errors.append(Error("Passwords must be hashed with Argon2id first.", id="portal.E001"))
    if not settings.SESSION_COOKIE_NAME.startswith("__Host-"):
        errors.append(Error("The session cookie must be __Host- prefixed.", id="portal.E002"))
    return errors
