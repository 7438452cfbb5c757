from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.core.signals import request_finished

        from portal import checks, log_redaction  # noqa: F401  (checks registers the checks)
        from portal.middleware import mark_session_start
        from portal.request_log import request_forget

        user_logged_in.connect(mark_session_start, dispatch_uid="portal.session_start")
        request_finished.connect(request_forget, dispatch_uid="portal.request_forget")
        log_redaction.install()
