from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "mash.retention"
    label = "retention"
    verbose_name = "Retention"
