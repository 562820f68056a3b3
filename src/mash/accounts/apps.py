from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mash.accounts"
    label = "accounts"
    verbose_name = "Users and roles"
