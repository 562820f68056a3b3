from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "mash.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self):
        from . import signals  # noqa: F401  (sign-ins, sign-outs, failed sign-ins, admin changes)
