"""Encrypt what was written before these columns were encrypted (docs/encryption.md).

Uses the live models: sealing needs each column's person and the keys service. Sent disclosure
packages are fixed by triggers (disclosure 0002), so those are lifted for this step and put back.
A table that does not exist yet (made by a later migration, e.g. people 0003) is left to that migration.
"""

import importlib
import json

from django.db import migrations, models

PACKAGE_TRIGGERS = importlib.import_module("mash.disclosure.migrations.0002_sent_is_immutable")


def encrypt_existing(apps, schema_editor):
    from django.apps import apps as live

    from mash.keys.fields import encrypted_fields
    from mash.keys.services import is_ciphertext, key_cache

    PACKAGE_TRIGGERS.backwards(apps, schema_editor)
    connection = schema_editor.connection
    tables = set(connection.introspection.table_names())
    with key_cache():
        for model in live.get_models():
            fields = encrypted_fields(model)
            if not fields or model._meta.db_table not in tables:
                continue  # a table made by a later migration, which encrypts its own rows
            # The raw values, as the database holds them (the fields refuse to read plaintext).
            columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT id, {columns} FROM {connection.ops.quote_name(model._meta.db_table)}")
                rows = cursor.fetchall()
            for pk, *values in rows:
                plain = {}
                for f, value in zip(fields, values):
                    if value in (None, "") or is_ciphertext(value):
                        continue
                    if isinstance(f, models.JSONField):
                        value = json.loads(value) if isinstance(value, str) else value
                        if is_ciphertext(value):
                            continue
                    plain[f.attname] = value
                if plain:
                    obj = model._base_manager.get(pk=pk)
                    obj.__dict__.update(plain)
                    obj.save(update_fields=list(plain))
    PACKAGE_TRIGGERS.forwards(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("keys", "0001_initial"),
        ("cases", "0003_reporter_details_as_text"),
        ("consent", "0002_given_by_as_text"),
        ("disclosure", "0002_sent_is_immutable"),
        ("sar", "0001_initial"),
        ("sharing", "0005_request_consent_basis"),
    ]

    operations = [migrations.RunPython(encrypt_existing, migrations.RunPython.noop)]
