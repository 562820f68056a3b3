"""Encrypt what was written before these columns were encrypted (docs/encryption.md).

Uses the live models: sealing needs each column's person and the keys service. Sent disclosure
packages are fixed by triggers (disclosure 0002), so those are lifted for this step and put back.
"""

import importlib

from django.db import migrations

PACKAGE_TRIGGERS = importlib.import_module("mash.disclosure.migrations.0002_sent_is_immutable")


def encrypt_existing(apps, schema_editor):
    from django.apps import apps as live

    from mash.keys.fields import encrypted_fields
    from mash.keys.services import is_ciphertext, key_cache

    PACKAGE_TRIGGERS.backwards(apps, schema_editor)
    with key_cache():
        for model in live.get_models():
            fields = encrypted_fields(model)
            if not fields:
                continue
            names = [f.attname for f in fields]
            for obj in model._base_manager.order_by("pk").iterator(chunk_size=500):
                raw = {n: obj.__dict__[n] for n in names}
                todo = [n for n, v in raw.items() if v not in (None, "") and not is_ciphertext(v)]
                if todo:
                    obj.save(update_fields=todo)
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
