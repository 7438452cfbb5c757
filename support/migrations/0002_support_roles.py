"""The console's two roles as groups, each with exactly the permissions it needs.

Permissions are normally created after all migrations (post_migrate), so the ones used here
are created now, with the same names Django would give them.
"""

from django.db import migrations

PERMISSIONS = {
    ("support", "customeraccount", "view_customeraccount"): "Can view customer online account",
    ("support", "customeraccount", "verify_caller"): "Can verify a caller against the customer's records",
    ("support", "customeraccount", "unlock_access"): "Can unlock online access",
    ("support", "customeraccount", "remove_devices"): "Can remove registered devices",
    ("support", "customeraccount", "require_new_questions"): "Can require new challenge questions",
    ("support", "customeraccount", "disable_access"): "Can disable and enable online access",
    ("support", "staffauditentry", "view_staffauditentry"): "Can view staff audit entry",
    ("security", "securityevent", "view_securityevent"): "Can view security event",
}

AGENT = [
    "view_customeraccount",
    "verify_caller",
    "unlock_access",
    "remove_devices",
    "require_new_questions",
    "view_securityevent",
]
ROLES = {
    "Support agent": AGENT,
    "Supervisor": [*AGENT, "disable_access", "view_staffauditentry"],
}


def create_roles(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    by_codename = {}
    for (app_label, model, codename), name in PERMISSIONS.items():
        content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
        by_codename[codename] = permission
    for group_name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.set([by_codename[codename] for codename in codenames])


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0001_initial"),
        ("security", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
