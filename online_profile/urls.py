from django.urls import path

from online_profile import views

app_name = "profile"

urlpatterns = [
    path("vehicles/", views.vehicles, name="vehicles"),
    path("vehicles/add/", views.add_vehicle, name="add_vehicle"),
    path("profile/", views.profile, name="profile"),
    path("profile/challenge-questions/", views.challenge_questions, name="challenge_questions"),
    path("profile/password/", views.password, name="password"),
    path("profile/contact/", views.contact, name="contact"),
    path("profile/contact/confirm/", views.contact_confirm, name="contact_confirm"),
    path("profile/contact/resend/", views.contact_resend, name="contact_resend"),
    path("profile/contact/cancel/", views.contact_cancel, name="contact_cancel"),
    path("profile/devices/", views.devices, name="devices"),
    path("profile/devices/<int:device_id>/remove/", views.device_remove, name="device_remove"),
    path("profile/devices/remove-all/", views.devices_remove_all, name="devices_remove_all"),
    path("profile/passkeys/", views.passkeys, name="passkeys"),
    path("profile/passkeys/options/", views.passkey_options, name="passkey_options"),
    path("profile/passkeys/add/", views.passkey_add, name="passkey_add"),
    path("profile/passkeys/<int:passkey_id>/remove/", views.passkey_remove, name="passkey_remove"),
    path("profile/two-step/", views.two_step_settings, name="two_step"),
    path("profile/two-step/app/", views.two_step_app, name="two_step_app"),
    path("profile/two-step/app/start/", views.two_step_app_start, name="two_step_app_start"),
    path("profile/two-step/app/remove/", views.two_step_app_remove, name="two_step_app_remove"),
    path("profile/two-step/backup-codes/", views.backup_codes, name="backup_codes"),
    path("profile/electronic-communications/", views.esign, name="esign"),
    path("profile/activity/", views.activity, name="activity"),
    path("reauth/", views.reauth, name="reauth"),
]
