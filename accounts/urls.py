from django.contrib.auth.decorators import login_required
from django.urls import path
from django.views.generic import TemplateView

app_name = "accounts"

urlpatterns = [
    path(
        "vehicles/",
        login_required(TemplateView.as_view(template_name="accounts/vehicles.html")),
        name="vehicles",
    ),
]
