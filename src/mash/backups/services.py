"""Encrypted backups of the default database, and their restore into an empty one (docs/backups.md).

A backup file is one line of JSON (the header), a newline, then the database's snapshot (SQLite's
database file, or PostgreSQL's `pg_dump --format=custom`) encrypted with AES-256-GCM in chunks:

    header  {"magic": "MASH-BACKUP", "version": 1, "engine": ..., "file_key": seal_file_key(...), ...}\\n
    chunk   4-byte big-endian length of the ciphertext | 12-byte nonce | ciphertext (with its tag)
    ...

Each backup has its own random 32-byte file key, wrapped by the current master key
(`mash.keys.services.seal_file_key`). Each chunk's associated data binds the SHA-256 of the header
line, the chunk's index and whether it is the last, so a header, chunk or ending that was altered,
reordered, dropped, cut short or added to fails to decrypt, and restore writes nothing.

Plaintext only ever exists in a private temporary directory (mode 0700), removed even on error.

Restoring re-applies the shred register (`mash.keys`): every data key destroyed since the backup
was made is destroyed again before the restored database is put in place (SQLite) or straight after
`pg_restore` (PostgreSQL), so crypto-shredded data stays unreadable.
"""

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import urllib.parse
import uuid
from pathlib import Path

import dj_database_url
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connections

from mash.keys import keyring
from mash.keys import services as keys

MAGIC = "MASH-BACKUP"
VERSION = 1
PURPOSE = "backup"
CHUNK = 1024 * 1024
NONCE = 12
TAG = 16
MAX_HEADER = 64 * 1024
SQLITE = "sqlite"
POSTGRESQL = "postgresql"


class BackupError(Exception):
    """A backup could not be made or restored; the message says why and what to do."""


# The file format ------------------------------------------------------------------------------

def _chunk_aad(header_digest: bytes, index: int, final: bool) -> bytes:
    return b"MASH-BACKUP|v1|" + header_digest + struct.pack(">QB", index, 1 if final else 0)


