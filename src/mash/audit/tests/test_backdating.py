"""Audit events cannot be backdated (issue: a review sealed a backdated "DPO read this child" event).

The attacker here has only the application's rights: INSERT and SELECT on the audit tables, and
whatever the application role may do to the sealer's cursor. Seals are appended with correct leaves
and chain values, as the application's own sealer would compute them."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from mash.audit import chain, sealing, services, verification
from mash.audit.models import AuditEvent, EventPerson, Kind, Seal, SealCursor
from mash.testing.database import tampering


@pytest.fixture
def sealed(db, settings):
    """Events 1..5 sealed, with a gap (a rolled-back transaction's number) at the third."""
    settings.MASH_AUDIT_SEAL_GRACE_SECONDS = 300
    settings.MASH_AUDIT_CHECKPOINT_EVERY = 1000
    first = services.record(Kind.READ, "first", people=[1])
    second = services.record(Kind.READ, "second", people=[2])
    # A transaction took the next number and rolled back: the gap stays.
    fourth = AuditEvent.objects.create(id=second.pk + 2, kind=Kind.READ, action="fourth")
    _sequence_past_max()
    fifth = services.record(Kind.READ, "fifth", people=[3])
    assert sealing.seal() == 4
    return {"first": first, "second": second, "gap": second.pk + 1, "fourth": fourth, "fifth": fifth}


def _sequence_past_max():
    """PostgreSQL's sequence does not move for a number given explicitly: move it past the highest."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), "
                        "(SELECT max(id) FROM audit_auditevent))")


def _append_seal(event: AuditEvent) -> Seal:
    """What someone with INSERT rights can do: seal `event` correctly at the end of the chain."""
    last = Seal.objects.order_by("-position").first()
    leaf = chain.leaf_hash(chain.canonical(event.canonical_values()))
    head = chain.chain_hash(bytes.fromhex(last.chain), last.position + 1, leaf)
    return Seal.objects.create(position=last.position + 1, event=event, leaf=leaf.hex(), chain=head.hex())


def _dpo_read(event_id=None, at=None) -> AuditEvent:
    values = dict(kind=Kind.READ, action="read person", actor="dpo-user", role="dpo", people=[7], detail="backdated")
    if event_id:
        values["id"] = event_id
    if at:
        values["at"] = at
    event = AuditEvent.objects.create(**values)
    EventPerson.objects.create(event=event, person_id=7)  # the index too, as the application writes it
    return event


def test_the_cursor_cannot_be_deleted_or_lowered(sealed):
    cursor = SealCursor.objects.get()
    assert cursor.below >= sealed["fifth"].pk
    for statement in ("DELETE FROM audit_sealcursor",
                      "UPDATE audit_sealcursor SET below = 0",
                      "UPDATE audit_sealcursor SET strict_from = 999999",
                      "INSERT INTO audit_sealcursor (below) VALUES (0)"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(statement)
    assert SealCursor.objects.get().below == cursor.below


def test_a_sweep_reports_an_event_behind_the_sealer_and_does_not_seal_it(sealed):
    backdated = _dpo_read(event_id=sealed["gap"], at=sealed["first"].at)
    late = sealing.sweep()
    assert [finding.event_id for finding in late] == [backdated.pk]
    assert not Seal.objects.filter(event_id=backdated.pk).exists()
    report = verification.verify()
    assert not report.ok and report.first_bad_event == backdated.pk
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit):
        call_command("audit", "seal", "--sweep", stdout=out, stderr=err)
    assert f"#{backdated.pk}" in err.getvalue()


def test_an_old_numbered_event_sealed_at_the_end_is_named(sealed):
    backdated = _dpo_read(event_id=sealed["gap"], at=sealed["first"].at)
    _append_seal(backdated)
    report = verification.verify()
    assert not report.ok and report.first_bad_event == backdated.pk
    assert "out of order" in report.problems[0]


def test_a_new_numbered_event_dated_in_the_past_is_not_sealed_and_is_named(sealed):
    backdated = _dpo_read(at=sealed["first"].at - dt.timedelta(days=200))
    after = services.record(Kind.READ, "after")
    assert sealing.seal() == 1  # `after` only
    assert not Seal.objects.filter(event_id=backdated.pk).exists()
    report = verification.verify()
    assert not report.ok and report.first_bad_event == backdated.pk
    assert after.pk > backdated.pk


def test_a_past_dated_event_sealed_by_hand_is_named(sealed):
    backdated = _dpo_read(at=sealed["first"].at - dt.timedelta(days=200))
    _append_seal(backdated)
    report = verification.verify()
    assert not report.ok and report.first_bad_event == backdated.pk
    assert "out of order" in report.problems[0]


def test_a_forged_event_with_a_correct_seal_is_named_not_the_genuine_event_after_it(db, settings):
    """The owner shifts positions and gives the forged event a correct seal: the event after it breaks."""
    settings.MASH_AUDIT_SEAL_GRACE_SECONDS = 300
    genuine = [services.record(Kind.READ, f"genuine {n}") for n in range(4)]
    sealing.seal()
    forged = _dpo_read()
    with tampering() as cur:
        for position in range(4, 2, -1):
            cur.execute("UPDATE audit_seal SET position = %s WHERE position = %s", [position + 1, position])
        previous = Seal.objects.get(position=2)
        leaf = chain.leaf_hash(chain.canonical(forged.canonical_values()))
        head = chain.chain_hash(bytes.fromhex(previous.chain), 3, leaf)
        cur.execute("INSERT INTO audit_seal (position, event_id, leaf, chain, sealed_at) VALUES (%s, %s, %s, %s, %s)",
                    [3, forged.pk, leaf.hex(), head.hex(), forged.at])
    report = verification.verify()
    assert not report.ok and report.first_bad_event == forged.pk and report.first_bad_position == 3
    assert genuine[2].pk != report.first_bad_event


def test_a_gap_is_sealed_past_and_an_untouched_log_still_verifies(sealed):
    assert verification.verify().ok
    assert list(Seal.objects.order_by("position").values_list("event_id", flat=True)) == [
        sealed["first"].pk, sealed["second"].pk, sealed["fourth"].pk, sealed["fifth"].pk]
    assert sealing.sweep() == []


@pytest.mark.postgres
def test_the_applications_role_cannot_delete_or_lower_the_cursor(sealed, as_application_role):
    with as_application_role("mash_app_cursor_probe") as cur:
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            cur.execute("DELETE FROM audit_sealcursor")
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            cur.execute("TRUNCATE audit_sealcursor")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cur.execute("UPDATE audit_sealcursor SET below = 0")


def test_a_chain_sealed_before_the_strict_order_still_verifies(db, settings):
    """Sealers before decision 0004 let a late commit in after a higher number: allowed before strict_from."""
    settings.MASH_AUDIT_SEAL_GRACE_SECONDS = 300
    events = [services.record(Kind.READ, f"old {n}") for n in range(3)]
    head = chain.GENESIS
    with tampering() as cur:
        for position, event in enumerate([events[0], events[2], events[1]], start=1):  # 3 sealed before 2
            leaf = chain.leaf_hash(chain.canonical(event.canonical_values()))
            head = chain.chain_hash(head, position, leaf)
            Seal.objects.create(position=position, event=event, leaf=leaf.hex(), chain=head.hex())
        cur.execute("INSERT INTO audit_sealcursor (below, latest, strict_from) VALUES (%s, %s, %s)",
                    [events[2].pk, connection.ops.adapt_datetimefield_value(events[2].at), 4])
    fast = "database" if connection.vendor == "postgresql" else "exact"  # the fast path: PostgreSQL's
    report = verification.verify()
    assert report.ok and report.method == fast
    after = services.record(Kind.READ, "new")
    assert sealing.seal() == 1 and Seal.objects.get(event=after).position == 4
    report = verification.verify()
    assert report.ok and report.method == fast
