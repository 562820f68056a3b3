"""The audit log: append-only in the database, and `verify` catches every kind of tampering.

Tampering is done as an attacker with the database owner's rights would: with the triggers that
guard the tables switched off (inside the test's transaction, which is rolled back)."""

import io
import json

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from mash.audit import chain, checkpoints, sealing, services, verification
from mash.audit.models import AuditEvent, Checkpoint, EventPerson, Kind, Seal
from mash.cases import services as cases
from mash.testing.database import tampering
from mash.testing.world import PASSWORD


@pytest.fixture
def log(db, settings):
    """40 events, sealed in four runs of ten, with a signed checkpoint after each run."""
    settings.MASH_AUDIT_CHECKPOINT_EVERY = 10
    settings.MASH_AUDIT_SEAL_GRACE_SECONDS = 0
    events = []
    for run in range(4):
        for i in range(10):
            n = run * 10 + i
            events.append(services.record(Kind.READ if n % 3 else Kind.WRITE, f"test.action{n}", people=[n % 4 + 1],
                                          fields=["child"], object_type="enquiry", object_ref=f"MASH-2026-{n:06d}",
                                          detail=f"event {n}"))
        sealing.seal()
    assert Checkpoint.objects.count() == 4
    return events


def sql(cur, statement, params=()):
    cur.execute(statement.replace("?", "%s"), params)


def test_an_untouched_log_verifies(log):
    report = verification.verify()
    assert report.ok, report.problems
    assert (report.sealed, report.checkpoints, report.pending) == (40, 4, 0)
    assert report.method == ("database" if connection.vendor == "postgresql" else "exact")


