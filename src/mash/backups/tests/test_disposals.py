"""A restore never brings back a disposed person (docs/backups.md, docs/retention.md, decision 0005).

A backup made before a retention run still holds the disposed child's name, date of birth, NHS
number, address, reference and categories. Restoring it re-applies the disposal register with
retention's own code, inside the restore, so the child is deleted or anonymised again exactly as
the run did, before the restore reports success.
"""

import io

import pytest
from django.core.management import CommandError, call_command

from mash.backups import engines, fileformat, services
from mash.retention import register
from mash.testing.scratch import (ANONYMISED, ANONYMISED_BORN, ANONYMISED_NHS, CONCERN, DELETED, DELETED_BORN,
                                  DELETED_NHS, DELETED_STREET, KEPT, mash)

# The tests work on databases of their own (`live`, `databases`): the test database's transaction is
# only rolled back.
on_own_databases = pytest.mark.django_db


def backup(path) -> str:
    out = io.StringIO()
    call_command("backup", str(path), stdout=out)
    return out.getvalue()


def restore(path, target, *extra) -> str:
    out = io.StringIO()
    call_command("restore", str(path), "--database-url", target.url, *extra, stdout=out)
    return out.getvalue()


@on_own_databases
def test_restoring_a_backup_from_before_a_retention_run_disposes_of_the_same_again(live, databases, tmp_path):
    from mash.retention import services as retention

    db, world = live
    before = tmp_path / "before-retention.backup"
    backup(before)
    assert DELETED in db.text() and DELETED_NHS in db.text()
    assert db.query("SELECT count(*) FROM people_personrevision") == [(2,)]  # the decided children's amendments

    run = retention.run(today=world.due)
    assert sorted(d.action for d in run.disposed) == ["anonymise", "delete"]
    entries = register.entries()
    assert [(e.enquiry_id, e.action) for e in entries] == sorted(
        [(world.deleted.pk, "delete"), (world.anonymised.pk, "anonymise")], key=lambda e: e[0])
    after_run = db.text()
    for gone in (DELETED, DELETED_NHS, DELETED_STREET, DELETED_BORN, ANONYMISED, ANONYMISED_NHS, ANONYMISED_BORN):
        assert gone not in after_run, gone
    # The register holds ids and actions only.
    text = open(register.path()).read()
    for gone in (DELETED, ANONYMISED, DELETED_NHS, world.deleted.reference, "Exampleton"):
        assert gone not in text

    target = databases.new("restored")
    printed = restore(before, target)
    assert "Disposal register re-applied: 2 enquiries" in printed, printed
    restored = target.text()
    for gone in (DELETED, DELETED_NHS, DELETED_STREET, DELETED_BORN, ANONYMISED, ANONYMISED_NHS, ANONYMISED_BORN):
        assert gone not in restored, gone
    assert KEPT in restored  # the enquiry nobody disposed of is back

    # Disposed exactly as the run did: the deleted enquiry is gone, the anonymised one kept its counts.
    assert target.query("SELECT count(*) FROM cases_enquiry WHERE id = %s", [world.deleted.pk]) == [(0,)]
    assert target.query("SELECT rag FROM cases_enquiry WHERE id = %s", [world.anonymised.pk]) == [("amber",)]
    assert sorted(target.query("SELECT enquiry_id, action FROM retention_disposal")) == sorted(
        [(world.deleted.pk, "delete"), (world.anonymised.pk, "anonymise")])
    assert target.query("SELECT last_name FROM people_person WHERE id = %s", [world.anonymised.child_id]) == [
        ("Anonymised",)]
    assert target.query("SELECT count(*) FROM people_person WHERE id = %s", [world.deleted.child_id]) == [(0,)]
    disposed = [world.deleted.child_id, world.anonymised.child_id]
    assert target.query("SELECT count(*) FROM people_personrevision WHERE person_id IN (%s, %s)", disposed) == [(0,)]
    actions = {a for (a,) in target.query("SELECT action FROM audit_auditevent")}
    assert {"retention delete re-applied", "retention anonymise re-applied"} <= actions
    # The keys went with the shred register.
    shredded = target.query("SELECT person_id FROM keys_personkey WHERE shredded_at IS NOT NULL")
    assert {world.deleted.child_id, world.anonymised.child_id} <= {p for (p,) in shredded}

    # Restoring a backup made after the run changes nothing more.
    after = tmp_path / "after-retention.backup"
    backup(after)
    again = databases.new("again")
    assert "Disposal register re-applied: 0 enquiries and 0 people" in restore(after, again)
    assert CONCERN not in again.text()


