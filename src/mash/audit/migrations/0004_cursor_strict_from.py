"""Where the chain's strict number order begins (decision 0004), for logs sealed before it.

Before 0004 the sealer let an event that committed late (within the grace period) in after events
numbered above it, so an existing chain may hold such pairs, legitimately. `strict_from` is the
first position sealed under the strict rule: verify checks the number order from there, the time
order everywhere. The cursor is moved past every sealed event, so none is sealed twice. The
forward-only trigger now also refuses any change to `strict_from`.
"""

from django.db import migrations, models

MESSAGE = "the audit log is append-only"
TABLE = "audit_sealcursor"


def start_strict_order(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT coalesce(max(s.position), 0), coalesce(max(s.event_id), 0), max(e.at) "
                    "FROM audit_seal s JOIN audit_auditevent e ON e.id = s.event_id")
        position, event_id, latest = cur.fetchone()
    if not position:
        return
    SealCursor = apps.get_model("audit", "SealCursor")
    cursor = SealCursor.objects.order_by("id").first()
    if cursor is None:
        SealCursor.objects.create(below=event_id, latest=latest, strict_from=position + 1)
        return
    cursor.below = max(cursor.below, event_id)
    cursor.latest = latest if cursor.latest is None or (latest and latest > cursor.latest) else cursor.latest
    cursor.strict_from = position + 1
    cursor.save()


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        # Adding a NOT NULL column made SQLite rebuild the table, which drops its triggers: all three again.
        for name in ("no_delete", "forward_only", "one_row"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{name}")
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: DELETE on {TABLE} refused'); END;")
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_one_row BEFORE INSERT ON {TABLE} "
            f"WHEN (SELECT count(*) FROM {TABLE}) > 0 "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: the sealer''s cursor is one row'); END;")
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_forward_only BEFORE UPDATE ON {TABLE} "
            f"WHEN NEW.id <> OLD.id OR NEW.below < OLD.below OR NEW.strict_from <> OLD.strict_from "
            f"OR (OLD.latest IS NOT NULL AND (NEW.latest IS NULL OR NEW.latest < OLD.latest)) "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: the sealer''s cursor only moves forward'); END;")
    elif vendor == "postgresql":
        schema_editor.execute(f"""
            CREATE OR REPLACE FUNCTION mash_audit_cursor_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.below >= OLD.below
                   AND NEW.strict_from = OLD.strict_from
                   AND (OLD.latest IS NULL OR NEW.latest >= OLD.latest) THEN
                    RETURN NEW;
                END IF;
                IF TG_OP = 'INSERT' AND NOT EXISTS (SELECT 1 FROM {TABLE}) THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION '{MESSAGE}: % on % refused (the sealer''s cursor is one row and only moves forward)',
                    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END $$""", params=None)


def backwards(apps, schema_editor):
    """Back to 0003's triggers (which do not know `strict_from`), before the column goes."""
    import importlib

    earlier = importlib.import_module("mash.audit.migrations.0003_cursor_forward_only")
    earlier.backwards(apps, schema_editor)
    earlier.forwards(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_cursor_forward_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="sealcursor",
            name="strict_from",
            field=models.BigIntegerField(
                default=1, help_text="the first position sealed in strict number order (earlier sealers let a "
                                     "late commit in after a higher number); set once by migration 0004, never changed"),
        ),
        migrations.RunPython(start_strict_order, migrations.RunPython.noop),
        migrations.RunPython(forwards, backwards),
    ]
