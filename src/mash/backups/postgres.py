"""PostgreSQL: the backup by pg_dump from one snapshot, the restore by pg_restore's SQL in one transaction
of our own (docs/backups.md).

pg_dump writes the archive to a pipe, encrypted chunk by chunk on its way to the file; restoring, the
archive is fed through a pipe to pg_restore, which turns it into SQL and never connects to the database;
that SQL, the migrations and both registers run in one transaction, so a restore killed anywhere before
its commit leaves the target as it was. pg_dump and pg_restore die with this process (PR_SET_PDEATHSIG).
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from django.db import connections, transaction

from mash.core.faults import fault_point

from . import engines, fileformat
from .fileformat import BackupError


# pg_dump and pg_restore as children --------------------------------------------------------------------------------

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


# The database ------------------------------------------------------------------------------------

# libpq settings Django's OPTIONS may carry, and the environment variables pg_dump/pg_restore read.
_LIBPQ_OPTIONS = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
                  "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT", "options": "PGOPTIONS",
                  "target_session_attrs": "PGTARGETSESSIONATTRS", "application_name": "PGAPPNAME"}


def libpq_params(cfg: dict, dbname: str | None = None) -> dict:
    params = {"dbname": dbname or cfg.get("NAME"), "user": cfg.get("USER"), "password": cfg.get("PASSWORD"),
              "host": cfg.get("HOST"), "port": cfg.get("PORT")}
    options = cfg.get("OPTIONS") or {}
    params.update({k: options[k] for k in _LIBPQ_OPTIONS if k in options})
    return {k: str(v) for k, v in params.items() if v not in (None, "")}


def connect(cfg: dict, **kwargs):
    import psycopg

    try:
        return psycopg.connect(**libpq_params(cfg), **kwargs)
    except psycopg.OperationalError as exc:
        raise BackupError(f"cannot connect to {engines.describe(cfg)}: {str(exc).strip()}") from None


def _cli(tool: str, cfg: dict) -> tuple[list[str], dict]:
    """The command line and environment of pg_dump against the database of `cfg`; never prompts."""
    params = libpq_params(cfg)
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


def relations_sql(kinds: str) -> str:
    return ("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = 'public' AND c.relkind IN ({kinds}) ORDER BY c.relname")


def counts(con) -> tuple[int, int]:
    from psycopg import sql

    tables = [r[0] for r in con.execute(relations_sql("'r', 'p'"))]
    rows = 0
    for t in tables:
        rows += con.execute(sql.SQL("SELECT count(*) FROM ONLY public.{}").format(sql.Identifier(t))).fetchone()[0]
    return len(tables), rows


def backup(dest: Path, fields: dict) -> tuple[dict, int, int, int]:
    """`pg_dump --format=custom` of the default database, from one snapshot also used to count rows,
    streamed through the encryptor: the archive exists only in the pipe."""
    from psycopg import IsolationLevel

    cfg = connections["default"].settings_dict
    con = connect(cfg)
    try:
        con.isolation_level = IsolationLevel.REPEATABLE_READ
        con.read_only = True
        snapshot = con.execute("SELECT pg_export_snapshot()").fetchone()[0]
        tables, rows = counts(con)
        migrations = {}
        if con.execute("SELECT to_regclass('public.django_migrations')").fetchone()[0]:
            migrations = dict(con.execute("SELECT app, max(name) FROM public.django_migrations GROUP BY app ORDER BY app"))
        cli, env = _cli("pg_dump", cfg)
        # Custom format keeps the schema with its functions and triggers (the audit log's and the
        # disclosure packages'), the data, and the sequences' positions.
        dump = _Tool("pg_dump", cli + ["--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"],
                     env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        fault_point("backup.after_snapshot")  # pg_dump running, holding the snapshot
        size = 0

        def read(n: int) -> bytes:
            nonlocal size
            data = fileformat.read_full(dump.proc.stdout, n)
            size += len(data)
            if not data:
                dump.finish()  # a pg_dump that failed part way must not become a backup
            return data

        try:
            header = fileformat.encrypt_stream(read, dest, {**fields, "migrations": migrations})
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


def restore(source: Path, cfg: dict, *, force: bool, key_ids, entries, is_default: bool):
    import psycopg

    if is_default:
        connections["default"].close()
    with engines.orm_on(cfg) as db, transaction.atomic():
        # One transaction of our own: replacing the schema (--force), the restored schema and data,
        # and both registers. Killed anywhere before the commit, the server rolls it all back.
        cursor = db.connection.cursor()
        cursor.execute(relations_sql("'r', 'p', 'v', 'm', 'f', 'S'"))
        if cursor.fetchall():
            if not force:
                raise BackupError(f"the target {engines.describe(cfg)} is not empty (it has tables in schema public): "
                                  "restore into a new database, or give --force to drop schema public and replace it")
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public; GRANT USAGE ON SCHEMA public TO PUBLIC")
        # pg_restore turns the archive, fed to it through a pipe as each chunk is verified, into SQL;
        # it never connects to the database.
        pg_restore = _Tool("pg_restore", ["pg_restore", "--no-owner", "--no-privileges", "--file=-"], dict(os.environ),
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        failed: list[BaseException] = []

        def feed():
            try:
                for plain in fileformat.decrypt_chunks(source):
                    pg_restore.proc.stdin.write(plain)
            except BrokenPipeError:
                pass  # pg_restore stopped: its own error says why
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                failed.append(exc)
            finally:
                with contextlib.suppress(OSError):
                    pg_restore.proc.stdin.close()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        try:
            with open(pg_restore.proc.stdout.fileno(), "rb", closefd=False) as script:
                try:
                    _run_restore_script(script, cursor)
                except psycopg.Error as exc:
                    raise BackupError(f"the backup did not restore into {engines.describe(cfg)}, which was left as it "
                                      f"was: {str(exc).strip()}") from None
            feeder.join()
            if failed:
                raise failed[0]
            pg_restore.finish()
        except BaseException:
            pg_restore.kill()
            feeder.join()
            if failed and isinstance(failed[0], BackupError):
                raise failed[0] from None
            raise
        cursor.execute("RESET search_path")  # the script empties it for its session
        fault_point("restore.after_load")
        migrated = engines.migrate()  # in the same transaction
        destroyed, done = engines.apply_registers(key_ids, entries)
        fault_point("restore.before_commit")
    fault_point("restore.after_commit")
    return destroyed, done, migrated
