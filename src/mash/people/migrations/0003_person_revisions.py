"""A person's amendment history moves from the generic core.Revision (plain text, outliving retention) to
people.PersonRevision: the earlier details and the reason encrypted under the person's data key, the rows
deleted with the person (docs/encryption.md, docs/retention.md). core 0002 then drops core_revision.

Existing rows are read by SQL and copied with the same number, who and when; each value is sealed with
the associated data the fields use (the new row's id), as sar 0002 does. Migrating back leaves
core_revision empty: the history is not decrypted back into plain text.
"""

import json

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_revisions(apps, schema_editor):
    from mash.keys.services import encrypt, key_cache

    connection = schema_editor.connection
    if "core_revision" not in connection.introspection.table_names():
        return
    PersonRevision = apps.get_model("people", "PersonRevision")
    table = PersonRevision._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT r.id, ct.app_label, ct.model, r.object_id, r.number, r.previous, r.changed_fields, "
                       "r.reason, r.changed_by_id, r.changed_at FROM core_revision r "
                       "JOIN django_content_type ct ON ct.id = r.content_type_id ORDER BY r.id")
        rows = cursor.fetchall()
    others = [f"{app}.{model} revision {pk}" for pk, app, model, *_ in rows if (app, model) != ("people", "person")]
    if others:
        raise RuntimeError(f"core_revision holds amendments of records other than people: {others[:5]}; only a "
                           "person's history moves to people.PersonRevision, so nothing is migrated")
    with key_cache():
        for _, _, _, person_id, number, previous, changed_fields, reason, by_id, at in rows:
            previous = json.loads(previous) if isinstance(previous, str) else previous
            changed_fields = json.loads(changed_fields) if isinstance(changed_fields, str) else changed_fields
            # Inserted empty, then sealed under its own id (the associated data names the row).
            revision = PersonRevision.objects.create(person_id=person_id, number=number, previous="",
                                                     changed_fields=changed_fields, reason="", changed_by_id=by_id)
            where = {"table": table, "row": revision.pk, "person_id": person_id}
            PersonRevision.objects.filter(pk=revision.pk).update(
                previous=encrypt(json.dumps(previous), column="previous", **where),
                reason=encrypt(reason, column="reason", **where) if reason else "", changed_at=at)


class Migration(migrations.Migration):

    dependencies = [
        ('people', '0002_person_anonymised_at'),
        ('core', '0001_initial'),
        ('keys', '0002_encrypt_existing'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PersonRevision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField(help_text="1 for the person's first amendment")),
                ('previous', models.JSONField(help_text="the amended fields' values before the amendment")),
                ('changed_fields', models.JSONField(default=list, help_text='the names of the fields amended')),
                ('reason', models.TextField()),
                ('changed_at', models.DateTimeField(auto_now_add=True)),
                ('changed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='revisions', to='people.person')),
            ],
            options={
                'ordering': ['person', 'number'],
                'constraints': [models.UniqueConstraint(fields=('person', 'number'), name='person_revision_number_unique')],
            },
        ),
        migrations.RunPython(move_revisions, migrations.RunPython.noop),
    ]
