from django.apps import AppConfig


class DisclosureConfig(AppConfig):
    name = "mash.disclosure"
    label = "disclosure"
    verbose_name = "Onward disclosure packages"
