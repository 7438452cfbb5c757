"""Account recovery (forgot username / password) and "This wasn't me" links."""

from django.urls import path

from recovery import views

app_name = "recovery"

urlpatterns = [
    path("forgot-username/", views.forgot_username, name="forgot_username"),
    path("forgot-username/sent/", views.username_sent, name="username_sent"),
    path("forgot-username/code/", views.username_identity_code, name="username_identity_code"),
    path("forgot-password/", views.forgot_password, name="forgot_password"),
    path(
        "forgot-password/identity-code/",
        views.password_identity_code,
        name="password_identity_code",
    ),
    path("forgot-password/send/", views.password_channel, name="password_channel"),
    path("forgot-password/code/", views.password_code, name="password_code"),
    path("forgot-password/code/resend/", views.password_code_resend, name="password_code_resend"),
    path("forgot-password/new/", views.password_new, name="password_new"),
    path("not-me/<str:token>/", views.not_me, name="not_me"),
]
