from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    name = "mash.attachments"
    label = "attachments"
    verbose_name = "Files attached to contribution items"
