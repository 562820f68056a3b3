"""The database itself refuses to change or remove audit rows.

SQLite: triggers abort UPDATE and DELETE. PostgreSQL: row triggers refuse UPDATE and DELETE and a
statement trigger TRUNCATE; `mash audit grant ROLE` then gives the application's role only SELECT
and INSERT on these tables (docs/audit.md). The denials recorded by the access gate before the
audit log existed are copied in as events (the old table is dropped by access 0002).
"""

from django.db import migrations

TABLES = ["audit_auditevent", "audit_eventperson", "audit_seal", "audit_checkpoint"]
MESSAGE = "the audit log is append-only"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            for op in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {op} on {table} refused'); END;")
        elif vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION mash_audit_append_only()")
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION mash_audit_append_only()")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op}")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")


def function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"""
            CREATE OR REPLACE FUNCTION mash_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}: % on % refused', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'insufficient_privilege';
            END $$""", params=None)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS mash_audit_append_only()")


def copy_denials(apps, schema_editor):
    AccessDenial = apps.get_model("access", "AccessDenial")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    for d in AccessDenial.objects.order_by("at", "id").select_related("user").iterator():
        AuditEvent.objects.create(
            at=d.at, kind="denial", action=d.action, result="refused", actor_id=d.user_id,
            actor=d.user.username if d.user_id else "", role=d.role, organisation=d.partner,
            object_type=d.object_type, object_ref=d.object_ref, people=[], fields=[],
            detail=f"{d.reason} ({'exists' if d.exists else 'no such object'})"[:500])


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("access", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_denials, migrations.RunPython.noop),
        migrations.RunPython(function, drop_function),
        migrations.RunPython(forwards, backwards),
    ]
