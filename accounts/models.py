"""The customer as the loan-servicing system knows them, and their online account."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac


class Customer(models.Model):
    """A borrower from the servicing export. Identity data is kept only as a keyed hash."""

    customer_number = models.CharField(max_length=32, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    # HMAC of TIN last 4 and birth date (accounts.identity.identity_digest); never the clear values.
    identity_digest = models.CharField(max_length=64)
    email = models.EmailField(blank=True)
    mobile_phone = models.CharField(max_length=16, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.customer_number})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Vehicle(models.Model):
    vin = models.CharField("VIN", max_length=17, unique=True)
    year = models.PositiveSmallIntegerField()
    make = models.CharField(max_length=50)
    model = models.CharField(max_length=50)

    def __str__(self) -> str:
        return f"{self.year} {self.make} {self.model} (VIN …{self.vin[-4:]})"


class LoanAccount(models.Model):
    account_number = models.CharField(max_length=20, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="loan_accounts")
    vehicle = models.ForeignKey(Vehicle, on_delete=models.PROTECT, related_name="loan_accounts")
    balance = models.DecimalField(max_digits=12, decimal_places=2)
    payment_amount = models.DecimalField(max_digits=12, decimal_places=2)
    payment_due_date = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account_number"]

    def __str__(self) -> str:
        return f"Account …{self.account_number[-4:]}"

    @property
    def account_last4(self) -> str:
        return self.account_number[-4:]


def new_security_stamp() -> str:
    return secrets.token_hex(16)


class User(AbstractUser):
    """The online account of a customer (or a staff member, who has no customer)."""

    customer = models.OneToOneField(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="online_user"
    )
    mobile_phone = models.CharField(max_length=16, blank=True)
    loan_accounts = models.ManyToManyField(LoanAccount, blank=True, related_name="online_users")
    # Rotating the stamp ends every session of the user at their next request (see
    # get_session_auth_hash), whatever the session backend.
    security_stamp = models.CharField(max_length=32, default=new_security_stamp, editable=False)
    # Set by support: the customer must choose new challenge questions before anything else.
    must_reset_challenge_questions = models.BooleanField(default=False)
    # The language of the customer's pages, emails and text messages (settings.LANGUAGES).
    language = models.CharField(max_length=8, default="en")

    class Meta:
        constraints = [models.UniqueConstraint(Lower("username"), name="unique_username_any_case")]

    def get_session_auth_hash(self) -> str:
        return salted_hmac(
            "accounts.User.session", f"{self.password}|{self.security_stamp}", algorithm="sha256"
        ).hexdigest()

    def get_session_auth_fallback_hash(self):  # type: ignore[no-untyped-def]
        from django.conf import settings

        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield salted_hmac(
                "accounts.User.session",
                f"{self.password}|{self.security_stamp}",
                secret=fallback_secret,
                algorithm="sha256",
            ).hexdigest()


class ElectronicConsent(models.Model):
    """The customer's authorization to receive account information electronically (E-SIGN).

    Part of the customer's record, read by My Online Profile; given during enrollment, whose
    migrations created its table (hence the app label).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="electronic_consents"
    )
    disclosure_version = models.CharField(max_length=20)
    accepted_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        app_label = "enrollment"
        ordering = ["-accepted_at"]