def _open_private(path: Path):
    """A new file readable by its owner only (an existing one is emptied and made so)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def encrypt_file(source: Path, dest: Path, fields: dict) -> dict:
    """Encrypt `source` into `dest` (written as dest.partial, then renamed). Returns the header."""
    file_key = AESGCM.generate_key(256)
    header = {"magic": MAGIC, "version": VERSION, **fields, "cipher": "AES-256-GCM", "chunk_size": CHUNK,
              "file_key": keys.seal_file_key(file_key, PURPOSE)}
    line = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(line).digest()
    aes = AESGCM(file_key)
    partial = dest.with_name(dest.name + ".partial")
    try:
        with open(source, "rb") as src, _open_private(partial) as out:
            out.write(line + b"\n")
            index = 0
            chunk = src.read(CHUNK)
            while True:
                following = src.read(CHUNK)
                final = not following
                nonce = os.urandom(NONCE)
                sealed = aes.encrypt(nonce, chunk, _chunk_aad(digest, index, final))
                out.write(struct.pack(">I", len(sealed)) + nonce + sealed)
                if final:
                    break
                chunk, index = following, index + 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    _fsync_dir(dest.parent)
    return header


def read_header(path: Path) -> tuple[dict, bytes]:
    """The header of a MASH backup, and its line as written; BackupError if it is not one."""
    try:
        with open(path, "rb") as fh:
            line = fh.readline(MAX_HEADER + 1)
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a directory, not a MASH backup") from None
    if not line.endswith(b"\n"):
        raise BackupError(f"{path} is not a MASH backup (it does not start with a MASH-BACKUP header)")
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("magic") != MAGIC:
        raise BackupError(f"{path} is not a MASH backup (it does not start with a MASH-BACKUP header)")
    version = header.get("version")
    if version != VERSION:
        raise BackupError(f"{path} is a MASH backup in format {version!r}, which this version of MASH Hub "
                          f"cannot read (it reads format {VERSION})")
    if header.get("engine") not in (SQLITE, POSTGRESQL) or not isinstance(header.get("file_key"), dict):
        raise BackupError(f"{path}: the backup's header is damaged")
    return header, line.rstrip(b"\n")


def decrypt_file(path: Path, dest: Path) -> dict:
    """Decrypt the backup at `path` into `dest`, verifying every chunk and its ending.

    Raises BackupError (altered, truncated, wrong keyring); `dest` may then hold part of the payload,
    so callers write it somewhere private and throw it away."""
    header, line = read_header(path)
    digest = hashlib.sha256(line).digest()
    try:
        file_key = keys.open_file_key(header["file_key"], PURPOSE)
    except keyring.KeyringError as exc:
        raise BackupError(f"cannot open {path}: {exc}. Restoring needs the keyring that holds the master key "
                          "the backup was made under (MASH_KEY_FILE or MASH_MASTER_KEYS)") from None
    except (keys.CannotDecrypt, KeyError, TypeError, ValueError):
        raise BackupError(f"cannot open {path}: its file key does not open with master key "
                          f"{header['file_key'].get('master_key_id')!r}: the backup was altered") from None
    aes = AESGCM(file_key)
    index = 0
    with open(path, "rb") as fh, _open_private(dest) as out:
        fh.seek(len(line) + 1)
        while True:
            length = fh.read(4)
            if len(length) < 4:
                raise BackupError(f"{path} is truncated: it ends after {index} chunks, before its last chunk")
            size = struct.unpack(">I", length)[0]
            if not TAG <= size <= CHUNK + TAG:
                raise BackupError(f"{path} was altered: chunk {index} has an impossible length ({size} bytes)")
            nonce = fh.read(NONCE)
            sealed = fh.read(size)
            if len(nonce) < NONCE or len(sealed) < size:
                raise BackupError(f"{path} is truncated: chunk {index} is cut short")
            final = not fh.peek(1)
            try:
                plain = aes.decrypt(nonce, sealed, _chunk_aad(digest, index, final))
            except InvalidTag:
                raise BackupError(_why_not(aes, path, nonce, sealed, digest, index, final)) from None
            out.write(plain)
            if final:
                break
            index += 1
        out.flush()
        os.fsync(out.fileno())
    return header


def _why_not(aes: AESGCM, path, nonce, sealed, digest, index, final) -> str:
    """Why a chunk did not decrypt: try it with the other ending flag to tell a cut from a change."""
    try:
        aes.decrypt(nonce, sealed, _chunk_aad(digest, index, not final))
    except InvalidTag:
        return (f"{path} was altered: chunk {index} does not decrypt (the file or its header was changed, "
                "or chunks were reordered)")
    if final:
        return f"{path} is truncated: it ends after chunk {index}, which is not its last chunk"
    return f"{path} was altered: there is data after its last chunk ({index})"


# Databases ------------------------------------------------------------------------------------

def _engine(cfg: dict) -> str:
    engine = cfg.get("ENGINE", "")
    if engine.endswith("sqlite3"):
        return SQLITE
    if "postgresql" in engine or "postgis" in engine:
        return POSTGRESQL
    raise BackupError(f"cannot back up or restore a database of engine {engine!r} (only SQLite and PostgreSQL)")


def _describe(cfg: dict) -> str:
    """The database, named without its password."""
    if _engine(cfg) == SQLITE:
        return str(cfg["NAME"])
    host = cfg.get("HOST") or "localhost"
    port = f":{cfg['PORT']}" if cfg.get("PORT") else ""
    user = f"{cfg['USER']}@" if cfg.get("USER") else ""
    return f"postgresql://{user}{host}{port}/{cfg.get('NAME') or ''}"


@contextlib.contextmanager
def _private_tmp():
    with tempfile.TemporaryDirectory(prefix="mash-backup-") as name:
        os.chmod(name, 0o700)
        yield Path(name)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# SQLite -----------------------------------------------------------------------------------------

def _sqlite_tables(con: sqlite3.Connection) -> list[str]:
    return [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def _quote(name: str) -> str:
    return name.replace('"', '""')


def _sqlite_counts(path: Path) -> tuple[int, int, dict]:
    con = sqlite3.connect(path)
    try:
        tables = _sqlite_tables(con)
        rows = sum(con.execute(f'SELECT count(*) FROM "{_quote(t)}"').fetchone()[0] for t in tables)
        migrations = {}
        if "django_migrations" in tables:
            migrations = dict(con.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app"))
        return len(tables), rows, migrations
    finally:
        con.close()


def _sqlite_snapshot(dest: Path) -> None:
    """A consistent copy of the default SQLite database, by SQLite's online backup API."""
    conn = connections["default"]
    name = conn.settings_dict["NAME"]
    _open_private(dest).close()
    target = sqlite3.connect(dest)
    try:
        if conn.is_in_memory_db():  # tests: only Django's connection sees the database
            conn.ensure_connection()
            if conn.in_atomic_block or conn.connection.in_transaction:
                raise BackupError("cannot back up an in-memory database from inside a transaction")
            conn.connection.backup(target)
        else:
            if not Path(name).is_file():
                raise BackupError(f"the database {name} does not exist")
            source = sqlite3.connect(name, timeout=30)
            try:
                source.backup(target)
            finally:
                source.close()
        # One self-contained file: no write-ahead log beside it when restored.
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()


