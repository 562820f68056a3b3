"""`mash backup` and `mash restore`: encrypted, complete, refusing what they must (docs/backups.md).

Backups need committed data (SQLite's backup API and pg_dump read outside the test's transaction),
so these tests are transactional. Like `cases/tests/test_postgres.py` they flush every app but the
audit log, whose triggers refuse it; the rows here are made through the ORM, which writes no audit
events, so nothing is left behind. Every test runs on SQLite and again on PostgreSQL, restoring
into a fresh database of the same engine (a file under tmp_path, or a new PostgreSQL database).
"""

import io
import json
import os
import secrets
import sqlite3
import stat
import struct
import urllib.parse
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from mash.accounts.models import Role, User
from mash.backups import fileformat, postgres
from mash.cases.models import Contact
from mash.keys import keyring
from mash.keys import services as keys
from mash.keys.models import PersonKey
from mash.people.models import Person

ON_PG = "postgresql" in settings.DATABASES["default"]["ENGINE"]
APPS_BUT_AUDIT = [app for app in settings.INSTALLED_APPS if app != "mash.audit"]
committed = pytest.mark.django_db(transaction=True, available_apps=APPS_BUT_AUDIT)

SURNAME = "Quenbyvantrelle"  # a plain column
CONCERN = "Marker-7f3a: the child said the bruises came from the kitchen door at Oakridge."  # encrypted


# Data, backups and targets --------------------------------------------------------------------

@pytest.fixture
def data():
    user = User.objects.create(username="backup-manager", role=Role.MASH_MANAGER, first_name="Dana",
                               last_name="Manager")
    child = Person.objects.create(first_name="Rowan", last_name=SURNAME, created_by=user, town="Grays")
    sibling = Person.objects.create(first_name="Ash", last_name="Exampleton", created_by=user)
    contact = Contact.objects.create(received_at=timezone.now(), recorded_by=user, reporter_type="school",
                                     reporter_name="Pat Reporter", reporter_organisation="Sample Primary School",
                                     child=child, concern=CONCERN, concern_categories=["physical_abuse"],
                                     consent_at_intake="given")
    other = Contact.objects.create(received_at=timezone.now(), recorded_by=user, reporter_type="gp",
                                   reporter_name="Dr Example", child=sibling, concern="Missed appointments.",
                                   concern_categories=["neglect"], consent_at_intake="not_sought")
    return {"user": user, "child": child, "sibling": sibling, "contact": contact, "other": other}


def backup(path: Path) -> str:
    out = io.StringIO()
    call_command("backup", str(path), stdout=out)
    return out.getvalue()


def restore(path: Path, target, *extra) -> str:
    out = io.StringIO()
    call_command("restore", str(path), "--database-url", target.url, *extra, stdout=out)
    return out.getvalue()


def _sqlite_dump(con: sqlite3.Connection) -> dict:
    dump = {"schema": con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()}
    for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall():
        dump[table] = con.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()
    return dump


def _pg_dump(con) -> dict:
    from psycopg import sql

    dump = {
        "triggers": con.execute("SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                                "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal ORDER BY 1, 2").fetchall(),
        "functions": con.execute("SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n "
                                 "ON n.oid = p.pronamespace WHERE n.nspname = 'public' ORDER BY 1").fetchall(),
        "sequences": con.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' "
                                 "ORDER BY 1").fetchall(),
    }
    for (table,) in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").fetchall():
        dump[table] = con.execute(sql.SQL("SELECT * FROM public.{} ORDER BY 1").format(sql.Identifier(table))).fetchall()
    return dump


def source_dump() -> dict:
    """Every table's rows in the test database, read over a connection of its own."""
    if ON_PG:
        import psycopg

        with psycopg.connect(**postgres.libpq_params(connection.settings_dict)) as con:
            return _pg_dump(con)
    con = sqlite3.connect(connection.settings_dict["NAME"], uri=True)  # the in-memory database, shared cache
    try:
        return _sqlite_dump(con)
    finally:
        con.close()


class SqliteTarget:
    def __init__(self, path: Path):
        self.path = path
        self.url = f"sqlite:///{path}"

    def dump(self) -> dict:
        con = sqlite3.connect(self.path)
        try:
            return _sqlite_dump(con)
        finally:
            con.close()

    def person_key(self, person_id: int):
        con = sqlite3.connect(self.path)
        try:
            return con.execute("SELECT wrapped, shredded_at FROM keys_personkey WHERE person_id = ?",
                               [person_id]).fetchone()
        finally:
            con.close()

    def untouched(self) -> bool:
        return not self.path.exists() and not list(self.path.parent.glob(self.path.name + "*"))


