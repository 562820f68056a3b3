"""The amendment history is people.PersonRevision (people 0003 moved the rows, encrypted)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
        ('people', '0003_person_revisions'),
    ]

    operations = [
        migrations.DeleteModel(
            name='Revision',
        ),
    ]
