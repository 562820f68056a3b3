"""API tokens name the agency that holds them (issue 9), and can expire.

Existing tokens take their user's agency, or the host council's for council staff; a token whose
agency cannot be told is left without one, and is refused until it is replaced.
"""

from django.db import migrations, models
import django.db.models.deletion


def fill_agency(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    Partner = apps.get_model("partners", "Partner")
    councils = list(Partner.objects.filter(partner_type="local_authority")[:2])
    council = councils[0] if len(councils) == 1 else None
    for token in ApiToken.objects.select_related("user"):
        token.partner_id = token.user.partner_id or (council.pk if council else None)
        token.save(update_fields=["partner"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_initial"),
        ("partners", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="partner",
            field=models.ForeignKey(
                help_text="the agency whose system holds the token: the user's own, or the host council for council staff",
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="api_tokens",
                to="partners.partner"),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_by",
            field=models.CharField(blank=True, help_text="username of who revoked it", max_length=150),
        ),
        migrations.RunPython(fill_agency, migrations.RunPython.noop),
    ]
