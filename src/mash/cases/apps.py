from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "mash.cases"
    label = "cases"
    verbose_name = "Contacts, enquiries and decisions"
