"""Account recovery (forgot username / password) and "This wasn't me" links."""

from django.urls import path  # noqa: F401

app_name = "recovery"

urlpatterns: list = []
