from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "mash.reports"
    label = "reports"
    verbose_name = "Reports"