def _sqlite_has_tables(path: Path) -> bool:
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


def _reshred_sqlite(path: Path, key_ids: list[uuid.UUID]) -> int:
    """The shred register applied to a SQLite database file (UUIDs are stored as 32 hex digits)."""
    con = sqlite3.connect(path)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'keys_personkey'").fetchone():
            return 0
        # Django's SQLite DateTimeField: naive UTC text.
        now = str(_utc_now().replace(tzinfo=None))
        done = 0
        with con:
            for start in range(0, len(key_ids), 500):
                batch = [k.hex for k in key_ids[start:start + 500]]
                done += con.execute(
                    "UPDATE keys_personkey SET wrapped = ?, shredded_at = ? WHERE shredded_at IS NULL "
                    f"AND key_id IN ({','.join('?' * len(batch))})", [b"", now, *batch]).rowcount
        return done
    finally:
        con.close()


def _restore_sqlite(plain: Path, cfg: dict, *, force: bool, key_ids: list[uuid.UUID], is_default: bool) -> int:
    target = Path(cfg["NAME"])
    with open(plain, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise BackupError("the backup's payload is not a SQLite database")
    if not force and _sqlite_has_tables(target):
        raise BackupError(f"the target {target} is not empty: restore into a new database, or give --force "
                          "to replace it")
    restoring = target.with_name(target.name + ".restoring")
    try:
        with open(plain, "rb") as src, _open_private(restoring) as out:
            shutil.copyfileobj(src, out, CHUNK)
            out.flush()
            os.fsync(out.fileno())
        con = sqlite3.connect(restoring)
        try:
            con.execute("PRAGMA journal_mode=DELETE")
        finally:
            con.close()
        # Destroy the keys again before the restored database is in place, so nothing can read them.
        destroyed = _reshred_sqlite(restoring, key_ids)
        if is_default:
            connections["default"].close()
        for suffix in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target.with_name(target.name + suffix))
        os.replace(restoring, target)
    except BaseException:
        for leftover in (restoring, restoring.with_name(restoring.name + "-journal")):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(leftover)
        raise
    _fsync_dir(target.parent)
    return destroyed


# PostgreSQL -------------------------------------------------------------------------------------

# libpq settings Django's OPTIONS may carry, and the environment variables pg_dump/pg_restore read.
_LIBPQ_OPTIONS = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
                  "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT", "options": "PGOPTIONS",
                  "target_session_attrs": "PGTARGETSESSIONATTRS", "application_name": "PGAPPNAME"}


def _pg_params(cfg: dict, dbname: str | None = None) -> dict:
    params = {"dbname": dbname or cfg.get("NAME"), "user": cfg.get("USER"), "password": cfg.get("PASSWORD"),
              "host": cfg.get("HOST"), "port": cfg.get("PORT")}
    options = cfg.get("OPTIONS") or {}
    params.update({k: options[k] for k in _LIBPQ_OPTIONS if k in options})
    return {k: str(v) for k, v in params.items() if v not in (None, "")}


def _pg_connect(cfg: dict, **kwargs):
    import psycopg

    try:
        return psycopg.connect(**_pg_params(cfg), **kwargs)
    except psycopg.OperationalError as exc:
        raise BackupError(f"cannot connect to {_describe(cfg)}: {str(exc).strip()}") from None


