"""A database of the test's own, for backup tests that need the application's services (which write
audit events, and the audit log cannot be emptied between tests): the test database's schema is
backed up, restored into a new database (a file under tmp_path, or a new PostgreSQL database), and
Django's ORM is pointed at it for the test. Every person is synthetic."""

import datetime as dt
import os
import secrets
import signal
import subprocess
import sys
import uuid
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import dj_database_url
from django.conf import settings
from django.db import connection
from django.utils import timezone

ON_PG = "postgresql" in settings.DATABASES["default"]["ENGINE"]

# Surnames, NHS numbers and addresses to look for, byte for byte, wherever plaintext could be left.
DELETED = "Gonewithwindley"      # decided "no further action": deleted after 12 months (ISA 8.1)
ANONYMISED = "Anonbyquistel"     # decided "section 17": anonymised after 300 months (ISA 8.4)
KEPT = "Keptalivermoor"          # not decided: kept
DELETED_NHS, ANONYMISED_NHS, KEPT_NHS = "4010234563", "4010234571", "4010234598"
DELETED_STREET = "7 Vanishing Row"
DELETED_BORN, ANONYMISED_BORN = "2015-03-09", "2014-07-21"
CONCERN = "Marker-c41d: the child said the kitchen door at Oakridge did it."


class Database:
    engine = "sqlite"

    def __init__(self, url: str):
        self.url = url

    @property
    def cfg(self) -> dict:
        return dj_database_url.parse(self.url)


class SqliteDatabase(Database):
    def __init__(self, path: Path):
        super().__init__(f"sqlite:///{path}")
        self.path = path

    def text(self) -> str:
        """Every row of every table, as text (to look for names)."""
        import sqlite3

        con = sqlite3.connect(self.path)
        try:
            out = []
            for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
                out += [repr(row) for row in con.execute(f'SELECT * FROM "{table}"')]
            return "\n".join(out)
        finally:
            con.close()

    def query(self, sql: str, params=()):
        import sqlite3

        con = sqlite3.connect(self.path)
        try:
            return con.execute(sql.replace("%s", "?"), params).fetchall()
        finally:
            con.close()

    def tables(self) -> int:
        if not self.path.exists():
            return 0
        return self.query("SELECT count(*) FROM sqlite_master WHERE type = 'table'")[0][0]


class PgDatabase(Database):
    engine = "postgresql"

    def __init__(self, name: str):
        cfg = connection.settings_dict
        auth = urllib.parse.quote(cfg.get("USER") or "")
        if cfg.get("PASSWORD"):
            auth += ":" + urllib.parse.quote(cfg["PASSWORD"])
        port = f":{cfg['PORT']}" if cfg.get("PORT") else ""
        super().__init__(f"postgres://{auth}@{cfg.get('HOST') or 'localhost'}{port}/{name}")
        self.name = name

    def connect(self):
        import psycopg

        from mash.backups import postgres

        return psycopg.connect(**postgres.libpq_params(connection.settings_dict, dbname=self.name))

    def text(self) -> str:
        from psycopg import sql

        with self.connect() as con:
            out = []
            for (table,) in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall():
                out += [repr(row) for row in con.execute(sql.SQL("SELECT * FROM public.{}").format(sql.Identifier(table)))]
            return "\n".join(out)

    def query(self, sql: str, params=()):
        with self.connect() as con:
            return con.execute(sql, params).fetchall()

    def tables(self) -> int:
        return self.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")[0][0]


