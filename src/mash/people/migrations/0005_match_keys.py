"""Blocking keys (MatchKey) for the people recorded before the person index: each live person's keys from
what is known of them (people.matching.blocking_keys), as `index_person` builds them from now on."""

from django.db import migrations

BATCH = 500


def build_keys(apps, schema_editor):
    from mash.people.matching import Details, blocking_keys

    Person = apps.get_model("people", "Person")
    MatchKey = apps.get_model("people", "MatchKey")
    live = (Person.objects.filter(merged_into__isnull=True, anonymised_at__isnull=True).order_by("pk")
            .prefetch_related("names", "addresses"))
    last = 0
    while True:
        batch = list(live.filter(pk__gt=last)[:BATCH])
        if not batch:
            return
        rows = [MatchKey(person_id=person.pk, key=key) for person in batch
                for key in sorted(blocking_keys(Details.of(person)))]
        MatchKey.objects.bulk_create(rows, ignore_conflicts=True)
        last = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ("people", "0004_person_index"),
    ]

    operations = [
        migrations.RunPython(build_keys, migrations.RunPython.noop),
    ]
