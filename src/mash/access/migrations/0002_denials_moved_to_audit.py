# Denials are audit events now (mash.audit, kind "denial"); audit 0002 copied the rows across.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0001_initial"),
        ("audit", "0002_append_only"),
    ]

    operations = [
        migrations.DeleteModel(name="AccessDenial"),
    ]
