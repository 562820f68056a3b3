from django.apps import AppConfig


class SarConfig(AppConfig):
    name = "mash.sar"
    label = "sar"
    verbose_name = "Subject access requests"
