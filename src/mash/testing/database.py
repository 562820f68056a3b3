"""The database as it holds things, past the ORM: every value, one column raw, a damaged ciphertext, and
the audit log tampered with as its owner could. All inside the test's transaction, rolled back."""

from contextlib import contextmanager

from django.db import connection

AUDIT_TABLES = ["audit_auditevent", "audit_eventperson", "audit_seal", "audit_checkpoint"]


def all_text_in_the_database() -> str:
    """Every value of every column of every table, as the database holds it."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                chunks.extend(bytes(v).decode("latin-1") if isinstance(v, (bytes, memoryview)) else str(v)
                              for v in row)
    return "\n".join(chunks)


def raw(model, pk: int, column: str):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def write_raw(model, pk: int, column: str, value) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {model._meta.db_table} SET {column} = %s WHERE id = %s", [value, pk])


def damage(model, pk: int, column: str) -> None:
    """Alter one character of a stored ciphertext, as a fault or a tamperer in the database would."""
    token = raw(model, pk, column)
    flipped = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    write_raw(model, pk, column, flipped)


def damage_sent_package(package) -> None:
    """A sent package is fixed by database triggers; a disposal permit (retention's way past them) lets the
    test alter its stored content, on either engine, inside the test's transaction."""
    from mash.disclosure.models import DisclosurePackage, DisposalPermit

    permit = DisposalPermit.objects.create(package_id=package.pk)
    damage(DisclosurePackage, package.pk, "content")
    permit.delete()


@contextmanager
def tampering():
    """A cursor with the audit log's guards off, as an attacker with the database owner's rights would
    have it (SQLite: the triggers dropped; PostgreSQL: every trigger off for the transaction)."""
    with connection.cursor() as cur:
        for table in AUDIT_TABLES:
            if connection.vendor == "sqlite":
                cur.execute(f"DROP TRIGGER {table}_no_update")
                cur.execute(f"DROP TRIGGER {table}_no_delete")
        if connection.vendor == "postgresql":
            # As a superuser would: every trigger off for this transaction (rolled back after the test).
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("SET LOCAL session_replication_role = replica")
        yield cur
