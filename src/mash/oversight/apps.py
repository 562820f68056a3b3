from django.apps import AppConfig


class OversightConfig(AppConfig):
    """Oversight of the domains, above them: the audit log's pages and the sharing report."""

    name = "mash.oversight"
    label = "oversight"
    verbose_name = "Oversight: the audit log's pages and reports"
