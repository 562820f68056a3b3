"""A legal hold's reasons (why it was placed, why it was lifted) are encrypted under the held person's data
key, or for a hold on an enquiry its child's (docs/encryption.md). The columns stay text; rows written
before are encrypted here, reading the raw values by SQL and sealing them with the associated data the
fields use, as sar 0002 does. A value already encrypted is left as it is."""

from django.db import migrations

COLUMNS = ("reason", "lift_reason")


def encrypt_existing(apps, schema_editor):
    from mash.keys.services import encrypt, is_ciphertext, key_cache

    connection = schema_editor.connection
    quote = connection.ops.quote_name
    with key_cache(), connection.cursor() as cursor:
        cursor.execute("SELECT h.id, COALESCE(h.person_id, (SELECT e.child_id FROM cases_enquiry e WHERE "
                       "e.id = h.enquiry_id)), h.reason, h.lift_reason FROM retention_legalhold h")
        for row_id, person_id, *values in cursor.fetchall():
            sealed = {column: value for column, value in zip(COLUMNS, values)
                      if value not in (None, "") and not is_ciphertext(value)}
            if not sealed:
                continue
            for column, value in sealed.items():
                sealed[column] = encrypt(value, table="retention_legalhold", column=column, row=row_id,
                                         person_id=person_id)
            assignments = ", ".join(f"{quote(c)} = %s" for c in sealed)
            cursor.execute(f"UPDATE retention_legalhold SET {assignments} WHERE id = %s", [*sealed.values(), row_id])


class Migration(migrations.Migration):

    dependencies = [
        ("retention", "0001_initial"),
        ("keys", "0002_encrypt_existing"),
    ]

    operations = [migrations.RunPython(encrypt_existing, migrations.RunPython.noop)]
