"""`mash keys rotate` killed with SIGKILL at each step (after writing the new keyring, inside a re-wrap
batch, after a batch committed) leaves every data key opening; a second run completes, and
`mash audit verify` passes. Each run is a real `mash` process on a database of its own: SQLite in the
SQLite pass, a fresh PostgreSQL database (copied from a migrated template) in the PostgreSQL pass."""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

SRC = Path(__file__).resolve().parents[3]
PEOPLE = 25  # data keys; re-wrapped 10 to a batch, so a kill can land between batches

MAKE_DATA = f"""
import json
from mash.keys import services
from mash.audit import services as audit
from mash.audit.models import Kind
tokens = {{}}
with services.key_cache():
    for person in range(1, {PEOPLE} + 1):
        tokens[person] = services.encrypt(f"note about person {{person}}", table="t", column="c", row=person,
                                          person_id=person)
audit.record(Kind.ADMIN, "made test data", username="test")
print(json.dumps(tokens))
"""

READ_BACK = """
import json, sys
from mash.keys import services, keyring
from mash.keys.models import PersonKey
tokens = json.loads(sys.stdin.read())
opened = {}
for person, token in tokens.items():
    services.forget_cached_keys()
    opened[person] = services.decrypt(token, table="t", column="c", row=int(person), person_id=int(person))
print(json.dumps({"opened": opened, "current": keyring.load().current, "keys": sorted(keyring.load().keys),
                  "masters": sorted(set(PersonKey.objects.values_list("master_key_id", flat=True)))}))
"""


ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]


def _pg(statement: str) -> None:
    import psycopg

    db = settings.DATABASES["default"]
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"] or None,
                         dbname="postgres", autocommit=True) as conn:
        conn.execute(statement)


def _pg_url(name: str) -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{name}"


def run(var: Path, *args, fault: str = "", stdin: str = "", check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASH_") and k != "DJANGO_SETTINGS_MODULE"}
    env.update(PYTHONPATH=str(SRC), MASH_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="mash.settings")
    database = var / "database-url"
    if database.exists():
        env["MASH_DATABASE_URL"] = database.read_text()
    if fault:
        env["MASH_FAULT_POINT"] = fault
    proc = subprocess.run([sys.executable, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def django(var: Path, code: str, stdin: str = "") -> dict:
    script = "import django; django.setup()\n" + code
    return json.loads(run(var, "-c", script, stdin=stdin).stdout)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """A migrated database with its keyring (made by the first migrate) and data keys; copied per test."""
    var = tmp_path_factory.mktemp("rotate-template")
    template = f"{settings.DATABASES['default']['NAME']}_rotate_{os.getpid()}"
    if ON_POSTGRES:
        _pg(f'DROP DATABASE IF EXISTS "{template}"')
        _pg(f'CREATE DATABASE "{template}"')
        (var / "database-url").write_text(_pg_url(template))
    run(var, "-m", "mash", "migrate", "--noinput", "-v", "0")
    tokens = run(var, "-c", "import django; django.setup()\n" + MAKE_DATA).stdout
    (var / "tokens.json").write_text(tokens)
    (var / "before.json").write_text(json.dumps(django(var, READ_BACK, tokens)))
    yield var
    if ON_POSTGRES:
        _pg(f'DROP DATABASE IF EXISTS "{template}"')


@pytest.fixture
def copy(migrated, tmp_path):
    """The template's keyring, tokens and database, for one test."""
    var = tmp_path / "var"
    shutil.copytree(migrated, var)
    if ON_POSTGRES:
        name = f"{migrated.joinpath('database-url').read_text().rsplit('/', 1)[1]}_{tmp_path.name[-12:]}".lower()
        name = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
        _pg(f'DROP DATABASE IF EXISTS "{name}"')
        _pg(f'CREATE DATABASE "{name}" TEMPLATE "{migrated.joinpath("database-url").read_text().rsplit("/", 1)[1]}"')
        (var / "database-url").write_text(_pg_url(name))
        yield var
        _pg(f'DROP DATABASE IF EXISTS "{name}"')
    else:
        yield var


@pytest.mark.parametrize("fault", ["keys.rotate.after_keyring", "keys.rotate.in_batch", "keys.rotate.after_batch"])
def test_a_rotation_killed_at_any_step_loses_no_data_key_and_a_rerun_completes(copy, fault):
    var = copy
    tokens = (var / "tokens.json").read_text()
    before = json.loads((var / "before.json").read_text())
    assert len(before["opened"]) == PEOPLE and before["masters"] == [before["current"]]

    killed = run(var, "-m", "mash", "keys", "rotate", "--batch", "10", fault=fault, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    after_kill = django(var, READ_BACK, tokens)
    assert after_kill["opened"] == before["opened"]  # every data key still opens
    assert before["current"] in after_kill["keys"] and len(after_kill["keys"]) == 2  # the new key was written first
    if fault == "keys.rotate.after_batch":
        assert len(after_kill["masters"]) == 2  # half re-wrapped: both master keys in use

    run(var, "-m", "mash", "keys", "rotate", "--batch", "10")
    done = django(var, READ_BACK, tokens)
    assert done["opened"] == before["opened"]
    assert done["masters"] == [done["current"]] and len(done["keys"]) == 3
    verify = run(var, "-m", "mash", "audit", "verify", check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
