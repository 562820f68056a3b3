"""The sent-package triggers give way for a package that retention holds a permit for (in the same
transaction): the ISA's retention periods apply to sent packages too."""

import importlib

from django.db import migrations, models

SENT = importlib.import_module("mash.disclosure.migrations.0002_sent_is_immutable")
TABLE, MESSAGE, _changed = SENT.TABLE, SENT.MESSAGE, SENT._changed
PERMITTED = "EXISTS (SELECT 1 FROM disclosure_disposalpermit p WHERE p.package_id = OLD.id)"


def forwards(apps, schema_editor):
    SENT.backwards(apps, schema_editor)
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_sent_is_fixed BEFORE UPDATE ON {TABLE} "
            f"WHEN (OLD.status = 'withdrawn' OR (OLD.status = 'sent' AND (NEW.status NOT IN ('sent', 'withdrawn') "
            f"OR {_changed('IS NOT')}))) AND NOT {PERMITTED} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;")
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_sent_is_kept BEFORE DELETE ON {TABLE} "
            f"WHEN OLD.status <> 'draft' AND NOT {PERMITTED} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;")
    elif vendor == "postgresql":
        schema_editor.execute(f"""
            CREATE OR REPLACE FUNCTION mash_package_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF {PERMITTED} THEN
                    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                    RETURN NEW;
                END IF;
                IF TG_OP = 'DELETE' THEN
                    IF OLD.status <> 'draft' THEN
                        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
                    END IF;
                    RETURN OLD;
                END IF;
                IF OLD.status = 'withdrawn' OR (OLD.status = 'sent' AND (NEW.status NOT IN ('sent', 'withdrawn')
                        OR {_changed('IS DISTINCT FROM')})) THEN
                    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
                END IF;
                RETURN NEW;
            END $$""", params=None)
        schema_editor.execute(f"CREATE TRIGGER {TABLE}_sent_is_fixed BEFORE UPDATE OR DELETE ON {TABLE} "
                              f"FOR EACH ROW EXECUTE FUNCTION mash_package_fixed()")


def backwards(apps, schema_editor):
    SENT.backwards(apps, schema_editor)
    SENT.forwards(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0002_sent_is_immutable"), ("keys", "0002_encrypt_existing")]

    operations = [
        migrations.CreateModel(
            name="DisposalPermit",
            fields=[("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                    ("package_id", models.BigIntegerField(unique=True))],
        ),
        migrations.RunPython(forwards, backwards),
    ]
