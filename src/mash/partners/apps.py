from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "mash.partners"
    label = "partners"
    verbose_name = "Partner agencies and the Information Sharing Agreement"