class PgTarget:
    def __init__(self, name: str):
        self.name = name
        cfg = connection.settings_dict
        auth = urllib.parse.quote(cfg.get("USER") or "")
        if cfg.get("PASSWORD"):
            auth += ":" + urllib.parse.quote(cfg["PASSWORD"])
        port = f":{cfg['PORT']}" if cfg.get("PORT") else ""
        self.url = f"postgres://{auth}@{cfg.get('HOST') or 'localhost'}{port}/{name}"

    def connect(self):
        import psycopg

        return psycopg.connect(**postgres.libpq_params(connection.settings_dict, dbname=self.name))

    def dump(self) -> dict:
        with self.connect() as con:
            return _pg_dump(con)

    def person_key(self, person_id: int):
        with self.connect() as con:
            return con.execute("SELECT wrapped, shredded_at FROM keys_personkey WHERE person_id = %s",
                               [person_id]).fetchone()

    def untouched(self) -> bool:
        with self.connect() as con:
            return con.execute("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                               "WHERE n.nspname = 'public'").fetchone()[0] == 0


@pytest.fixture
def target(tmp_path):
    """A new, empty database of the test database's engine, named by URL."""
    if not ON_PG:
        yield SqliteTarget(tmp_path / "restored.sqlite3")
        return
    import psycopg
    from psycopg import sql

    name = f"mash_restore_test_{secrets.token_hex(4)}"
    admin = postgres.libpq_params(connection.settings_dict, dbname="postgres")
    with psycopg.connect(**admin, autocommit=True) as con:
        con.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield PgTarget(name)
    finally:
        with psycopg.connect(**admin, autocommit=True) as con:
            con.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def backup_file(data, tmp_path):
    path = tmp_path / "mash.backup"
    backup(path)
    return path


# 1. A backup restores to the same rows ----------------------------------------------------------

def _round_trip(data, target, tmp_path):
    path = tmp_path / "mash.backup"
    printed = backup(path)
    engine = "postgresql" if ON_PG else "sqlite"
    assert f"Backed up the {engine} database" in printed
    assert keyring.load().current in printed and str(path) in printed

    printed = restore(path, target)
    assert f"Restored the {engine} backup" in printed
    assert "0 data keys destroyed again" in printed

    before, after = source_dump(), target.dump()
    assert after == before
    for table in ("accounts_user", "people_person", "cases_contact", "keys_personkey", "django_migrations"):
        assert after[table], f"{table} should hold rows"
    # The encrypted column came back as the ciphertext it was.
    assert any(str(value).startswith("enc1:") for row in after["cases_contact"] for value in row)
    return before


@pytest.mark.skipif(ON_PG, reason="the SQLite round trip; the PostgreSQL pass runs test_postgres_round_trip")
@committed
def test_sqlite_round_trip_restores_every_row_of_every_table(data, target, tmp_path):
    dump = _round_trip(data, target, tmp_path)
    assert any(kind == "trigger" for kind, *_ in dump["schema"])  # the audit log's append-only triggers


@pytest.mark.postgres
@committed
def test_postgres_round_trip_restores_every_row_triggers_and_functions(data, target, tmp_path):
    dump = _round_trip(data, target, tmp_path)
    triggers = {name for _, name, _ in dump["triggers"]}
    assert any(t.endswith("_append_only") for t in triggers)  # the audit log
    assert any(t.endswith("_sent_is_fixed") for t in triggers)  # disclosure packages
    assert {"mash_audit_append_only", "mash_package_fixed"} <= {name for name, _ in dump["functions"]}


# 2. No plaintext in the file --------------------------------------------------------------------

@committed
def test_the_backup_holds_no_plaintext(data, backup_file):
    raw = backup_file.read_bytes()
    assert Person.objects.get(pk=data["child"].pk).last_name == SURNAME
    for marker in (SURNAME, CONCERN, "Marker-7f3a", "Oakridge", "Pat Reporter", "Sample Primary School",
                   "backup-manager", "physical_abuse"):
        assert marker.encode() not in raw, marker
        assert marker.encode("utf-16-le") not in raw, marker
    assert b"SQLite format" not in raw and b"PGDMP" not in raw
    header = json.loads(raw.split(b"\n", 1)[0])
    assert header["magic"] == "MASH-BACKUP" and header["version"] == 1
    assert header["engine"] == ("postgresql" if ON_PG else "sqlite")
    assert header["file_key"]["master_key_id"] == keyring.load().current
    assert header["migrations"]["keys"].startswith("00")
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
    assert not list(backup_file.parent.glob("*.partial"))


# 3. Altered, truncated, or under another keyring: refused, target untouched -------------------

def _payload_offset(raw: bytes) -> int:
    return raw.index(b"\n") + 1


@committed
def test_a_flipped_byte_is_refused_and_nothing_is_written(backup_file, target):
    raw = bytearray(backup_file.read_bytes())
    raw[_payload_offset(raw) + 4 + 12 + 200] ^= 0x01
    backup_file.write_bytes(raw)
    with pytest.raises(CommandError, match="was altered: chunk 0 does not decrypt"):
        restore(backup_file, target)
    assert target.untouched()


@committed
def test_an_altered_header_is_refused(backup_file, target):
    raw = backup_file.read_bytes()
    line, rest = raw.split(b"\n", 1)
    header = json.loads(line)
    header["created_at"] = "2020-01-01T00:00:00+00:00"
    backup_file.write_bytes(json.dumps(header).encode() + b"\n" + rest)
    with pytest.raises(CommandError, match="was altered"):
        restore(backup_file, target)
    assert target.untouched()


@committed
def test_a_truncated_backup_is_refused_and_nothing_is_written(backup_file, target):
    raw = backup_file.read_bytes()
    backup_file.write_bytes(raw[:-100])
    with pytest.raises(CommandError, match="is truncated"):
        restore(backup_file, target)
    assert target.untouched()


@committed
def test_a_backup_under_another_keyring_is_refused(backup_file, target, settings, tmp_path):
    master = json.loads(backup_file.read_bytes().split(b"\n", 1)[0])["file_key"]["master_key_id"]
    settings.MASH_KEY_FILE = str(tmp_path / "other-keyring" / "master-keys.json")
    keyring._loaded.clear()
    try:
        assert keyring.create().current != master  # another installation's keyring
        with pytest.raises(CommandError, match=f"master key '{master}' is not in the keyring"):
            restore(backup_file, target)
    finally:
        keyring._loaded.clear()
    assert target.untouched()


@committed
def test_a_file_that_is_no_backup_is_refused(tmp_path, target):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"just some notes\nand more\n")
    with pytest.raises(CommandError, match="is not a MASH backup"):
        restore(path, target)
    with pytest.raises(CommandError, match="no such file"):
        restore(tmp_path / "missing.backup", target)
    assert target.untouched()


