from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SupportConfig(AppConfig):
    name = "support"
    verbose_name = "Support console"

    def ready(self) -> None:
        post_migrate.connect(_roles_ensure, sender=self, dispatch_uid="support.roles_ensure")


def _roles_ensure(sender: Any, using: str = "default", **kwargs: Any) -> None:
    from support.roles import roles_ensure

    roles_ensure(using=using)
