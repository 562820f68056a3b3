"""The sealer's cursor only moves forward (decision 0004).

A cursor that could be deleted or lowered let events with old numbers be sealed at the end of the
chain as if they had always been there. SQLite: triggers refuse DELETE, a second row, and an UPDATE
that lowers `below` or `latest` or changes the row's id. PostgreSQL: the same in one trigger function,
and TRUNCATE refused; `mash audit grant` leaves the application's role no DELETE or TRUNCATE on it.
"""

from django.db import migrations, models

MESSAGE = "the audit log is append-only"
TABLE = "audit_sealcursor"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: DELETE on {TABLE} refused'); END;")
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_forward_only BEFORE UPDATE ON {TABLE} "
            f"WHEN NEW.id <> OLD.id OR NEW.below < OLD.below "
            f"OR (OLD.latest IS NOT NULL AND (NEW.latest IS NULL OR NEW.latest < OLD.latest)) "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: the sealer''s cursor only moves forward'); END;")
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_one_row BEFORE INSERT ON {TABLE} "
            f"WHEN (SELECT count(*) FROM {TABLE}) > 0 "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: the sealer''s cursor is one row'); END;")
    elif vendor == "postgresql":
        schema_editor.execute(f"""
            CREATE OR REPLACE FUNCTION mash_audit_cursor_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.below >= OLD.below
                   AND (OLD.latest IS NULL OR NEW.latest >= OLD.latest) THEN
                    RETURN NEW;
                END IF;
                IF TG_OP = 'INSERT' AND NOT EXISTS (SELECT 1 FROM {TABLE}) THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION '{MESSAGE}: % on % refused (the sealer''s cursor is one row and only moves forward)',
                    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END $$""", params=None)
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_forward_only BEFORE INSERT OR UPDATE OR DELETE ON {TABLE} "
            f"FOR EACH ROW EXECUTE FUNCTION mash_audit_cursor_forward_only()")
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION mash_audit_append_only()")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for name in ("no_delete", "forward_only", "one_row"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{name}")
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_forward_only ON {TABLE}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
        schema_editor.execute("DROP FUNCTION IF EXISTS mash_audit_cursor_forward_only()")


def one_cursor(apps, schema_editor):
    """Keep the row with the furthest cursor (there should be one at most)."""
    SealCursor = apps.get_model("audit", "SealCursor")
    rows = list(SealCursor.objects.order_by("-below", "id"))
    for extra in rows[1:]:
        extra.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="sealcursor",
            name="latest",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(one_cursor, migrations.RunPython.noop),
        migrations.RunPython(forwards, backwards),
    ]