@committed
def test_a_backup_of_one_engine_is_refused_by_the_other(backup_file, tmp_path):
    other = (f"sqlite:///{tmp_path / 'other.sqlite3'}" if ON_PG
             else "postgres://nobody@127.0.0.1:1/nowhere")
    with pytest.raises(CommandError, match="is a backup of a .* database and the target .* is"):
        call_command("restore", str(backup_file), "--database-url", other)
    assert not (tmp_path / "other.sqlite3").exists()


# 4. A target that is not empty ----------------------------------------------------------------

@committed
def test_restore_refuses_a_target_that_is_not_empty_unless_forced(backup_file, target, data):
    restore(backup_file, target)
    restored = target.dump()
    with pytest.raises(CommandError, match="is not empty"):
        restore(backup_file, target)
    assert target.dump() == restored

    # A later backup, forced over the first restore, replaces it.
    Person.objects.filter(pk=data["sibling"].pk).update(town="Tilbury")
    later = backup_file.with_name("later.backup")
    backup(later)
    assert "Restored" in restore(later, target, "--force")
    assert target.dump() == source_dump() != restored


# 5. Shredded stays shredded -------------------------------------------------------------------

@committed
def test_restoring_an_earlier_backup_destroys_shredded_keys_again(data, backup_file, target):
    child, sibling = data["child"].pk, data["sibling"].pk
    sibling_key = bytes(PersonKey.objects.get(person_id=sibling).wrapped)
    assert PersonKey.objects.get(person_id=child).shredded_at is None

    [shredded] = keys.shred([child])
    assert str(shredded.key_id) in keyring.shredded()
    with pytest.raises(keys.DataShredded):
        Contact.objects.get(pk=data["contact"].pk).concern

    printed = restore(backup_file, target)  # the backup still holds the child's data key
    assert "1 data keys destroyed again" in printed
    wrapped, shredded_at = target.person_key(child)
    assert bytes(wrapped) == b"" and shredded_at is not None
    # Only the register's keys: the sibling's is as it was.
    wrapped, shredded_at = target.person_key(sibling)
    assert bytes(wrapped) == sibling_key and shredded_at is None


