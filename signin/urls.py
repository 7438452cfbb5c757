from django.urls import path

from signin import views

app_name = "signin"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("login/passkey/", views.passkey_login, name="passkey_login"),
    path("login/passkey/options/", views.passkey_options, name="passkey_options"),
    path("login/verify/", views.step_up, name="step_up"),
    path("login/verify/passkey/", views.step_up_passkey, name="step_up_passkey"),
    path(
        "login/verify/passkey/options/",
        views.step_up_passkey_options,
        name="step_up_passkey_options",
    ),
    path("login/device/", views.register_device, name="register_device"),
    path("logout/", views.logout, name="logout"),
]
