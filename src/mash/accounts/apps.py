from django.apps import AppConfig


def administrator_emails() -> list[str]:
    """Every active system administrator's email address: they are alerted about damaged data."""
    from .models import Role, User

    return list(User.objects.filter(role=Role.SYSADMIN, is_active=True).exclude(email="")
                .values_list("email", flat=True))


class AccountsConfig(AppConfig):
    name = "mash.accounts"
    label = "accounts"
    verbose_name = "Users and roles"

    def ready(self):
        from mash.keys import integrity

        integrity.alert_also(administrator_emails)
