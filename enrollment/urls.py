from django.urls import path
from django.views.generic import TemplateView

app_name = "enrollment"

urlpatterns = [
    path("", TemplateView.as_view(template_name="enrollment/start.html"), name="start"),
]
