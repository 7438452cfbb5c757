"""The support console: Django's admin behind django-otp, showing only what support needs.

Only four things are registered, on this site alone: customers' online accounts (read-only,
with audited actions on their page), security events, the staff audit trail and outgoing
messages (all read-only for everyone; a message without its body and with its address masked).
Models holding hashes or codes (passwords, challenge answers, device tokens, one-time and backup
codes, action tokens, TOTP keys) and identity digests are never registered, so no admin page can
show them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django_otp.admin import OTPAdminSite

from portal.conf import portal
from security.codes import mask_email, mask_phone
from security.models import OutgoingMessage, SecurityEvent
from security.ratelimits import ip_limit_reached, too_many_attempts
from support import flow, selectors, views
from support.forms import StaffLoginForm
from support.models import CustomerAccount, StaffAuditEntry


class SupportAdminSite(OTPAdminSite):
    """Staff sign in with username, password and authenticator-app code on one form, with the
    customers' lockout (StaffLoginForm); a staff user who has not passed the code (or has no
    app) is treated as not staff."""

    site_header = "Support console"
    site_title = "Support console"
    index_title = "Support console"
    site_url = None
    login_form = StaffLoginForm
    login_template = "support/login.html"

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        # Password and code guesses count against the same per-IP limit as customer logins.
        if request.method == "POST" and ip_limit_reached(
            request, "support-login", portal.login_ip_rate
        ):
            return too_many_attempts(request)
        return super().login(request, extra_context)


site = SupportAdminSite(name="admin")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Nobody adds, changes or deletes through the console (superusers included)."""

    actions = None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OnlineAccess(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # support turned online access off


class OnlineAccessFilter(admin.SimpleListFilter):
    title = "online access"
    parameter_name = "access"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(OnlineAccess.ACTIVE.value, "Active"), (OnlineAccess.DISABLED.value, "Disabled")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == OnlineAccess.ACTIVE:
            return queryset.filter(is_active=True)
        if self.value() == OnlineAccess.DISABLED:
            return queryset.filter(is_active=False)
        return queryset


@admin.register(CustomerAccount, site=site)
class CustomerAccountAdmin(ReadOnlyAdmin):
    list_display = ("username", "name", "masked_email", "online_access")
    list_filter = (OnlineAccessFilter,)
    search_fields = ("username",)  # shows the search box; the search itself is below
    search_help_text = "Name, username, email, or the last 4 of an account number or VIN."
    list_per_page = 25
    ordering = ("last_name", "first_name", "username")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .filter(customer__isnull=False, is_staff=False, is_superuser=False)
            .select_related("customer")
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        return selectors.customer_search(queryset, search_term), False

    @admin.display(description="name", ordering="last_name")
    def name(self, obj: CustomerAccount) -> str:
        return obj.customer.full_name if obj.customer else obj.get_full_name()

    @admin.display(description="email")
    def masked_email(self, obj: CustomerAccount) -> str:
        return selectors.masked_email(obj.email)

    @admin.display(description="online access", ordering="is_active")
    def online_access(self, obj: CustomerAccount) -> str:
        return "Active" if obj.is_active else "Disabled"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The customer's page replaces the change form: nothing here is edited field by field.
        return views.customer_page(request, self, object_id)  # type: ignore[no-any-return]

    def get_urls(self) -> list[URLPattern]:  # type: ignore[override]
        def wrap(view: Any) -> Any:
            def bound(request: HttpRequest, object_id: str) -> HttpResponse:
                return view(request, self, object_id)  # type: ignore[no-any-return]

            bound.__name__ = view.__name__
            return self.admin_site.admin_view(bound)

        actions = [
            ("verify/identity", views.verify_identity, "verify_identity"),
            ("verify/answer", views.verify_answer, "verify_answer"),
            ("unlock", views.unlock, "unlock"),
            ("devices/remove", views.remove_devices, "remove_devices"),
            ("passkeys/remove", views.remove_passkey, "remove_passkey"),
            ("questions/require", views.require_questions, "require_questions"),
            ("disable", views.disable, "disable"),
            ("enable", views.enable, "enable"),
        ]
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(f"<path:object_id>/{route}/", wrap(view), name=f"{prefix}_{name}")
            for route, view, name in actions
        ] + super().get_urls()


@admin.register(SecurityEvent, site=site)
class SecurityEventAdmin(ReadOnlyAdmin):
    """Every look at security events leaves an entry in the staff audit trail: for the one
    customer the list is narrowed to (or the event belongs to), else for all customers."""

    list_display = ("created_at", "kind", "user", "ip", "device", "detail")
    list_filter = ("kind", "created_at")
    search_fields = ("user__username",)
    search_help_text = "Customer's username."
    list_select_related = ("user",)
    fields = ("created_at", "kind", "user", "ip", "device", "detail")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        if response.status_code == 200:
            term = request.GET.get("q", "").strip()
            customer = (
                CustomerAccount.objects.filter(username__iexact=term).first() if term else None
            )
            flow.account_view_record(
                staff=request.user,  # type: ignore[arg-type]
                user=customer,
                request=request,
                action=StaffAuditEntry.Action.VIEWED_EVENTS,
            )
        return response

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        event = self.get_object(request, object_id) if response.status_code == 200 else None
        if event is not None and event.user is not None:
            flow.account_view_record(
                staff=request.user,  # type: ignore[arg-type]
                user=event.user,
                request=request,
                action=StaffAuditEntry.Action.VIEWED_EVENTS,
            )
        return response


@admin.register(StaffAuditEntry, site=site)
class StaffAuditEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "staff_username",
        "action",
        "customer_username",
        "reason",
        "outcome",
        "ip",
    )
    list_filter = ("action", "created_at")
    search_fields = ("customer_username", "staff_username")
    search_help_text = "Customer's or staff member's username."
    fields = (
        "created_at",
        "staff_username",
        "action",
        "customer_username",
        "reason",
        "outcome",
        "ip",
    )


@admin.register(OutgoingMessage, site=site)
class OutgoingMessageAdmin(ReadOnlyAdmin):
    """Whether a customer's email or text message went out, and if not why (the failure's
    class name): never the body, which may hold a security code, and the address only masked."""

    list_display = (
        "created_at",
        "channel",
        "masked_destination",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "channel", "created_at")
    list_per_page = 50
    fields = (
        "created_at",
        "channel",
        "masked_destination",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "last_error",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).defer("body", "subject")

    @admin.display(description="to")
    def masked_destination(self, obj: OutgoingMessage) -> str:
        if obj.channel == OutgoingMessage.Channel.EMAIL:
            return mask_email(obj.destination)
        return mask_phone(obj.destination)
