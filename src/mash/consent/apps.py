from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "mash.consent"
    label = "consent"
    verbose_name = "Consent and sharing without consent"
