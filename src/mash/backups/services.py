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

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import uuid
from pathlib import Path

import dj_database_url
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import DatabaseError, connections, transaction
from django.db.utils import load_backend

from mash.core.faults import fault_point
from mash.core.files import fsync_dir
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
PARTIAL = ".partial"
RESTORING = ".restoring"
LEGACY_TMP_PREFIX = "mash-backup-"  # plaintext folders made by versions before decision 0005


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




def _read_full(stream, size: int) -> bytes:
    """Up to `size` bytes, fewer only at the end (a pipe returns what it has)."""
    parts, wanted = [], size
    while wanted:
        part = stream.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def _is_backup_header(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            line = fh.readline(MAX_HEADER + 1)
        return json.loads(line).get("magic") == MAGIC
    except (OSError, ValueError, AttributeError):
        return False


def _remove_stale_partials(folder: Path) -> list[str]:
    """`*.partial` backups in `folder` that no running backup holds (it keeps a lock on its own)."""
    removed = []
    for partial in sorted(folder.glob("*" + PARTIAL)):
        try:
            fd = os.open(partial, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # a backup is writing it
        try:
            # Still the file we locked (not one a new backup has just made under the same name).
            if os.fstat(fd).st_ino == partial.stat().st_ino and _is_backup_header(partial):
                partial.unlink()
                removed.append(str(partial))
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)
    return removed


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


def encrypt_stream(read, dest: Path, fields: dict) -> dict:
    """Encrypt what `read(n)` returns, until it returns b"", into `dest` (written as dest.partial,
    locked while written, then renamed). Returns the header."""
    file_key = AESGCM.generate_key(256)
    header = {"magic": MAGIC, "version": VERSION, **fields, "cipher": "AES-256-GCM", "chunk_size": CHUNK,
              "file_key": keys.seal_file_key(file_key, PURPOSE)}
    line = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(line).digest()
    aes = AESGCM(file_key)
    partial = dest.with_name(dest.name + PARTIAL)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise BackupError(f"another backup is being written to {dest}") from None
    try:
        os.ftruncate(fd, 0)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb", closefd=False) as out:
            out.write(line + b"\n")
            index = 0
            chunk = read(CHUNK)
            while True:
                following = read(CHUNK)
                final = not following
                nonce = os.urandom(NONCE)
                sealed = aes.encrypt(nonce, chunk, _chunk_aad(digest, index, final))
                out.write(struct.pack(">I", len(sealed)) + nonce + sealed)
                if index == 0:
                    out.flush()
                    fault_point("backup.after_first_chunk")
                if final:
                    break
                chunk, index = following, index + 1
            out.flush()
            os.fsync(out.fileno())
        fault_point("backup.before_rename")
        os.replace(partial, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    finally:
        os.close(fd)
    fsync_dir(dest.parent)
    return header


def encrypt_file(source: Path, dest: Path, fields: dict) -> dict:
    """Encrypt the file `source` into `dest` (see encrypt_stream). Returns the header."""
    with open(source, "rb") as src:
        return encrypt_stream(lambda n: _read_full(src, n), dest, fields)


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


def decrypt_chunks(path: Path):
    """The backup's payload, chunk by chunk, each verified before it is yielded; BackupError (altered,
    truncated, wrong keyring) as soon as one does not verify, or if the last chunk is missing. A
    consumer must not act on what it was given until the generator is exhausted."""
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
    with open(path, "rb") as fh:
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
            yield plain
            if final:
                return
            index += 1


def verify(path: Path) -> dict:
    """Decrypt the whole backup, keeping nothing: every chunk and its ending checked. Returns the header."""
    for _ in decrypt_chunks(path):
        pass
    return read_header(path)[0]


def decrypt_file(path: Path, dest: Path) -> dict:
    """Decrypt the backup at `path` into the file `dest`, for tests and tools (`mash restore` never
    writes the payload to a file). Raises BackupError; `dest` may then hold part of the payload."""
    with _open_private(dest) as out:
        for plain in decrypt_chunks(path):
            out.write(plain)
        out.flush()
        os.fsync(out.fileno())
    return read_header(path)[0]


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


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@contextlib.contextmanager
def _orm_on(cfg: dict, *, name: str | None = None):
    """Django's default connection pointed at the target database for the block (for SQLite, `name`
    ":memory:"), so that the application's own code, not a copy of it, applies the registers there."""
    settings_dict = dict(cfg)
    if name:
        settings_dict["NAME"] = name
    settings_dict = connections.configure_settings({"default": settings_dict})["default"]
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")
    previous = connections["default"]
    connections["default"] = wrapper
    try:
        yield wrapper
    finally:
        try:
            raw = wrapper.connection
            wrapper.close()
            if raw is not None:
                raw.close()  # Django keeps an in-memory SQLite database open; this one is done with
        finally:
            connections["default"] = previous
            keys.forget_cached_keys()


def _reshred(key_ids: list[uuid.UUID]) -> int:
    """The shred register applied through the ORM to whatever database it points at."""
    from django.utils import timezone

    from mash.keys.models import PersonKey

    now = timezone.now()
    done = 0
    for start in range(0, len(key_ids), 500):
        done += (PersonKey.objects.filter(key_id__in=key_ids[start:start + 500], shredded_at__isnull=True)
                 .update(wrapped=b"", shredded_at=now))
    return done


def _migrate() -> int:
    """Bring a database restored from a backup older than the code up to the code's migrations, so
    that the registers are applied by the code that wrote them. How many migrations ran."""
    from django.core.management import call_command
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections["default"]
    on_disk = MigrationLoader(connection, load=False)
    on_disk.load_disk()
    missing = set(on_disk.disk_migrations) - set(MigrationRecorder(connection).applied_migrations())
    if missing:
        call_command("migrate", interactive=False, verbosity=0)
    return len(missing)


def _apply_registers(key_ids: list[uuid.UUID], entries: list) -> tuple[int, dict]:
    """Both registers, in the restore's transaction: keys first, then the disposals (retention's code)."""
    from mash.retention import services as retention

    destroyed = _reshred(key_ids)
    fault_point("restore.after_shred_register")
    return destroyed, retention.reapply(entries)


# Child processes --------------------------------------------------------------------------------

try:  # Linux: a child asks to be killed when this process dies (kill -9 included)
    import ctypes

    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # pragma: no cover - not Linux
    _prctl = None
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    if _prctl is None or not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()

    def preexec():
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return preexec


class _Tool:
    """pg_dump or pg_restore as a child that dies with this process; its standard error collected."""

    def __init__(self, tool: str, cli: list[str], env: dict, *, stdin, stdout):
        try:
            self.proc = subprocess.Popen(cli, env=env, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE,
                                         preexec_fn=_die_with_parent())
        except FileNotFoundError:
            raise BackupError(f"{tool} was not found: install the PostgreSQL client tools of the server's major "
                              "version (for example postgresql-client-15)") from None
        self.tool = tool
        self._stderr = b""
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()

    def _collect(self):
        self._stderr = self.proc.stderr.read()

    def finish(self) -> None:
        """Wait for it; BackupError with its message if it failed."""
        code = self.proc.wait()
        self._reader.join()
        if code != 0:
            stderr = self._stderr.decode(errors="replace").strip()[-4000:] or f"exit status {code}"
            raise BackupError(f"{self.tool} failed: {stderr}")

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        self.proc.wait()
        self._reader.join()


# SQLite -----------------------------------------------------------------------------------------

def _sqlite_tables(con: sqlite3.Connection) -> list[str]:
    return [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                      "AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def _quote(name: str) -> str:
    return name.replace('"', '""')


def _sqlite_counts(con: sqlite3.Connection) -> tuple[int, int, dict]:
    tables = _sqlite_tables(con)
    rows = sum(con.execute(f'SELECT count(*) FROM "{_quote(t)}"').fetchone()[0] for t in tables)
    migrations = {}
    if "django_migrations" in tables:
        migrations = dict(con.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app"))
    return len(tables), rows, migrations


def _sqlite_file_counts(path: Path) -> tuple[int, int, dict]:
    con = sqlite3.connect(path)
    try:
        return _sqlite_counts(con)
    finally:
        con.close()


def _rollback_journal(image: bytearray) -> bytearray:
    """A database image that opens with a rollback journal, not a write-ahead log (file format bytes
    18 and 19): self-contained, and loadable into memory."""
    if len(image) >= 20:
        image[18] = image[19] = 1
    return image


def _sqlite_snapshot() -> tuple[bytearray, int, int, dict]:
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
        tables, rows, migrations = _sqlite_counts(memory)
        return _rollback_journal(bytearray(memory.serialize())), tables, rows, migrations
    finally:
        memory.close()


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


def _remove_restoring(target: Path) -> list[str]:
    """What a killed SQLite restore left beside its target."""
    removed = []
    restoring = target.with_name(target.name + RESTORING)
    for leftover in (restoring, *(restoring.with_name(restoring.name + s) for s in ("-journal", "-wal", "-shm"))):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
            removed.append(str(leftover))
    return removed


def _settle_sqlite_target(target: Path) -> None:
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


def _restore_sqlite(source: Path, cfg: dict, *, force: bool, key_ids, entries, is_default: bool):
    target = Path(cfg["NAME"])
    # Decrypted into memory only, every chunk verified before any of it is used.
    image = bytearray()
    for plain in decrypt_chunks(source):
        image += plain
    image = _rollback_journal(image)
    if image[:16] != b"SQLite format 3\x00":
        raise BackupError("the backup's payload is not a SQLite database")
    fault_point("restore.after_verify")
    if not force and _sqlite_has_tables(target):
        raise BackupError(f"the target {target} is not empty: restore into a new database, or give --force "
                          "to replace it")
    # The restored database is rebuilt in memory, both registers applied to it by the application's
    # own code; only then is it written beside the target and renamed over it in one step.
    with _orm_on(cfg, name=":memory:") as db:
        db.ensure_connection()
        db.connection.deserialize(image)
        del image
        db.connection.execute("PRAGMA secure_delete = ON")  # what the registers remove is overwritten
        migrated = _migrate()  # in memory: interrupted, it never reaches the target
        with transaction.atomic():
            fault_point("restore.after_load")
            destroyed, done = _apply_registers(key_ids, entries)
            fault_point("restore.before_commit")
        db.connection.execute("VACUUM")  # and no free page keeps any of it
        restored = _rollback_journal(bytearray(db.connection.serialize()))
    restoring = target.with_name(target.name + RESTORING)
    try:
        with _open_private(restoring) as out:
            out.write(restored)
            out.flush()
            os.fsync(out.fileno())
        del restored
        fault_point("restore.before_rename")
        if is_default:
            connections["default"].close()
        _settle_sqlite_target(target)
        os.replace(restoring, target)
    except BaseException:
        _remove_restoring(target)
        raise
    fsync_dir(target.parent)
    fault_point("restore.after_commit")
    return destroyed, done, migrated


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


def _pg_cli(tool: str, cfg: dict) -> tuple[list[str], dict]:
    """The command line and environment of pg_dump against the database of `cfg`; never prompts."""
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
    return cli + ["--dbname", params.get("dbname", "")], env


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


def _pg_backup(dest: Path, fields: dict) -> tuple[dict, int, int, int]:
    """`pg_dump --format=custom` of the default database, from one snapshot also used to count rows,
    streamed through the encryptor: the archive exists only in the pipe."""
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
        cli, env = _pg_cli("pg_dump", cfg)
        # Custom format keeps the schema with its functions and triggers (the audit log's and the
        # disclosure packages'), the data, and the sequences' positions.
        dump = _Tool("pg_dump", cli + ["--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"],
                     env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        fault_point("backup.after_snapshot")  # pg_dump running, holding the snapshot
        size = 0

        def read(n: int) -> bytes:
            nonlocal size
            data = _read_full(dump.proc.stdout, n)
            size += len(data)
            if not data:
                dump.finish()  # a pg_dump that failed part way must not become a backup
            return data

        try:
            header = encrypt_stream(read, dest, {**fields, "migrations": migrations})
        except BaseException:
            dump.kill()
            raise
        dump.finish()
        con.rollback()
    finally:
        con.close()
    return header, tables, rows, size


_COPY = re.compile(rb"COPY .+ FROM stdin;\n")


def _run_restore_script(stream, cursor) -> None:
    """Execute pg_restore's SQL script (`pg_restore --file=-`) on `cursor`, in the caller's transaction:
    the statements of consecutive archive entries together, each table's data by COPY."""
    pending: list[bytes] = []
    size = 0
    table_data = False

    def flush():
        nonlocal size
        if pending:
            cursor.execute(b"".join(pending).decode())
            pending.clear()
            size = 0

    for line in stream:
        if line.startswith((b"-- Name: ", b"-- Data for Name: ")):
            table_data = b"; Type: TABLE DATA;" in line
            if size > 4 * 1024 * 1024:  # an entry's header: what came before is whole statements
                flush()
        if table_data and _COPY.fullmatch(line):
            flush()
            with cursor.copy(line[:-2].decode()) as copy:
                for row in stream:
                    if row == b"\\.\n":
                        break
                    copy.write(row)
                else:
                    raise BackupError("pg_restore's output ended inside a table's data")
            table_data = False
            continue
        if line.startswith(b"\\"):
            if line.startswith((b"\\restrict ", b"\\unrestrict ")):
                continue  # psql's guard against meta-commands in the data; nothing runs them here
            raise BackupError(f"pg_restore's output holds a psql command this restore does not run: {line[:40]!r}")
        pending.append(line)
        size += len(line)
    flush()


def _restore_pg(source: Path, cfg: dict, *, force: bool, key_ids, entries, is_default: bool):
    import psycopg

    if is_default:
        connections["default"].close()
    with _orm_on(cfg) as db, transaction.atomic():
        # One transaction of our own: replacing the schema (--force), the restored schema and data,
        # and both registers. Killed anywhere before the commit, the server rolls it all back.
        cursor = db.connection.cursor()
        cursor.execute(_pg_relations_sql("'r', 'p', 'v', 'm', 'f', 'S'"))
        if cursor.fetchall():
            if not force:
                raise BackupError(f"the target {_describe(cfg)} is not empty (it has tables in schema public): "
                                  "restore into a new database, or give --force to drop schema public and replace it")
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public; GRANT USAGE ON SCHEMA public TO PUBLIC")
        # pg_restore turns the archive, fed to it through a pipe as each chunk is verified, into SQL;
        # it never connects to the database.
        restore = _Tool("pg_restore", ["pg_restore", "--no-owner", "--no-privileges", "--file=-"], dict(os.environ),
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        failed: list[BaseException] = []

        def feed():
            try:
                for plain in decrypt_chunks(source):
                    restore.proc.stdin.write(plain)
            except BrokenPipeError:
                pass  # pg_restore stopped: its own error says why
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                failed.append(exc)
            finally:
                with contextlib.suppress(OSError):
                    restore.proc.stdin.close()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        try:
            with open(restore.proc.stdout.fileno(), "rb", closefd=False) as script:
                try:
                    _run_restore_script(script, cursor)
                except psycopg.Error as exc:
                    raise BackupError(f"the backup did not restore into {_describe(cfg)}, which was left as it "
                                      f"was: {str(exc).strip()}") from None
            feeder.join()
            if failed:
                raise failed[0]
            restore.finish()
        except BaseException:
            restore.kill()
            feeder.join()
            if failed and isinstance(failed[0], BackupError):
                raise failed[0] from None
            raise
        cursor.execute("RESET search_path")  # the script empties it for its session
        fault_point("restore.after_load")
        migrated = _migrate()  # in the same transaction
        destroyed, done = _apply_registers(key_ids, entries)
        fault_point("restore.before_commit")
    fault_point("restore.after_commit")
    return destroyed, done, migrated


# Backup and restore -----------------------------------------------------------------------------

def backup(path) -> dict:
    """Back up the default database, encrypted, to `path`. Returns a summary."""
    dest = Path(path)
    if dest.is_dir():
        raise BackupError(f"{dest} is a directory: give the backup file's name")
    if not dest.parent.is_dir():
        raise BackupError(f"the folder {dest.parent} does not exist")
    leftovers = _remove_stale_partials(dest.parent) + _remove_legacy_tmp()
    cfg = connections["default"].settings_dict
    engine = _engine(cfg)
    created = _utc_now()
    fields = {"engine": engine, "created_at": created.isoformat(timespec="seconds")}
    try:
        if engine == SQLITE:
            image, tables, rows, migrations = _sqlite_snapshot()
            size = len(image)
            view, at = memoryview(image), 0

            def read(n: int) -> bytes:
                nonlocal at
                piece = bytes(view[at:at + n])
                at += len(piece)
                return piece

            try:
                header = encrypt_stream(read, dest, {**fields, "migrations": migrations})
            finally:
                view.release()
                del image
        else:
            header, tables, rows, size = _pg_backup(dest, fields)
    except keyring.KeyringError as exc:
        raise BackupError(f"cannot encrypt the backup: {exc}") from None
    return {"engine": engine, "path": str(dest), "bytes": dest.stat().st_size, "database_bytes": size,
            "tables": tables, "rows": rows, "master_key_id": header["file_key"]["master_key_id"],
            "created_at": header["created_at"], "database": _describe(cfg), "leftovers": leftovers}


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


def restore(path, *, database_url: str | None = None, force: bool = False) -> dict:
    """Restore the backup at `path` into an empty database (the default one, or `database_url`); inside
    the restore, destroy again every data key in the shred register and dispose again of everything
    in the disposal register. Returns a summary."""
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
    leftovers = _remove_legacy_tmp()
    if engine == SQLITE:
        leftovers += _remove_restoring(Path(cfg["NAME"]))
    key_ids = _register_ids()
    entries = _disposal_entries()
    # Refuse early, before decrypting anything (checked again just before writing).
    if not force:
        if engine == SQLITE:
            not_empty = _sqlite_has_tables(Path(cfg["NAME"]))
        else:
            with _pg_connect(cfg, autocommit=True) as con:
                not_empty = bool(con.execute(_pg_relations_sql("'r', 'p', 'v', 'm', 'f', 'S'")).fetchall())
        if not_empty:
            raise BackupError(f"the target {_describe(cfg)} is not empty: restore into a new database, or give "
                              "--force to replace it")
    try:
        if engine == SQLITE:
            destroyed, done, migrated = _restore_sqlite(source, cfg, force=force, key_ids=key_ids, entries=entries,
                                                        is_default=is_default)
        else:
            verify(source)  # every chunk, before the target is touched
            fault_point("restore.after_verify")
            destroyed, done, migrated = _restore_pg(source, cfg, force=force, key_ids=key_ids, entries=entries,
                                                    is_default=is_default)
    except DatabaseError as exc:
        raise BackupError(f"the restore failed and {_describe(cfg)} was left as it was: {str(exc).strip()}") from None
    if engine == SQLITE:
        tables, rows, _ = _sqlite_file_counts(Path(cfg["NAME"]))
    else:
        with _pg_connect(cfg, autocommit=True) as con:
            tables, rows = _pg_counts(con)
    keys.forget_cached_keys()
    return {"engine": engine, "path": str(source), "target": _describe(cfg), "created_at": header.get("created_at"),
            "master_key_id": header["file_key"].get("master_key_id"), "tables": tables, "rows": rows,
            "reshredded": destroyed, "register": len(key_ids), "redisposed": done["enquiries"],
            "people_redisposed": done["people"], "disposal_register": len(entries),
            "migrations": header.get("migrations") or {}, "migrated": migrated, "leftovers": leftovers}
