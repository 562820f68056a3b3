"""Encrypted backups of the default database, and their restore into an empty one (docs/backups.md).

`backup` and `restore` are the two commands' work; the rest of the package does it by parts:
`fileformat` (the encrypted file: header, chunks, verifying), `engines` (the database: its engine, Django's
ORM pointed at it, the registers applied there), `sqlite` and `postgres` (each engine's snapshot and restore).

No plaintext copy of the database ever reaches the disk (decision 0005):
- backing up, SQLite's online backup API copies into a database in memory, and pg_dump writes to a
  pipe; either is encrypted chunk by chunk on its way to `PATH.partial`;
- restoring, SQLite's database is rebuilt in memory and PostgreSQL's is fed to pg_restore through a
  pipe, whose SQL is executed in one transaction of our own.

Restoring re-applies the shred register (`mash.keys`) and the disposal register
(`mash.retention.register`) with the application's own code, inside the restore: for PostgreSQL in
the same transaction as the data, for SQLite in memory before the file is renamed into place. An
interrupted restore therefore leaves the target untouched, or whole with both registers applied.
pg_dump and pg_restore die with this process (PR_SET_PDEATHSIG); what an interrupted run leaves
(`PATH.partial`, `TARGET.restoring`, the temporary folders of earlier versions) is removed by the
next run.
"""

import datetime as dt
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import dj_database_url
from django.db import DatabaseError, connections

from mash.core.faults import fault_point
from mash.keys import keyring
from mash.keys import services as keys

from . import engines, fileformat, postgres, sqlite
from .fileformat import SQLITE, BackupError

LEGACY_TMP_PREFIX = "mash-backup-"  # plaintext folders made by versions before decision 0005


def _remove_legacy_tmp() -> list[str]:
    """Plaintext snapshot folders that versions before decision 0005 left in $TMPDIR when killed."""
    removed = []
    tmp = Path(tempfile.gettempdir())
    for folder in sorted(tmp.glob(LEGACY_TMP_PREFIX + "*")):
        try:
            if folder.is_dir() and not folder.is_symlink() and folder.stat().st_uid == os.getuid():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(str(folder))
        except OSError:
            continue
    return removed


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def backup(path) -> dict:
    """Back up the default database, encrypted, to `path`. Returns a summary."""
    dest = Path(path)
    if dest.is_dir():
        raise BackupError(f"{dest} is a directory: give the backup file's name")
    if not dest.parent.is_dir():
        raise BackupError(f"the folder {dest.parent} does not exist")
    leftovers = fileformat.remove_stale_partials(dest.parent) + _remove_legacy_tmp()
    cfg = connections["default"].settings_dict
    engine = engines.engine_of(cfg)
    created = _utc_now()
    fields = {"engine": engine, "created_at": created.isoformat(timespec="seconds")}
    try:
        header, tables, rows, size = (sqlite if engine == SQLITE else postgres).backup(dest, fields)
    except keyring.KeyringError as exc:
        raise BackupError(f"cannot encrypt the backup: {exc}") from None
    return {"engine": engine, "path": str(dest), "bytes": dest.stat().st_size, "database_bytes": size,
            "tables": tables, "rows": rows, "master_key_id": header["file_key"]["master_key_id"],
            "created_at": header["created_at"], "database": engines.describe(cfg), "leftovers": leftovers}


def _register_ids() -> list[uuid.UUID]:
    ids = []
    for line in sorted(keyring.shredded()):
        try:
            ids.append(uuid.UUID(line))
        except ValueError:
            raise BackupError(f"the shred register {keyring.register_path()} has a line that is not a key id "
                              f"({line[:40]!r}); mend it before restoring") from None
    return ids


def _disposal_entries() -> list:
    from mash.retention import register

    try:
        return register.entries()
    except register.RegisterError as exc:
        raise BackupError(str(exc)) from None


def _target(database_url: str | None) -> dict:
    """The settings of the database to restore into: the default one, or the one at `database_url`."""
    if not database_url:
        conn = connections["default"]
        cfg = dict(conn.settings_dict)
        if engines.engine_of(cfg) == SQLITE and conn.is_in_memory_db():
            raise BackupError("the default database is in memory: give --database-url")
        return cfg
    try:
        return dj_database_url.parse(database_url)
    except Exception as exc:  # dj_database_url raises several kinds for a bad URL
        raise BackupError(f"cannot understand the database URL: {exc}") from None


def _refuse_if_not_empty(engine: str, cfg: dict) -> None:
    """Refuse early, before decrypting anything (checked again just before writing)."""
    if engine == SQLITE:
        not_empty = sqlite.has_tables(Path(cfg["NAME"]))
    else:
        with postgres.connect(cfg, autocommit=True) as con:
            not_empty = bool(con.execute(postgres.relations_sql("'r', 'p', 'v', 'm', 'f', 'S'")).fetchall())
    if not_empty:
        raise BackupError(f"the target {engines.describe(cfg)} is not empty: restore into a new database, or give "
                          "--force to replace it")


def restore(path, *, database_url: str | None = None, force: bool = False) -> dict:
    """Restore the backup at `path` into an empty database (the default one, or `database_url`); inside
    the restore, destroy again every data key in the shred register and dispose again of everything
    in the disposal register. Returns a summary."""
    source = Path(path)
    header, _ = fileformat.read_header(source)
    is_default = not database_url
    cfg = _target(database_url)
    engine = engines.engine_of(cfg)
    if header["engine"] != engine:
        raise BackupError(f"{source} is a backup of a {header['engine']} database and the target "
                          f"{engines.describe(cfg)} is {engine}: restore it into a {header['engine']} database")
    if engine == SQLITE and not Path(cfg["NAME"]).parent.is_dir():
        raise BackupError(f"the folder {Path(cfg['NAME']).parent} does not exist")
    leftovers = _remove_legacy_tmp()
    if engine == SQLITE:
        leftovers += sqlite.remove_restoring(Path(cfg["NAME"]))
    key_ids = _register_ids()
    entries = _disposal_entries()
    if not force:
        _refuse_if_not_empty(engine, cfg)
    try:
        if engine == SQLITE:
            destroyed, done, migrated = sqlite.restore(source, cfg, force=force, key_ids=key_ids, entries=entries,
                                                       is_default=is_default)
        else:
            fileformat.verify(source)  # every chunk, before the target is touched
            fault_point("restore.after_verify")
            destroyed, done, migrated = postgres.restore(source, cfg, force=force, key_ids=key_ids, entries=entries,
                                                         is_default=is_default)
    except DatabaseError as exc:
        raise BackupError(f"the restore failed and {engines.describe(cfg)} was left as it was: "
                          f"{str(exc).strip()}") from None
    if engine == SQLITE:
        tables, rows, _ = sqlite.file_counts(Path(cfg["NAME"]))
    else:
        with postgres.connect(cfg, autocommit=True) as con:
            tables, rows = postgres.counts(con)
    keys.forget_cached_keys()
    return {"engine": engine, "path": str(source), "target": engines.describe(cfg),
            "created_at": header.get("created_at"), "master_key_id": header["file_key"].get("master_key_id"),
            "tables": tables, "rows": rows, "reshredded": destroyed, "register": len(key_ids),
            "redisposed": done["enquiries"], "people_redisposed": done["people"], "disposal_register": len(entries),
            "migrations": header.get("migrations") or {}, "migrated": migrated, "leftovers": leftovers}
