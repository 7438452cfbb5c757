from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Sign-in security"

    def ready(self) -> None:
        from accounts.signals import loan_accounts_unlinked
        from security.events import record_loans_unlinked

        loan_accounts_unlinked.connect(
            record_loans_unlinked, dispatch_uid="security.loans_unlinked"
        )
