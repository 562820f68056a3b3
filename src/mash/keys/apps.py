from django.apps import AppConfig
from django.db.models.signals import pre_migrate


class KeysConfig(AppConfig):
    name = "mash.keys"
    label = "keys"
    verbose_name = "Encryption keys"

    def ready(self):
        from . import checks  # registers the keyring's check

        # The first migrate of an empty database makes the keyring (never a request: docs/encryption.md).
        pre_migrate.connect(checks.first_migrate, sender=self, dispatch_uid="mash-keys-first-migrate")
