"""kill -9 at each step of `mash backup`, `mash restore` and `mash retention run` (issue item 7).

Each test runs one `mash` command in a subprocess with MASH_FAULT_POINT naming a step
(`mash.core.faults`), so that the process is SIGKILLed there, then proves:
- no plaintext is left: the temporary folder ($TMPDIR of the subprocess) and every file under the
  test's folder (backups, databases, registers) are searched byte for byte for the names, NHS
  numbers and concern of the children, and for a SQLite file or pg_dump archive in the clear;
- no pg_dump or pg_restore is left running;
- nothing acknowledged is lost: the target of a restore is untouched or whole (with both registers
  applied), never in between; a retention run's enquiry is disposed of, or not at all;
- the next run finishes the job and removes the leftovers, and `mash audit verify` passes.
"""

import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from mash.backups import services
from mash.retention import register
from mash.testing.scratch import (ANONYMISED, ANONYMISED_NHS, CONCERN, DELETED, DELETED_BORN, DELETED_NHS,
                                  DELETED_STREET, FAULT_TEST, KEPT, KEPT_NHS, ON_PG, mash)

# The tests work on databases of their own (`live`, `databases`): the test database's transaction is
# only rolled back.
pytestmark = pytest.mark.django_db

DISPOSED = [DELETED, DELETED_NHS, DELETED_STREET, DELETED_BORN, ANONYMISED, ANONYMISED_NHS]
PLAINTEXT = [*DISPOSED, KEPT, KEPT_NHS, CONCERN, "SQLite format 3", "PGDMP"]


def no_orphans() -> None:
    """No pg_dump or pg_restore (or anything else) started by a killed `mash` is still running."""
    deadline = time.monotonic() + 5
    while True:
        alive = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                if f"MASH_FAULT_TEST={FAULT_TEST}".encode() in (proc / "environ").read_bytes():
                    alive.append((proc.name, (proc / "cmdline").read_bytes().replace(b"\0", b" ")[:80]))
            except OSError:
                continue
        if not alive:
            return
        assert time.monotonic() < deadline, f"still running after the kill: {alive}"
        time.sleep(0.1)


def no_plaintext(*folders: Path, db=None, databases_too: bool = True) -> None:
    """Nothing readable in any file under these folders, and no disposed child in any database there
    (its bytes, free pages included) nor, on PostgreSQL, in `db`."""
    for folder in folders:
        for path in folder.rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            # A database: the live one, a target, or a restored one not yet renamed over its target.
            if ".sqlite3" in path.name and data.startswith(b"SQLite format 3"):
                if not databases_too:
                    continue
                for marker in DISPOSED:
                    assert marker.encode() not in data, (marker, path)
                continue
            for marker in PLAINTEXT:
                assert marker.encode() not in data, (marker, path)
    if db is not None and ON_PG:
        text = db.text()
        for marker in DISPOSED:
            assert marker not in text, marker


def audit_verifies(db, tmp_path: Path) -> None:
    """`mash audit verify` passes on `db` (in a subprocess: these tests keep the audit app out of theirs)."""
    mash(["audit", "verify"], db, tmp_path)


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# Backup ---------------------------------------------------------------------------------------

BACKUP_POINTS = ["backup.after_snapshot", "backup.after_first_chunk", "backup.before_rename"]


def test_a_backup_killed_at_any_step_leaves_nothing_readable(live, databases, tmp_path):
    db, world = live
    out = tmp_path / "backups"
    out.mkdir()
    for point in BACKUP_POINTS:
        mash(["backup", str(out / "killed.backup")], db, tmp_path, fault=point)
        no_orphans()
        no_plaintext(tmp_path, databases_too=False)  # the live database holds everyone, as it should
        assert not (out / "killed.backup").exists(), point  # never a backup that is not whole
        assert files(tmp_path / "tmpdir") == [], point
    assert files(out) == ["killed.backup.partial"]  # encrypted, and only part of it

    # The next run (another name, as a timer would give) removes what the killed ones left.
    summary = services.backup(out / "next.backup")
    assert files(out) == ["next.backup"] and summary["leftovers"] == [str(out / "killed.backup.partial")]
    target = databases.new("restored")
    services.restore(out / "next.backup", database_url=target.url)
    assert KEPT in target.text() and DELETED in target.text()
    audit_verifies(db, tmp_path)


