from django.contrib import admin
from django.urls import include, path

from portal import views
from portal.conf import portal

urlpatterns = [
    path("", views.home, name="home"),
    path("help/", views.help_center, name="help_center"),
    path("security/", views.security_center, name="security_center"),
    path("contact/", views.contact, name="contact"),
    path("healthz", views.healthz, name="healthz"),
    path("", include("security.urls")),
    path("", include("security.recovery_urls")),
    path("enroll/", include("enrollment.urls")),
    path("my/", include("accounts.urls")),
    path(portal.admin_path, admin.site.urls),
]

handler404 = "portal.views.page_not_found"
handler500 = "portal.views.server_error"