@on_own_databases
def test_a_disposal_register_that_is_not_one_stops_the_restore(live, databases, tmp_path, own_disposal_register):
    db, world = live
    path = tmp_path / "b.backup"
    backup(path)
    register.append(world.deleted.pk, "delete", {world.deleted.child_id: "delete"})
    with open(own_disposal_register, "a") as fh:
        fh.write("Gone with the wind\n")
    target = databases.new("refused")
    with pytest.raises(CommandError, match="disposal register .* has a line that is not a disposal"):
        restore(path, target)
    assert target.tables() == 0


def test_a_torn_last_line_is_cut_before_the_next_entry(own_disposal_register):
    register.append(1, "delete", {2: "delete"})
    with open(own_disposal_register, "a") as fh:
        fh.write('{"v":1,"enquiry":3,"act')  # killed while writing: its transaction never committed
    assert [e.enquiry_id for e in register.entries()] == [1]
    register.append(4, "anonymise", {5: "anonymise", 6: "delete"})
    assert [(e.enquiry_id, e.people) for e in register.entries()] == [(1, {2: "delete"}),
                                                                      (4, {5: "anonymise", 6: "delete"})]


@on_own_databases
def test_a_backup_older_than_the_code_is_migrated_inside_the_restore_before_the_registers(live, databases,
                                                                                          tmp_path):
    """Applied by the current code, the registers need the current schema: a restore migrates first
    (in the same transaction, or in memory), so an old backup is disposed of again too."""
    from mash.retention import services as retention

    db, world = live
    current = tmp_path / "current.backup"
    backup(current)

    # A backup made before people 0002 (a person's anonymised_at, which anonymising writes). Migrating
    # needs every app, which these tests keep out of their own process: `mash` subprocesses do it.
    older = databases.new("older")
    services.restore(current, database_url=older.url)
    mash(["migrate", "people", "0001", "--verbosity", "0"], older, tmp_path)
    old = tmp_path / "old.backup"
    mash(["backup", str(old)], older, tmp_path)
    assert fileformat.read_header(old)[0]["migrations"]["people"] == "0001_initial"

    assert len(retention.run(today=world.due).disposed) == 2

    target = databases.new("target")
    printed = mash(["restore", str(old)], target, tmp_path).stdout
    assert "migrations applied to it, before the registers" in printed
    assert "Disposal register re-applied: 2 enquiries" in printed
    restored = target.text()
    for gone in (DELETED, DELETED_NHS, ANONYMISED, ANONYMISED_NHS, ANONYMISED_BORN):
        assert gone not in restored, gone
    [(anonymised_at,)] = target.query("SELECT anonymised_at FROM people_person WHERE id = %s",
                                      [world.anonymised.child_id])
    assert anonymised_at is not None


def test_a_torn_line_in_the_shred_register_neither_blocks_a_restore_nor_swallows_the_next_key(settings, tmp_path):
    """Killed while appending, `mash retention run` leaves part of a key id (its transaction never
    committed). The next id appended must stay a line of its own, or its key would come back with
    a restore; and the torn part must not stop restores."""
    import uuid

    from mash.keys import keyring

    settings.MASH_SHRED_REGISTER = str(tmp_path / "shredded-keys")
    first, torn, second = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    keyring.add_to_register([first])
    with open(settings.MASH_SHRED_REGISTER, "a") as fh:
        fh.write(torn[:13])
    keyring.add_to_register([second])
    assert keyring.shredded() == {first, second}
    assert services._register_ids() == sorted([uuid.UUID(first), uuid.UUID(second)])


@on_own_databases
def test_after_a_restore_no_new_enquiry_or_person_takes_an_id_the_register_names(live, databases, tmp_path):
    """An enquiry made after a backup and disposed of before it is restored is not in the restored
    database, but the restored id sequences are from before it: without care, the next enquiry would
    take its id, and the next restore would dispose of that enquiry by mistake."""
    from mash.accounts.models import User
    from mash.testing import scratch
    from mash.people.models import Person

    db, world = live
    path = tmp_path / "b.backup"
    backup(path)
    gone_enquiry, gone_person = world.kept.pk + 40, Person.objects.order_by("-pk").first().pk + 60
    register.append(gone_enquiry, "delete", {gone_person: "delete"})

    target = databases.new("restored")
    assert "Disposal register re-applied: 0 enquiries and 0 people" in restore(path, target)
    with engines.orm_on(target.cfg):
        person = Person.objects.create(first_name="New", last_name="Arrival", created_by=User.objects.first())
        assert person.pk > gone_person
    if scratch.ON_PG:
        [(last,)] = target.query("SELECT pg_sequence_last_value(pg_get_serial_sequence('cases_enquiry', 'id')::regclass)")
    else:
        [(last,)] = target.query("SELECT seq FROM sqlite_sequence WHERE name = 'cases_enquiry'")
    assert last >= gone_enquiry  # the next enquiry's id is past it
