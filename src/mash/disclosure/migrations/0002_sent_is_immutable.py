"""The database refuses to change what a sent package says or who it went to.

Once a package leaves draft, every column but the withdrawal's is fixed; a withdrawn package does not
change at all. (The services never try: this is for anyone who reaches the tables another way.)
"""

from django.db import migrations

TABLE = "disclosure_disclosurepackage"
FIXED = ["enquiry_id", "decision_id", "recipient_type", "recipient_id", "recipient_team", "cover_note",
         "lawful_basis", "selection", "content", "isa_version_id", "isa_clause", "lawful_basis_clause",
         "consent_state", "consent_record_id", "consent_override_id", "sent_by_id", "sent_at", "expires_at",
         "created_by_id", "created_at"]
MESSAGE = "a sent disclosure package cannot be changed"


def _changed(is_distinct: str) -> str:
    return " OR ".join(f"NEW.{c} {is_distinct} OLD.{c}" for c in FIXED)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_sent_is_fixed BEFORE UPDATE ON {TABLE} "
            f"WHEN OLD.status = 'withdrawn' OR (OLD.status = 'sent' AND (NEW.status NOT IN ('sent', 'withdrawn') "
            f"OR {_changed('IS NOT')})) "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;")
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_sent_is_kept BEFORE DELETE ON {TABLE} WHEN OLD.status <> 'draft' "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;")
    elif vendor == "postgresql":
        schema_editor.execute(f"""
            CREATE OR REPLACE FUNCTION mash_package_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
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
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_sent_is_fixed")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_sent_is_kept")
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_sent_is_fixed ON {TABLE}")
        schema_editor.execute("DROP FUNCTION IF EXISTS mash_package_fixed()")


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