# The file format, chunk by chunk (no database) ------------------------------------------------

def _frames(raw: bytes) -> tuple[bytes, list[bytes]]:
    at = _payload_offset(raw)
    head, frames = raw[:at], []
    while at < len(raw):
        size = struct.unpack(">I", raw[at:at + 4])[0]
        frames.append(raw[at:at + 4 + 12 + size])
        at += 4 + 12 + size
    return head, frames


@pytest.fixture
def small_chunks(monkeypatch, tmp_path):
    """A 1000-byte payload encrypted in 64-byte chunks."""
    monkeypatch.setattr(fileformat, "CHUNK", 64)
    source = tmp_path / "payload"
    source.write_bytes(os.urandom(1000))
    path = tmp_path / "small.backup"
    fileformat.encrypt_file(source, path, {"engine": "sqlite", "created_at": "2025-01-01T00:00:00+00:00"})
    return source, path


@pytest.mark.parametrize("size", [0, 64, 1000])
def test_payloads_of_any_size_come_back_whole(monkeypatch, tmp_path, size):
    monkeypatch.setattr(fileformat, "CHUNK", 64)
    source, path, out = tmp_path / "in", tmp_path / "b", tmp_path / "out"
    source.write_bytes(os.urandom(size))
    fileformat.encrypt_file(source, path, {"engine": "sqlite"})
    assert len(_frames(path.read_bytes())[1]) == max(1, -(-size // 64))
    fileformat.decrypt_file(path, out)
    assert out.read_bytes() == source.read_bytes()


def _refused(path: Path, tmp_path: Path, content: bytes, match: str):
    path.write_bytes(content)
    with pytest.raises(fileformat.BackupError, match=match):
        fileformat.decrypt_file(path, tmp_path / "out")


def test_chunks_dropped_reordered_or_added_are_refused(small_chunks, tmp_path):
    source, path = small_chunks
    head, frames = _frames(path.read_bytes())
    assert len(frames) == 16
    fileformat.decrypt_file(path, tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == source.read_bytes()

    _refused(path, tmp_path, head + b"".join(frames[:-1]), r"is truncated: it ends after chunk 14, which is not its last")
    _refused(path, tmp_path, head + b"".join(frames[:-1])[:-5], r"is truncated: chunk 14 is cut short")
    _refused(path, tmp_path, head, r"is truncated: it ends after 0 chunks")
    _refused(path, tmp_path, head + b"".join([frames[1], frames[0], *frames[2:]]), r"altered: chunk 0 does not decrypt")
    _refused(path, tmp_path, head + b"".join([*frames[:3], *frames[4:]]), r"altered: chunk 3 does not decrypt")
    _refused(path, tmp_path, head + b"".join(frames) + frames[-1], r"altered: there is data after its last chunk")
    _refused(path, tmp_path, head + b"".join(frames) + b"x", r"altered: there is data after its last chunk \(15\)")
    _refused(path, tmp_path, head + b"\xff\xff\xff\xff" + b"".join(frames), r"impossible length")


def test_a_swapped_file_key_is_refused(small_chunks, tmp_path):
    source, path = small_chunks
    other = tmp_path / "other.backup"
    fileformat.encrypt_file(source, other, {"engine": "sqlite"})
    head, frames = _frames(path.read_bytes())
    header = json.loads(head)
    header["file_key"] = json.loads(_frames(other.read_bytes())[0])["file_key"]
    _refused(path, tmp_path, json.dumps(header).encode() + b"\n" + b"".join(frames), "altered: chunk 0")
    header["file_key"]["wrapped_key"] = header["file_key"]["wrapped_key"][:-8] + "AAAAAAA="
    _refused(path, tmp_path, json.dumps(header).encode() + b"\n" + b"".join(frames), "its file key does not open")
