from django.urls import path

from enrollment import views

app_name = "enrollment"

urlpatterns = [
    path("", views.IdentityView.as_view(), name="start"),
    path("vehicles/", views.VehiclesView.as_view(), name="vehicles"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("consent/", views.ConsentView.as_view(), name="consent"),
    path("consent/declined/", views.DeclineView.as_view(), name="declined"),
]
