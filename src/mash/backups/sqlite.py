"""SQLite: the backup from a snapshot in memory, the restore rebuilt in memory (docs/backups.md).

Backing up, SQLite's online backup API copies the database into memory, where it is rebuilt without free
pages and encrypted on its way to the file. Restoring, the payload is decrypted into memory, every chunk
verified, the registers applied to it there by the application's own code, and only then written beside
the target (`TARGET.restoring`) and renamed over it in one step.
"""

import contextlib
import os
import sqlite3
import urllib.parse
from pathlib import Path

from django.db import connections, transaction

from mash.core.faults import fault_point
from mash.core.files import fsync_dir

from . import engines, fileformat
from .fileformat import BackupError

RESTORING = ".restoring"


def _tables(con: sqlite3.Connection) -> list[str]:
    return [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def _quote(name: str) -> str:
    return name.replace('"', '""')


def _counts(con: sqlite3.Connection) -> tuple[int, int, dict]:
    tables = _tables(con)
    rows = sum(con.execute(f'SELECT count(*) FROM "{_quote(t)}"').fetchone()[0] for t in tables)
    migrations = {}
    if "django_migrations" in tables:
        migrations = dict(con.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app"))
    return len(tables), rows, migrations


def file_counts(path: Path) -> tuple[int, int, dict]:
    con = sqlite3.connect(path)
    try:
        return _counts(con)
    finally:
        con.close()


def _rollback_journal(image: bytearray) -> bytearray:
    """A database image that opens with a rollback journal, not a write-ahead log (file format bytes
    18 and 19): self-contained, and loadable into memory."""
    if len(image) >= 20:
        image[18] = image[19] = 1
    return image


def _snapshot() -> tuple[bytearray, int, int, dict]:
    """A consistent copy of the default SQLite database, by SQLite's online backup API, into memory."""
    conn = connections["default"]
    name = conn.settings_dict["NAME"]
    memory = sqlite3.connect(":memory:")
    try:
        if conn.is_in_memory_db():  # tests: only Django's connection sees the database
            conn.ensure_connection()
            if conn.in_atomic_block or conn.connection.in_transaction:
                raise BackupError("cannot back up an in-memory database from inside a transaction")
            conn.connection.backup(memory)
        else:
            if not Path(name).is_file():
                raise BackupError(f"the database {name} does not exist")
            source = sqlite3.connect(f"file:{urllib.parse.quote(str(Path(name).absolute()))}?mode=ro", uri=True,
                                     timeout=30)
            try:
                source.backup(memory)
            finally:
                source.close()
        fault_point("backup.after_snapshot")
        # Rebuilt without free pages: what was deleted, and still lies in the file's free space, stays behind.
        memory.execute("VACUUM")
        tables, rows, migrations = _counts(memory)
        return _rollback_journal(bytearray(memory.serialize())), tables, rows, migrations
    finally:
        memory.close()


def backup(dest: Path, fields: dict) -> tuple[dict, int, int, int]:
    """The default database, snapshotted into memory and encrypted to `dest`: the header, tables, rows
    and the database's size in bytes."""
    image, tables, rows, migrations = _snapshot()
    size = len(image)
    view, at = memoryview(image), 0

    def read(n: int) -> bytes:
        nonlocal at
        piece = bytes(view[at:at + n])
        at += len(piece)
        return piece

    try:
        header = fileformat.encrypt_stream(read, dest, {**fields, "migrations": migrations})
    finally:
        view.release()
        del image
    return header, tables, rows, size


def has_tables(path: Path) -> bool:
    if not path.exists():
        return False
    if path.stat().st_size == 0:
        return False
    try:
        con = sqlite3.connect(f"file:{urllib.parse.quote(str(path.absolute()))}?mode=ro", uri=True)
        try:
            return con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] > 0
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return True  # not a database we can read: treat it as something not to overwrite


def remove_restoring(target: Path) -> list[str]:
    """What a killed SQLite restore left beside its target."""
    removed = []
    restoring = target.with_name(target.name + RESTORING)
    for leftover in (restoring, *(restoring.with_name(restoring.name + s) for s in ("-journal", "-wal", "-shm"))):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
            removed.append(str(leftover))
    return removed


def _settle_target(target: Path) -> None:
    """A target about to be replaced, made one self-contained file first: its write-ahead log
    checkpointed and removed, so that none is left to be replayed onto the restored database."""
    if not target.exists():
        for suffix in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target.with_name(target.name + suffix))
        return
    try:
        con = sqlite3.connect(target, timeout=30)
        try:
            con.execute("PRAGMA journal_mode=DELETE").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"cannot replace {target}: {exc} (stop the application while restoring)") from None
    with contextlib.suppress(FileNotFoundError):
        os.unlink(target.with_name(target.name + "-shm"))


def restore(source: Path, cfg: dict, *, force: bool, key_ids, entries, is_default: bool):
    target = Path(cfg["NAME"])
    # Decrypted into memory only, every chunk verified before any of it is used.
    image = bytearray()
    for plain in fileformat.decrypt_chunks(source):
        image += plain
    image = _rollback_journal(image)
    if image[:16] != b"SQLite format 3\x00":
        raise BackupError("the backup's payload is not a SQLite database")
    fault_point("restore.after_verify")
    if not force and has_tables(target):
        raise BackupError(f"the target {target} is not empty: restore into a new database, or give --force "
                          "to replace it")
    # The restored database is rebuilt in memory, both registers applied to it by the application's
    # own code; only then is it written beside the target and renamed over it in one step.
    with engines.orm_on(cfg, name=":memory:") as db:
        db.ensure_connection()
        db.connection.deserialize(image)
        del image
        db.connection.execute("PRAGMA secure_delete = ON")  # what the registers remove is overwritten
        migrated = engines.migrate()  # in memory: interrupted, it never reaches the target
        with transaction.atomic():
            fault_point("restore.after_load")
            destroyed, done = engines.apply_registers(key_ids, entries)
            fault_point("restore.before_commit")
        db.connection.execute("VACUUM")  # and no free page keeps any of it
        restored = _rollback_journal(bytearray(db.connection.serialize()))
    restoring = target.with_name(target.name + RESTORING)
    try:
        with fileformat.open_private(restoring) as out:
            out.write(restored)
            out.flush()
            os.fsync(out.fileno())
        del restored
        fault_point("restore.before_rename")
        if is_default:
            connections["default"].close()
        _settle_target(target)
        os.replace(restoring, target)
    except BaseException:
        remove_restoring(target)
        raise
    fsync_dir(target.parent)
    fault_point("restore.after_commit")
    return destroyed, done, migrated
