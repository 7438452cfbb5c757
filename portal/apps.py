from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from portal import checks, log_redaction  # noqa: F401  (checks registers the checks)
        from portal.middleware import mark_session_start

        user_logged_in.connect(mark_session_start, dispatch_uid="portal.session_start")
        log_redaction.install()
