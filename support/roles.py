"""The console's two roles: Django groups with exactly the permissions each needs.

Migration 0002 creates them; `roles_ensure` runs after every `migrate` (and after the test
database is flushed, which empties every table) so the groups always match this definition.
"""

from __future__ import annotations

from typing import Any

AGENT_PERMISSIONS = [
    "support.view_customeraccount",
    "support.verify_caller",
    "support.unlock_access",
    "support.remove_devices",
    "support.remove_passkeys",
    "support.require_new_questions",
    "security.view_securityevent",
    "security.view_outgoingmessage",
]
ROLES: dict[str, list[str]] = {
    "Support agent": AGENT_PERMISSIONS,
    "Supervisor": [
        *AGENT_PERMISSIONS,
        "support.disable_access",
        "support.view_staffauditentry",
    ],
}


def roles_ensure(*, using: str = "default", **kwargs: Any) -> None:
    """Creates the role groups if missing and sets their permissions to exactly ROLES."""
    from django.contrib.auth.models import Group, Permission

    wanted = {perm for perms in ROLES.values() for perm in perms}
    permissions = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.using(using)
        .select_related("content_type")
        .filter(codename__in=[perm.split(".", 1)[1] for perm in wanted])
    }
    if not wanted <= permissions.keys():
        return  # permissions not created yet (their apps' post_migrate has not run)
    for name, perms in ROLES.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.set([permissions[perm] for perm in perms])
