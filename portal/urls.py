from django.urls import include, path

from portal import languages, metrics, views
from portal.conf import portal
from support.admin import site as support_console

urlpatterns = [
    path("", views.home, name="home"),
    path("help/", views.help_center, name="help_center"),
    path("security/", views.security_center, name="security_center"),
    path("contact/", views.contact, name="contact"),
    # Browsers ask for /favicon.ico on pages that name no icon (the support console's).
    path("favicon.ico", views.favicon, name="favicon"),
    path(".well-known/security.txt", views.security_txt, name="security_txt"),
    path(".well-known/change-password", views.change_password, name="change_password"),
    path("language/", languages.language_switch, name="language_switch"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("", include("signin.urls")),
    path("", include("recovery.urls")),
    path("enroll/", include("enrollment.urls")),
    path("my/", include("online_profile.urls")),
    path(portal.admin_path, support_console.urls),
]

handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
