"""Account recovery (forgot username / password) and "This wasn't me" links."""

from django.urls import path

from security import recovery_views as views

app_name = "recovery"

urlpatterns = [
    path("not-me/<str:token>/", views.not_me, name="not_me"),
]
