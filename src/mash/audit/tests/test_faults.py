"""Crash tests: the sealer and the checkpoint killed with SIGKILL at each step lose nothing.

Each step runs in its own process against a database file (or a PostgreSQL database in the
PostgreSQL pass) with MASH_FAULT_POINT naming where it dies (mash.core.faults). Then an operator's
recovery (seal, checkpoint) runs, and every event acknowledged before the crash must be there and
sealed, none left behind the sealer, the file outside must hold every checkpoint, and
`verify --checkpoints` must pass."""

import json
import os
import shutil
import signal
import subprocess
import sys
import uuid

import psycopg
import pytest
from django.conf import settings

EVENTS_BEFORE = 37  # 25 sealed and checkpointed, then 12 acknowledged but not yet sealed

POINTS = [
    ("seal", "audit.seal.after_lock"),
    ("seal", "audit.seal.before_insert"),
    ("seal", "audit.seal.after_insert"),
    ("seal", "audit.seal.after_batch"),
    ("seal", "audit.checkpoint.after_insert"),
    ("seal", "audit.seal.after_commit"),
    ("seal", "audit.checkpoint.before_file"),
    ("checkpoint", "audit.checkpoint.after_insert"),
    ("checkpoint", "audit.checkpoint.after_commit"),
    ("checkpoint", "audit.checkpoint.before_file"),
]


def _postgres() -> bool:
    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def _server_url(name: str) -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _admin(statement: str) -> None:
    with psycopg.connect(_server_url("postgres"), autocommit=True) as conn:
        conn.execute(statement)


def _run(env: dict, *args: str, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {**env, "MASH_FAULT_POINT": fault or ""}
    return subprocess.run([sys.executable, "-m", "mash.audit.tests.fault_driver", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def _env(folder, url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MASH_", "DJANGO_"))}
    env.update(MASH_DATABASE_URL=url, MASH_AUDIT_SIGNING_KEY_FILE=str(folder / "signing.key"),
               MASH_AUDIT_CHECKPOINT_FILE=str(folder / "checkpoints.jsonl"), MASH_AUDIT_CHECKPOINT_EVERY="10",
               MASH_AUDIT_SEAL_INLINE="0", MASH_AUDIT_SEAL_GRACE_SECONDS="300", MASH_KEY_FILE=str(folder / "keys.json"),
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return env


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A migrated database with 25 events sealed and checkpointed and 12 more only recorded."""
    folder = tmp_path_factory.mktemp("audit-crash-base")
    if _postgres():
        name = f"mash_audit_crash_{uuid.uuid4().hex[:8]}"
        _admin(f"CREATE DATABASE {name}")
        url = _server_url(name)
    else:
        name, url = None, f"sqlite:///{folder / 'db.sqlite3'}"
    env = _env(folder, url)
    migrated = subprocess.run([sys.executable, "-m", "django", "migrate", "-v0"], capture_output=True, text=True,
                              env={**env, "DJANGO_SETTINGS_MODULE": "mash.settings"}, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    for args in (("record", "25"), ("seal",), ("checkpoint",), ("record", "12")):
        done = _run(env, *args)
        assert done.returncode == 0, done.stderr
    yield folder, name
    if name:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def crashable(base, tmp_path):
    """A fresh copy of the base database, key and checkpoint file for one crash."""
    folder, template = base
    for item in ("signing.key", "checkpoints.jsonl"):
        shutil.copy(folder / item, tmp_path / item)
    if template:
        name = f"{template}_{uuid.uuid4().hex[:6]}"
        _admin(f"CREATE DATABASE {name} TEMPLATE {template}")
        yield _env(tmp_path, _server_url(name))
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    else:
        shutil.copy(folder / "db.sqlite3", tmp_path / "db.sqlite3")
        yield _env(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}")


@pytest.mark.parametrize("action,point", POINTS, ids=[f"{a}:{p}" for a, p in POINTS])
def test_a_crash_loses_nothing_and_the_log_verifies(crashable, action, point):
    crashed = _run(crashable, action, fault=point)
    assert crashed.returncode == -signal.SIGKILL, f"{point} was not reached: {crashed.stderr[-2000:]}"
    checked = _run(crashable, "check")
    assert checked.returncode == 0, checked.stderr[-2000:]
    state = json.loads(checked.stdout.strip().splitlines()[-1])
    assert state["ok"], state["problems"]
    assert state["events"] == state["sealed"] == EVENTS_BEFORE + 1  # every acknowledged event, and one after
    assert state["late"] == [] and state["pending"] == 0
    assert state["file"] == state["checkpoints"] and state["checkpoints"][-1] == EVENTS_BEFORE + 1


def test_without_a_fault_point_nothing_is_killed(crashable):
    assert _run(crashable, "seal").returncode == 0
    state = json.loads(_run(crashable, "check").stdout.strip().splitlines()[-1])
    assert state["ok"] and state["sealed"] == EVENTS_BEFORE + 1


@pytest.mark.postgres
def test_the_sealer_waits_at_a_number_held_by_an_open_transaction(crashable):
    """A transaction holds event A open while B, numbered after it, commits: B is not sealed before A."""
    done = _run(crashable, "gap")
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["b"] > state["a"]
    assert state["sealed_while_open"] == 0  # B waits behind A's number
    assert state["sealed_after"] == 2 and state["order"] == [state["a"], state["b"]]
    assert state["ok"], state["problems"]
    assert state["late"] == []
