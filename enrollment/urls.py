from django.urls import path

from enrollment import views

app_name = "enrollment"

urlpatterns = [
    path("", views.IdentityView.as_view(), name="start"),
    path("code/", views.IdentityCodeView.as_view(), name="identity_code"),
    path("vehicles/", views.VehiclesView.as_view(), name="vehicles"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("consent/", views.ConsentView.as_view(), name="consent"),
    path("consent/declined/", views.DeclineView.as_view(), name="declined"),
    path("confirm/", views.ConfirmView.as_view(), name="confirm"),
    path("confirm/send/", views.SendCodeView.as_view(), name="send_code"),
    path("device/", views.register_device, name="register_device"),
]