# Restore --------------------------------------------------------------------------------------

# Killed before the commit (or, for SQLite, the rename), the target is as it was; after, it is whole.
UNTOUCHED = ["restore.after_verify", "restore.after_load", "restore.after_shred_register", "restore.before_commit"]


def test_a_restore_killed_at_any_step_leaves_the_target_untouched_or_whole(live, databases, tmp_path):
    from mash.retention import services as retention

    db, world = live
    before = tmp_path / "before.backup"
    services.backup(before)
    assert len(retention.run(today=world.due).disposed) == 2
    after = tmp_path / "after.backup"
    services.backup(after)

    # The target holds a database already (the one after the run); the backup from before is forced over it.
    target = databases.new("target")
    services.restore(after, database_url=target.url)
    earlier = target.text()

    for point in UNTOUCHED + ([] if ON_PG else ["restore.before_rename"]):
        mash(["restore", str(before), "--force"], target, tmp_path, fault=point)
        no_orphans()
        no_plaintext(tmp_path, db=target)
        assert target.text() == earlier, point  # untouched
    mash(["restore", str(before), "--force"], target, tmp_path, fault="restore.after_commit")
    no_plaintext(tmp_path, db=target)
    whole = target.text()
    assert whole != earlier and KEPT in whole  # whole: restored, both registers applied
    assert sorted(target.query("SELECT enquiry_id, action FROM retention_disposal")) == sorted(
        [(world.deleted.pk, "delete"), (world.anonymised.pk, "anonymise")])

    # Run again, it finishes the same, and nothing is left beside the target or in $TMPDIR.
    summary = services.restore(before, database_url=target.url, force=True)
    assert summary["redisposed"] == 2
    assert target.query("SELECT count(*) FROM retention_disposal") == [(2,)]
    if not ON_PG:
        assert not [p for p in tmp_path.iterdir() if p.name.startswith("target.sqlite3.")]
    no_plaintext(tmp_path, db=target)
    assert files(tmp_path / "tmpdir") == []
    audit_verifies(target, tmp_path)


# Retention ------------------------------------------------------------------------------------

def test_a_retention_run_killed_at_any_step_disposes_of_the_enquiry_or_not_and_a_restore_follows(
        live, databases, tmp_path):
    db, world = live
    before = tmp_path / "before.backup"
    services.backup(before)
    first = min(world.deleted.pk, world.anonymised.pk)

    for point in ("retention.after_register", "retention.after_shred"):
        mash(["retention", "run", "--today", world.due.isoformat()], db, tmp_path, fault=point)
        no_orphans()
        # Not committed: nothing disposed of in the database, but the register already names the
        # first enquiry (written and synced before the commit), once for each killed run.
        assert db.query("SELECT count(*) FROM retention_disposal") == [(0,)], point
        assert db.query("SELECT count(*) FROM cases_enquiry") == [(3,)], point
    assert [e.enquiry_id for e in register.entries()] == [first, first]

    # The next run disposes of both; a restore of the backup from before disposes of both again.
    call_command("retention", "run", "--today", world.due.isoformat(), stdout=open(os.devnull, "w"))
    assert sorted(e for (e,) in db.query("SELECT enquiry_id FROM retention_disposal")) == sorted(
        [world.deleted.pk, world.anonymised.pk])
    target = databases.new("restored")
    services.restore(before, database_url=target.url)
    assert KEPT in target.text()
    no_plaintext(tmp_path, db=target)
    no_plaintext(tmp_path, db=db)
    audit_verifies(db, tmp_path)
