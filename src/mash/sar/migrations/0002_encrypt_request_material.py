"""Subject access requests' own text is encrypted (docs/encryption.md): the requester's name and contact,
what was asked for, the identity checks, the extension's reason, why it closed and pauses' notes, under
the data key of the request's first subject; the reviewer's reason on an item under its subject's key.

The columns keep their type (requester_name becomes text, as every encrypted column is). Rows written
before are encrypted here, reading the raw values by SQL (the fields refuse to read plaintext) and
sealing with the same associated data the fields use; a value already encrypted is left as it is.
"""

from django.db import migrations, models

# table -> (columns, SQL giving each row's id, the person whose key seals it, then the columns' values)
TEXT = {
    "sar_subjectaccessrequest": (
        ("requester_name", "requester_contact", "description", "identity_method", "extension_reason",
         "closed_reason"),
        "SELECT r.id, (SELECT s.person_id FROM sar_sarsubject s WHERE s.sar_id = r.id ORDER BY s.id LIMIT 1), {} "
        "FROM sar_subjectaccessrequest r"),
    "sar_sarpause": (
        ("note",),
        "SELECT p.id, (SELECT s.person_id FROM sar_sarsubject s WHERE s.sar_id = p.sar_id ORDER BY s.id LIMIT 1), "
        "{} FROM sar_sarpause p"),
    "sar_saritem": (("reason",), "SELECT i.id, i.person_id, {} FROM sar_saritem i"),
}


def encrypt_existing(apps, schema_editor):
    from mash.keys.services import encrypt, is_ciphertext, key_cache

    connection = schema_editor.connection
    quote = connection.ops.quote_name
    with key_cache(), connection.cursor() as cursor:
        for table, (columns, select) in TEXT.items():
            cursor.execute(select.format(", ".join(quote(c) for c in columns)))
            for row_id, person_id, *values in cursor.fetchall():
                sealed = {column: value for column, value in zip(columns, values)
                          if value not in (None, "") and not is_ciphertext(value)}
                if not sealed:
                    continue
                if person_id is None:
                    raise RuntimeError(f"{table} row {row_id} has text but its request names no one: it cannot "
                                       "be encrypted under a subject's key")
                for column, value in sealed.items():
                    sealed[column] = encrypt(value, table=table, column=column, row=row_id, person_id=person_id)
                assignments = ", ".join(f"{quote(c)} = %s" for c in sealed)
                cursor.execute(f"UPDATE {quote(table)} SET {assignments} WHERE id = %s", [*sealed.values(), row_id])


class Migration(migrations.Migration):

    dependencies = [
        ("sar", "0001_initial"),
        ("keys", "0002_encrypt_existing"),
    ]

    operations = [
        migrations.AlterField(
            model_name="saritem",
            name="reason",
            field=models.TextField(blank=True, help_text="why it is held back, in the reviewer's words"),
        ),
        migrations.AlterField(
            model_name="subjectaccessrequest",
            name="requester_name",
            field=models.TextField(),
        ),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop),
    ]
