from django.apps import AppConfig


class OnlineProfileConfig(AppConfig):
    name = "online_profile"
    label = "online_profile"
    verbose_name = "My Vehicles and My Online Profile"
