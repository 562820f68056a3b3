from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "mash.backups"
    label = "backups"
    verbose_name = "Backups"
