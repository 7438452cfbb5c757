from django.conf import settings
from django.db import models
from django.utils import timezone


class ElectronicConsent(models.Model):
    """The customer's authorization to receive account information electronically (E-SIGN)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="electronic_consents"
    )
    disclosure_version = models.CharField(max_length=20)
    accepted_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-accepted_at"]