def _pg_tool(tool: str, cfg: dict, args: list[str]) -> None:
    """Run pg_dump or pg_restore against the database of `cfg`; never prompts for a password."""
    params = _pg_params(cfg)
    env = dict(os.environ)
    cli = [tool, "--no-password"]
    for key, flag in (("host", "--host"), ("port", "--port"), ("user", "--username")):
        if key in params:
            cli += [flag, params[key]]
    if "password" in params:
        env["PGPASSWORD"] = params["password"]
    for key, var in _LIBPQ_OPTIONS.items():
        if key in params:
            env[var] = params[key]
    cli += ["--dbname", params.get("dbname", "")] + args
    try:
        done = subprocess.run(cli, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    except FileNotFoundError:
        raise BackupError(f"{tool} was not found: install the PostgreSQL client tools of the server's major "
                          "version (for example postgresql-client-15)") from None
    if done.returncode != 0:
        stderr = done.stderr.strip()[-4000:] or f"exit status {done.returncode}"
        raise BackupError(f"{tool} failed: {stderr}")


def _pg_relations_sql(kinds: str) -> str:
    return ("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = 'public' AND c.relkind IN ({kinds}) ORDER BY c.relname")


def _pg_counts(con) -> tuple[int, int]:
    from psycopg import sql

    tables = [r[0] for r in con.execute(_pg_relations_sql("'r', 'p'"))]
    rows = 0
    for t in tables:
        rows += con.execute(sql.SQL("SELECT count(*) FROM ONLY public.{}").format(sql.Identifier(t))).fetchone()[0]
    return len(tables), rows


def _pg_snapshot(dest: Path) -> tuple[int, int, dict]:
    """`pg_dump --format=custom` of the default database, from one snapshot also used to count rows."""
    from psycopg import IsolationLevel

    cfg = connections["default"].settings_dict
    con = _pg_connect(cfg)
    try:
        con.isolation_level = IsolationLevel.REPEATABLE_READ
        con.read_only = True
        snapshot = con.execute("SELECT pg_export_snapshot()").fetchone()[0]
        tables, rows = _pg_counts(con)
        migrations = {}
        if con.execute("SELECT to_regclass('public.django_migrations')").fetchone()[0]:
            migrations = dict(con.execute("SELECT app, max(name) FROM public.django_migrations GROUP BY app ORDER BY app"))
        _open_private(dest).close()
        # Custom format keeps the schema with its functions and triggers (the audit log's and the
        # disclosure packages'), the data, and the sequences' positions.
        _pg_tool("pg_dump", cfg, ["--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                                  "--file", str(dest)])
        con.rollback()
    finally:
        con.close()
    return tables, rows, migrations


def _pg_has_tables(cfg: dict) -> bool:
    with _pg_connect(cfg, autocommit=True) as con:
        return bool(con.execute(_pg_relations_sql("'r', 'p', 'v', 'm', 'f', 'S'")).fetchall())


def _reshred_pg(cfg: dict, key_ids: list[uuid.UUID]) -> int:
    with _pg_connect(cfg) as con:
        if not con.execute("SELECT to_regclass('public.keys_personkey')").fetchone()[0]:
            return 0
        done = con.execute("UPDATE public.keys_personkey SET wrapped = ''::bytea, shredded_at = now() "
                           "WHERE shredded_at IS NULL AND key_id = ANY(%s)", [key_ids]).rowcount
        con.commit()
        return done


def _restore_pg(plain: Path, cfg: dict, *, force: bool, key_ids: list[uuid.UUID], is_default: bool) -> int:
    with open(plain, "rb") as fh:
        if fh.read(5) != b"PGDMP":
            raise BackupError("the backup's payload is not a pg_dump archive")
    if is_default:
        connections["default"].close()
    if _pg_has_tables(cfg):
        if not force:
            raise BackupError(f"the target {_describe(cfg)} is not empty (it has tables in schema public): restore "
                              "into a new database, or give --force to drop schema public and replace it")
        with _pg_connect(cfg) as con:
            con.execute("DROP SCHEMA public CASCADE")
            con.execute("CREATE SCHEMA public")
            con.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")
            con.commit()
    # One transaction: a restore that fails part way leaves the target as empty as it was.
    _pg_tool("pg_restore", cfg, ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                                 str(plain)])
    return _reshred_pg(cfg, key_ids)


# Backup and restore -----------------------------------------------------------------------------

def backup(path) -> dict:
    """Back up the default database, encrypted, to `path`. Returns a summary."""
    dest = Path(path)
    if dest.is_dir():
        raise BackupError(f"{dest} is a directory: give the backup file's name")
    if not dest.parent.is_dir():
        raise BackupError(f"the folder {dest.parent} does not exist")
    cfg = connections["default"].settings_dict
    engine = _engine(cfg)
    created = _utc_now()
    with _private_tmp() as tmp:
        plain = tmp / "snapshot"
        if engine == SQLITE:
            _sqlite_snapshot(plain)
            tables, rows, migrations = _sqlite_counts(plain)
        else:
            tables, rows, migrations = _pg_snapshot(plain)
        size = plain.stat().st_size
        try:
            header = encrypt_file(plain, dest, {"engine": engine, "created_at": created.isoformat(timespec="seconds"),
                                                "migrations": migrations})
        except keyring.KeyringError as exc:
            raise BackupError(f"cannot encrypt the backup: {exc}") from None
    return {"engine": engine, "path": str(dest), "bytes": dest.stat().st_size, "database_bytes": size,
            "tables": tables, "rows": rows, "master_key_id": header["file_key"]["master_key_id"],
            "created_at": header["created_at"], "database": _describe(cfg)}


def _register_ids() -> list[uuid.UUID]:
    ids = []
    for line in sorted(keyring.shredded()):
        try:
            ids.append(uuid.UUID(line))
        except ValueError:
            raise BackupError(f"the shred register {keyring.register_path()} has a line that is not a key id "
                              f"({line[:40]!r}); mend it before restoring") from None
    return ids


def restore(path, *, database_url: str | None = None, force: bool = False) -> dict:
    """Restore the backup at `path` into an empty database (the default one, or `database_url`), then
    destroy again every data key in the shred register. Returns a summary."""
    source = Path(path)
    header, _ = read_header(source)
    is_default = not database_url
    if is_default:
        conn = connections["default"]
        cfg = dict(conn.settings_dict)
        if _engine(cfg) == SQLITE and conn.is_in_memory_db():
            raise BackupError("the default database is in memory: give --database-url")
    else:
        try:
            cfg = dj_database_url.parse(database_url)
        except Exception as exc:  # dj_database_url raises several kinds for a bad URL
            raise BackupError(f"cannot understand the database URL: {exc}") from None
    engine = _engine(cfg)
    if header["engine"] != engine:
        raise BackupError(f"{source} is a backup of a {header['engine']} database and the target "
                          f"{_describe(cfg)} is {engine}: restore it into a {header['engine']} database")
    if engine == SQLITE and not Path(cfg["NAME"]).parent.is_dir():
        raise BackupError(f"the folder {Path(cfg['NAME']).parent} does not exist")
    key_ids = _register_ids()
    # Refuse early, before decrypting anything (checked again just before writing).
    if not force and (_sqlite_has_tables(Path(cfg["NAME"])) if engine == SQLITE else _pg_has_tables(cfg)):
        raise BackupError(f"the target {_describe(cfg)} is not empty: restore into a new database, or give "
                          "--force to replace it")
    with _private_tmp() as tmp:
        plain = tmp / "payload"
        decrypt_file(source, plain)  # every chunk verified before anything reaches the target
        restore_into = _restore_sqlite if engine == SQLITE else _restore_pg
        destroyed = restore_into(plain, cfg, force=force, key_ids=key_ids, is_default=is_default)
    if is_default:
        # Belt and braces: the same register, through the application's own code.
        destroyed += keys.apply_register()
        keys.forget_cached_keys()
    if engine == SQLITE:
        tables, rows, _ = _sqlite_counts(Path(cfg["NAME"]))
    else:
        with _pg_connect(cfg, autocommit=True) as con:
            tables, rows = _pg_counts(con)
    return {"engine": engine, "path": str(source), "target": _describe(cfg), "created_at": header.get("created_at"),
            "master_key_id": header["file_key"].get("master_key_id"), "tables": tables, "rows": rows,
            "reshredded": destroyed, "register": len(key_ids), "migrations": header.get("migrations") or {}}
