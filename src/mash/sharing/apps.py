from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "mash.sharing"
    label = "sharing"
    verbose_name = "Information requests and contributions"
