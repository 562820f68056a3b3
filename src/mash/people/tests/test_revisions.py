"""A person's amendment history: the earlier details and the reason are encrypted under the person's
data key (docs/encryption.md); retention removes them with the person (retention/tests)."""

import pytest

from mash.people import services as people
from mash.testing.database import all_text_in_the_database

OLD_NAME = "Quillonbeck"
REASON = "Court order RVZ-4471 changed the surname"


@pytest.mark.django_db
def test_earlier_details_and_the_reason_are_not_stored_in_clear(manager):
    person = people.build_person({"first_name": "Ash", "last_name": OLD_NAME}, by=manager)
    person.save()
    revision = people.amend_person(person, {"last_name": "Marsh"}, reason=REASON, by=manager)
    assert revision.number == 1 and revision.changed_fields == ["last_name"]
    everything = all_text_in_the_database()
    assert OLD_NAME not in everything and REASON not in everything
    # ... and they still read back through the application, in order.
    people.amend_person(person, {"last_name": "Moss"}, reason="Spelling", by=manager)
    first, second = person.revisions.all()
    assert first.previous == {"last_name": OLD_NAME} and first.reason == REASON and first.changed_by == manager
    assert (second.number, second.previous, second.reason) == (2, {"last_name": "Marsh"}, "Spelling")


@pytest.mark.django_db
def test_the_migration_moves_core_revisions_encrypted(manager):
    """people 0003 moves a person's revisions from core_revision (plain) into PersonRevision, encrypted."""
    import datetime as dt
    import importlib
    import json
    from types import SimpleNamespace

    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    from mash.people.models import Person

    person = people.build_person({"first_name": "Ash", "last_name": "Marsh"}, by=manager)
    person.save()
    ct = ContentType.objects.get_for_model(Person)
    at = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc)
    with connection.cursor() as cursor:  # core_revision as core 0001 made it (dropped by core 0002)
        cursor.execute("CREATE TABLE core_revision (id integer PRIMARY KEY, content_type_id integer, object_id bigint, "
                       "number integer, previous text, changed_fields text, reason text, changed_by_id bigint, "
                       "changed_at timestamp with time zone)")
        cursor.execute("INSERT INTO core_revision VALUES (7, %s, %s, 1, %s, %s, %s, %s, %s)",
                       [ct.pk, person.pk, json.dumps({"last_name": OLD_NAME}), json.dumps(["last_name"]), REASON,
                        manager.pk, at])
    state = MigrationLoader(connection).project_state(("people", "0003_person_revisions"))
    migration = importlib.import_module("mash.people.migrations.0003_person_revisions")
    migration.move_revisions(state.apps, SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE core_revision")
    everything = all_text_in_the_database()
    assert OLD_NAME not in everything and REASON not in everything
    [moved] = person.revisions.all()
    assert (moved.number, moved.previous, moved.changed_fields, moved.reason, moved.changed_by, moved.changed_at) == (
        1, {"last_name": OLD_NAME}, ["last_name"], REASON, manager, at)