def test_the_database_refuses_updates_and_deletes(log):
    event = log[5]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(detail="nothing to see")
    for statement in (
        f"DELETE FROM audit_auditevent WHERE id = {event.pk}",
        f"UPDATE audit_seal SET chain = 'x' WHERE event_id = {event.pk}",
        "DELETE FROM audit_seal",
        f"DELETE FROM audit_eventperson WHERE event_id = {event.pk}",
        "UPDATE audit_checkpoint SET root = 'x'",
        "DELETE FROM audit_checkpoint",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
            cur.execute(statement)
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cur.execute("TRUNCATE audit_auditevent CASCADE")
    assert verification.verify().ok


def test_an_altered_event_is_named(log):
    target = log[17]
    with tampering() as cur:
        sql(cur, "UPDATE audit_auditevent SET detail = ? WHERE id = ?", ["edited", target.pk])
    report = verification.verify()
    assert not report.ok and report.first_bad_event == target.pk
    assert "altered" in report.problems[0]


def test_an_altered_seal_is_named(log):
    target = log[22]
    with tampering() as cur:
        sql(cur, "UPDATE audit_seal SET chain = ? WHERE event_id = ?", ["ab" * 32, target.pk])
    report = verification.verify()
    assert not report.ok and report.first_bad_event == target.pk


def test_a_deleted_event_is_found_where_it_was(log):
    target, after = log[12], log[13]
    with tampering() as cur:
        sql(cur, "DELETE FROM audit_eventperson WHERE event_id = ?", [target.pk])
        sql(cur, "DELETE FROM audit_seal WHERE event_id = ?", [target.pk])
        sql(cur, "DELETE FROM audit_auditevent WHERE id = ?", [target.pk])
    report = verification.verify()
    assert not report.ok and report.first_bad_event == after.pk and report.first_bad_position == 13
    assert "removed" in report.problems[0]


def test_a_deleted_person_index_row_is_found(log):
    """Hiding a read from "who has seen this child's record" by removing its index row."""
    target = log[30]
    with tampering() as cur:
        sql(cur, "DELETE FROM audit_eventperson WHERE event_id = ?", [target.pk])
    report = verification.verify()
    assert not report.ok and report.first_bad_event == target.pk


def _shift_and_insert(cur, at_position: int, forged: AuditEvent, recompute: bool):
    """Make room at `at_position` and seal `forged` there: naively, or recomputing the chain after it."""
    rows = list(Seal.objects.order_by("-position").values_list("position", "event_id", "leaf", "chain"))
    for position, event_id, leaf, chained in rows:
        if position >= at_position:
            sql(cur, "UPDATE audit_seal SET position = ? WHERE position = ?", [position + 1, position])
    leaf = chain.leaf_hash(chain.canonical(forged.canonical_values()))
    sql(cur, "INSERT INTO audit_seal (position, event_id, leaf, chain, sealed_at) VALUES (?, ?, ?, ?, ?)",
        [at_position, forged.pk, leaf.hex(), "cd" * 32, forged.at])
    if recompute:
        head = chain.GENESIS
        for position, leaf_hex in Seal.objects.order_by("position").values_list("position", "leaf"):
            head = chain.chain_hash(head, position, bytes.fromhex(leaf_hex))
            sql(cur, "UPDATE audit_seal SET chain = ? WHERE position = ?", [head.hex(), position])


def test_an_inserted_event_is_named(log):
    forged = services.record(Kind.READ, "forged", people=[9], detail="never happened")
    with tampering() as cur:
        _shift_and_insert(cur, 21, forged, recompute=False)
    report = verification.verify()
    assert not report.ok and report.first_bad_event == forged.pk and report.first_bad_position == 21


def test_an_insertion_with_the_chain_recomputed_is_caught_by_the_signed_checkpoint(log):
    forged = services.record(Kind.READ, "forged", people=[9], detail="never happened")
    with tampering() as cur:
        _shift_and_insert(cur, 25, forged, recompute=True)
    report = verification.verify()
    # The chain holds, but it no longer follows the events' numbers: the forged event is named.
    assert not report.ok and report.first_bad_event == forged.pk and report.first_bad_position == 25
    assert "out of order" in report.problems[0]


def test_an_alteration_with_the_leaf_and_chain_recomputed_is_caught_by_the_signed_checkpoint(log):
    target = log[24]
    with tampering() as cur:
        sql(cur, "UPDATE audit_auditevent SET detail = ? WHERE id = ?", ["nothing to see", target.pk])
        target.refresh_from_db()
        leaf = chain.leaf_hash(chain.canonical(target.canonical_values()))
        sql(cur, "UPDATE audit_seal SET leaf = ? WHERE event_id = ?", [leaf.hex(), target.pk])
        head = chain.GENESIS
        for position, leaf_hex in Seal.objects.order_by("position").values_list("position", "leaf"):
            head = chain.chain_hash(head, position, bytes.fromhex(leaf_hex))
            sql(cur, "UPDATE audit_seal SET chain = ? WHERE position = ?", [head.hex(), position])
    report = verification.verify()
    # The stretch since the last good checkpoint (positions 21-30) is named, starting where it begins.
    assert not report.ok and report.first_bad_event == log[20].pk and report.first_bad_position == 21
    assert "checkpoint" in report.problems[0]


def test_reordered_events_are_named(log):
    a, b = log[8], log[9]
    with tampering() as cur:
        sql(cur, "UPDATE audit_seal SET position = -1 WHERE event_id = ?", [a.pk])
        sql(cur, "UPDATE audit_seal SET position = 9 WHERE event_id = ?", [b.pk])
        sql(cur, "UPDATE audit_seal SET position = 10 WHERE position = -1")
    report = verification.verify()
    assert not report.ok and report.first_bad_event == b.pk and report.first_bad_position == 9


def test_a_log_cut_short_after_a_checkpoint_is_caught(log):
    with tampering() as cur:
        for event in log[35:]:
            sql(cur, "DELETE FROM audit_eventperson WHERE event_id = ?", [event.pk])
            sql(cur, "DELETE FROM audit_seal WHERE event_id = ?", [event.pk])
            sql(cur, "DELETE FROM audit_auditevent WHERE id = ?", [event.pk])
    report = verification.verify()
    assert not report.ok and report.first_bad_position == 36 and "truncated" in report.problems[0]
    assert f"after event #{log[34].pk}" in report.problems[0]


def test_a_cut_that_also_removes_the_checkpoints_is_caught_by_the_file_outside(log, tmp_path):
    outside = tmp_path / "checkpoints.jsonl"
    checkpoints.export_checkpoints(outside)
    with tampering() as cur:
        for event in log[25:]:
            sql(cur, "DELETE FROM audit_eventperson WHERE event_id = ?", [event.pk])
            sql(cur, "DELETE FROM audit_seal WHERE event_id = ?", [event.pk])
            sql(cur, "DELETE FROM audit_auditevent WHERE id = ?", [event.pk])
        sql(cur, "DELETE FROM audit_checkpoint WHERE count > ?", [20])
    assert verification.verify().ok  # the database alone cannot tell: this is what the file is for
    key, rows = checkpoints.read_checkpoint_file(outside)
    report = verification.verify(key, rows)
    assert not report.ok and any("truncated" in p for p in report.problems)


def test_a_checkpoint_signed_by_another_key_fails(log):
    other = chain.public_text(chain.private_from_text(chain.new_private_key_text()).public_key())
    report = verification.verify(other)
    assert not report.ok and "signature" in report.problems[0]


def test_an_event_slipped_in_behind_the_sealer_is_named(db, settings):
    settings.MASH_AUDIT_SEAL_GRACE_SECONDS = 0
    first = services.record(Kind.READ, "first")
    last = AuditEvent.objects.create(id=first.pk + 10, kind=Kind.READ, action="later")
    sealing.seal()
    assert verification.verify().ok
    forged = AuditEvent.objects.create(id=first.pk + 5, kind=Kind.READ, action="slipped in", at=first.at)
    report = verification.verify()
    assert not report.ok and report.first_bad_event == forged.pk and last.pk > forged.pk


def test_verify_command_exits_non_zero_and_names_the_event(log):
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "OK" in out.getvalue() and "40 sealed events" in out.getvalue()
    target = log[3]
    with tampering() as cur:
        sql(cur, "UPDATE audit_auditevent SET actor = ? WHERE id = ?", ["someone-else", target.pk])
    err = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("audit", "verify", stdout=io.StringIO(), stderr=err)
    assert exited.value.code == 1 and f"first bad event: #{target.pk}" in err.getvalue()


def test_checkpoints_go_to_the_file_outside_as_they_are_signed(db, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MASH_AUDIT_CHECKPOINT_FILE = str(tmp_path / "outside.jsonl")
    settings.MASH_AUDIT_CHECKPOINT_EVERY = 2
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(4):
            services.record(Kind.READ, f"n{n}")
            sealing.seal()
    lines = [json.loads(line) for line in (tmp_path / "outside.jsonl").read_text().splitlines()]
    assert [line["count"] for line in lines] == [2, 4]


# --- What gets recorded -------------------------------------------------------------------------

def test_a_write_and_its_event_commit_together(rated_enquiry, manager, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("audit unavailable")

    monkeypatch.setattr(services, "_insert_event", broken)
    rag = rated_enquiry.rag
    with pytest.raises(DatabaseError):
        cases.rate(rated_enquiry, by=manager, rating="red" if rag != "red" else "green", rationale="Re-rated")
    rated_enquiry.refresh_from_db()
    assert rated_enquiry.rag == rag and rated_enquiry.ratings.count() == 1


def test_a_read_that_cannot_be_recorded_is_refused(client, rated_enquiry, manager, monkeypatch):
    client.force_login(manager)
    real = services.record

    def failing(kind, *args, **kwargs):
        if kind in (Kind.READ, Kind.EXPORT):
            raise DatabaseError("audit unavailable")
        return real(kind, *args, **kwargs)

    monkeypatch.setattr(services, "record", failing)
    name = rated_enquiry.child.last_name.encode()
    for url in (f"/enquiries/{rated_enquiry.reference}/", f"/api/v1/enquiries/{rated_enquiry.reference}",
                "/enquiries/?show=all", "/enquiries/export.csv?show=all"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert name not in response.content, url


def test_reads_name_the_child_and_the_parts_read(client, asked_enquiry, manager, police_worker):
    client.force_login(police_worker)
    before = AuditEvent.objects.count()
    assert client.get(f"/enquiries/{asked_enquiry.reference}/").status_code == 200
    event = AuditEvent.objects.order_by("-id").filter(kind=Kind.READ).first()
    assert AuditEvent.objects.count() > before
    assert asked_enquiry.child_id in event.people and event.actor == police_worker.username
    assert event.organisation == "essex-police" and "child" in event.fields and "reporter" not in event.fields
    assert event.purpose == "case:enquiry.view"


def test_sign_in_sign_out_and_failed_sign_in_are_recorded(client, manager):
    client.post("/login/", {"username": manager.username, "password": "Tr0ub4dor&3-not-it"})
    client.post("/login/", {"username": manager.username, "password": PASSWORD})
    client.post("/logout/")
    kinds = list(AuditEvent.objects.order_by("id").values_list("kind", "actor", "result"))[-3:]
    assert kinds == [(Kind.LOGIN_FAILED, manager.username, "refused"), (Kind.LOGIN, manager.username, "ok"),
                     (Kind.LOGOUT, manager.username, "ok")]
    assert "Tr0ub4dor" not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_changes_in_the_admin_site_are_recorded(make_user):
    admin = make_user("sysadmin", username="admin-user")
    LogEntry.objects.create(user=admin, content_type=ContentType.objects.get_for_model(admin), object_id=admin.pk,
                            object_repr=admin.username, action_flag=CHANGE, change_message="[]")
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.kind, event.action, event.actor) == (Kind.ADMIN, "admin change user", "admin-user")


@pytest.mark.postgres
def test_the_applications_role_can_only_append(log, as_application_role):
    """`mash audit grant ROLE`: SELECT and INSERT on the audit tables, nothing else."""
    with as_application_role("mash_app_probe") as cur:
        cur.execute("SELECT count(*) FROM audit_auditevent")
        assert cur.fetchone()[0] == 40
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            cur.execute("UPDATE audit_auditevent SET detail = 'x'")
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            cur.execute("DELETE FROM audit_seal")
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            cur.execute("TRUNCATE audit_checkpoint")
    services.record(Kind.READ, "still appends")


def test_every_column_of_an_event_is_hashed():
    from mash.audit.models import HASHED_COLUMNS

    columns = {f.attname for f in AuditEvent._meta.concrete_fields}
    assert columns == set(HASHED_COLUMNS), "a column the chain does not cover could be changed unnoticed"


def test_a_requests_events_are_sealed_once_its_response_has_gone(client, manager, rated_enquiry):
    client.force_login(manager)
    response = client.get(f"/enquiries/{rated_enquiry.reference}/")
    assert response.status_code == 200
    # The test client closes the response, as a WSGI server does once it has sent it.
    assert Seal.objects.count() == AuditEvent.objects.count() > 0
    assert verification.verify().ok
