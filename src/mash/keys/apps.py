from django.apps import AppConfig


class KeysConfig(AppConfig):
    name = "mash.keys"
    label = "keys"
    verbose_name = "Encryption keys"
