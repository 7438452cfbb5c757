from django.urls import path

from signin import views

app_name = "signin"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("login/verify/", views.step_up, name="step_up"),
    path("login/device/", views.register_device, name="register_device"),
    path("logout/", views.logout, name="logout"),
]
