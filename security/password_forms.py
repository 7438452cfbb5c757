"""The new-password pair (Password / Confirm password) that enrollment, password recovery and
the profile's password change share: the same widgets, checks and messages everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MISMATCH = gettext_lazy("The two passwords do not match. Type the same one twice.")


def new_password_field(label: StrOrPromise, required: StrOrPromise) -> forms.CharField:
    # Not stripped: spaces are part of a passphrase. "new-password" lets managers suggest one.
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": required},
    )


def check_new_password(
    form: forms.Form,
    data: dict[str, Any],
    user: Any,
    *,
    first: str = "password1",
    second: str = "password2",
) -> None:
    """Adds the form's errors for a new password: a confirmation that differs, and every reason
    the password validators refuse it for `user` (both at once, so one round trip shows all)."""
    password = data.get(first)
    if not password:
        return
    confirm = data.get(second)
    if confirm is not None and password != confirm:
        form.add_error(second, MISMATCH)
    try:
        validate_password(password, user)
    except ValidationError as error:
        form.add_error(first, error)
