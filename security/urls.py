from django.urls import path
from django.views.generic import TemplateView

from security import views

app_name = "security"

urlpatterns = [
    path("login/", TemplateView.as_view(template_name="security/login.html"), name="login"),
    path("logout/", views.logout, name="logout"),
]