class Databases:
    """Makes new, empty databases of the test database's engine; drops them at the end."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.made: list[str] = []

    def new(self, label: str) -> Database:
        if not ON_PG:
            return SqliteDatabase(self.folder / f"{label}.sqlite3")
        import psycopg
        from psycopg import sql

        from mash.backups import postgres

        name = f"mash_bk_{label}_{secrets.token_hex(4)}"
        admin = postgres.libpq_params(connection.settings_dict, dbname="postgres")
        with psycopg.connect(**admin, autocommit=True) as con:
            con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.made.append(name)
        return PgDatabase(name)

    def drop_all(self) -> None:
        if not self.made:
            return
        import psycopg
        from psycopg import sql

        from mash.backups import postgres

        admin = postgres.libpq_params(connection.settings_dict, dbname="postgres")
        with psycopg.connect(**admin, autocommit=True) as con:
            for name in self.made:
                con.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@dataclass
class World:
    deleted: object     # Enquiry
    anonymised: object  # Enquiry
    kept: object        # Enquiry
    due: dt.date        # when both decided enquiries are due


def three_enquiries() -> World:
    """Through the services, on whatever database the ORM points at: one enquiry decided "no further
    action", one "section 17", one not decided."""
    from mash.accounts.models import Role
    from mash.accounts.services import create_user
    from mash.cases import services as cases
    from mash.testing.world import child_data, contact_data
    from mash.core.dates import add_months
    from mash.partners import services as isa
    from mash.people import services as people
    from mash.sharing import services as sharing
    from mash.training.models import TrainingRecord

    isa.load_file(settings.MASH_ISA_FILE)
    manager = create_user(username="scratch-manager", role=Role.MASH_MANAGER, password=None, first_name="Dana",
                          last_name="Manager")
    TrainingRecord.objects.create(user=manager, course="Handling confidential information",
                                  completed_on=timezone.localdate() - dt.timedelta(days=30), evidence_reference="T-1")

    def enquiry(surname, nhs, outcome, **child):
        made = cases.record_contact(by=manager, concern=CONCERN, **{
            k: v for k, v in contact_data(child=child_data(last_name=surname, nhs_number=nhs, **child)).items()
            if k != "concern"})
        if outcome:
            cases.rate(made, by=manager, rating="amber", rationale="Injuries seen by school staff")
            sharing.request_information(made, by=manager, partners=["essex-police"], question="What do you hold?")
            receiving = {} if outcome == "no_further_action" else {"recipient_type": "social_worker",
                                                                   "receiving_team": "Assessment team"}
            cases.decide(made, by=manager, outcome=outcome, rationale="Recorded for the backup tests.", **receiving)
            # An amendment: its history (earlier details, the reason) goes with the person too.
            people.amend_person(made.child, {"other_names": "Sky"}, reason="Known as Sky at school", by=manager)
        return made

    deleted = enquiry(DELETED, DELETED_NHS, "no_further_action", address_line_1=DELETED_STREET,
                      date_of_birth=DELETED_BORN)
    anonymised = enquiry(ANONYMISED, ANONYMISED_NHS, "section_17", date_of_birth=ANONYMISED_BORN)
    kept = enquiry(KEPT, KEPT_NHS, "")
    return World(deleted, anonymised, kept, add_months(timezone.localdate(), 300))


FAULT_TEST = uuid.uuid4().hex  # in the environment of every child of `mash` subprocesses, to find them


def mash(args: list[str], db, tmp_path: Path, fault: str | None = None) -> subprocess.CompletedProcess:
    """`mash ARGS` against `db` in a subprocess (its own var/ and $TMPDIR), killed at `fault`."""
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": os.pathsep.join(sys.path),
           "DJANGO_SETTINGS_MODULE": "mash.settings", "MASH_DATABASE_URL": db.url,
           "MASH_VAR_DIR": str(tmp_path / "var"), "TMPDIR": str(tmpdir),
           "MASH_KEY_FILE": settings.MASH_KEY_FILE, "MASH_SHRED_REGISTER": settings.MASH_SHRED_REGISTER,
           "MASH_DISPOSAL_REGISTER": settings.MASH_DISPOSAL_REGISTER,
           "MASH_AUDIT_SIGNING_KEY_FILE": settings.MASH_AUDIT_SIGNING_KEY_FILE,
           "MASH_FAULT_TEST": FAULT_TEST}
    if fault:
        env["MASH_FAULT_POINT"] = fault
    cli = [sys.executable, "-c", "import sys; from mash.cli import main; main(['mash', *sys.argv[1:]])", *args]
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120)
    if fault:
        assert done.returncode == -signal.SIGKILL, (fault, done.returncode, done.stdout, done.stderr[-2000:])
    else:
        assert done.returncode == 0, (args, done.stdout, done.stderr[-2000:])
    return done
