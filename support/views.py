"""The customer page of the support console and its actions.

Mounted by CustomerAccountAdmin.get_urls inside the admin site's admin_view (staff with a
verified authenticator code only, CSRF-protected, never cached). Each action checks its own
permission first, so an agent posting a supervisor action gets 403 whatever the customer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from security.models import Passkey
from support import flow, selectors
from support.forms import IdentityCheckForm, PasskeyRemoveForm, QuestionCheckForm, ReasonForm
from support.models import StaffAuditEntry

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

PERMISSIONS = {
    "view": "support.view_customeraccount",
    "verify": "support.verify_caller",
    "unlock": "support.unlock_access",
    "devices": "support.remove_devices",
    "passkey": "support.remove_passkeys",
    "questions": "support.require_new_questions",
    "disable": "support.disable_access",
    "enable": "support.disable_access",
    "audit": "support.view_staffauditentry",
}
RECENT_AUDIT = 10


def _staff(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _customer(
    request: HttpRequest, model_admin: ModelAdmin[Any], object_id: str, permission: str
) -> User:
    if not request.user.has_perm(permission):
        raise PermissionDenied
    user = model_admin.get_object(request, unquote(object_id))
    if user is None:
        raise Http404("No such customer online account.")
    return user


def _page_url(user: User) -> str:
    return reverse("admin:support_customeraccount_change", args=[user.pk])


def _render(
    request: HttpRequest,
    model_admin: ModelAdmin[Any],
    user: User,
    bound: dict[str, forms.Form] | None = None,
) -> TemplateResponse:
    overview = selectors.customer_overview(user)
    can = {name: request.user.has_perm(perm) for name, perm in PERMISSIONS.items()}
    page_forms: dict[str, forms.Form] = {
        "identity": IdentityCheckForm(prefix="identity"),
        "question": QuestionCheckForm(prefix="question", questions=overview.questions),
        **{
            name: ReasonForm(prefix=name)
            for name in ("unlock", "devices", "questions", "disable", "enable")
        },
        "passkey": PasskeyRemoveForm(prefix="passkey", passkeys=overview.passkeys),
        **(bound or {}),
    }
    audit = StaffAuditEntry.objects.filter(customer=user)[:RECENT_AUDIT] if can["audit"] else None
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"Online account of {overview.full_name}",
        "subtitle": overview.username,
        "account_id": user.pk,
        "account": overview,
        "forms": page_forms,
        "has_errors": any(form.is_bound and form.errors for form in page_forms.values()),
        "can": can,
        "audit": audit,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "support/customer.html", context)


@require_GET
def customer_page(request: HttpRequest, model_admin: ModelAdmin[Any], object_id: str) -> Any:
    user = _customer(request, model_admin, object_id, PERMISSIONS["view"])
    flow.account_view_record(staff=_staff(request), user=user, request=request)
    return _render(request, model_admin, user)


def _show_outcome(request: HttpRequest, outcome: flow.VerifyOutcome) -> None:
    if outcome is flow.VerifyOutcome.MATCH:
        messages.success(request, "Caller verification: Match")
    elif outcome is flow.VerifyOutcome.NO_MATCH:
        messages.warning(request, "Caller verification: No match")
    else:
        messages.error(
            request,
            "Caller verification refused: too many attempts for this customer. Try again later "
            "or ask a supervisor.",
        )


@require_POST
def verify_identity(request: HttpRequest, model_admin: ModelAdmin[Any], object_id: str) -> Any:
    user = _customer(request, model_admin, object_id, PERMISSIONS["verify"])
    form = IdentityCheckForm(request.POST, prefix="identity")
    if not form.is_valid():
        return _render(request, model_admin, user, {"identity": form})
    outcome = flow.caller_verify_identity(
        staff=_staff(request),
        user=user,
        tin_last4=form.cleaned_data["tin_last4"],
        birth_date=form.cleaned_data["birth_date"],
        request=request,
    )
    _show_outcome(request, outcome)
    return redirect(_page_url(user))


@require_POST
def verify_answer(request: HttpRequest, model_admin: ModelAdmin[Any], object_id: str) -> Any:
    user = _customer(request, model_admin, object_id, PERMISSIONS["verify"])
    questions = selectors.customer_overview(user).questions
    form = QuestionCheckForm(request.POST, prefix="question", questions=questions)
    if not form.is_valid():
        return _render(request, model_admin, user, {"question": form})
    outcome = flow.caller_verify_answer(
        staff=_staff(request),
        user=user,
        question=form.cleaned_data["question"],
        answer=form.cleaned_data["answer"],
        request=request,
    )
    _show_outcome(request, outcome)
    return redirect(_page_url(user))


def _reason_action(
    name: str, service: Callable[..., Any], message: Callable[[User, Any], str]
) -> Callable[..., HttpResponse]:
    """A POST-only view: permission, then a reason, then one audited service call."""

    @require_POST
    def view(request: HttpRequest, model_admin: ModelAdmin[Any], object_id: str) -> Any:
        user = _customer(request, model_admin, object_id, PERMISSIONS[name])
        form = ReasonForm(request.POST, prefix=name)
        if not form.is_valid():
            return _render(request, model_admin, user, {name: form})
        result = service(
            staff=_staff(request), user=user, reason=form.cleaned_data["reason"], request=request
        )
        messages.success(request, message(user, result))
        return redirect(_page_url(user))

    view.__name__ = f"{name}_view"
    return view


unlock = _reason_action(
    "unlock",
    flow.access_unlock,
    lambda user, _: (
        f"Online access unlocked for {user.get_username()}. "
        "We emailed the customer that their access was restored."
    ),
)


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'s' if n != 1 else ''}"


remove_devices = _reason_action(
    "devices",
    flow.access_devices_remove,
    lambda user, removed: (
        f"Removed {_count(removed.devices, 'registered device')} and "
        f"{_count(removed.passkeys, 'passkey')} of {user.get_username()}."
        + (" We emailed the customer." if removed.passkeys else "")
    ),
)


@require_POST
def remove_passkey(request: HttpRequest, model_admin: ModelAdmin[Any], object_id: str) -> Any:
    """Removes the chosen passkey of this customer; another customer's passkey is a 404."""
    user = _customer(request, model_admin, object_id, PERMISSIONS["passkey"])
    passkeys = selectors.customer_overview(user).passkeys
    form = PasskeyRemoveForm(request.POST, prefix="passkey", passkeys=passkeys)
    if not form.is_valid():
        return _render(request, model_admin, user, {"passkey": form})
    try:
        name = flow.access_passkey_remove(
            staff=_staff(request),
            user=user,
            passkey_id=form.cleaned_data["passkey"],
            reason=form.cleaned_data["reason"],
            request=request,
        )
    except Passkey.DoesNotExist:
        raise Http404("No such passkey for this customer.") from None
    messages.success(
        request,
        f"Removed the passkey {name} of {user.get_username()}. We emailed the customer.",
    )
    return redirect(_page_url(user))


require_questions = _reason_action(
    "questions",
    flow.access_questions_require,
    lambda user, _: (
        f"{user.get_username()} must choose new challenge questions after their next login."
    ),
)


disable = _reason_action(
    "disable",
    flow.access_disable,
    lambda user, _: (
        f"Online access disabled for {user.get_username()}; every session of theirs has ended."
    ),
)
enable = _reason_action(
    "enable",
    flow.access_enable,
    lambda user, _: f"Online access enabled for {user.get_username()}.",
)
