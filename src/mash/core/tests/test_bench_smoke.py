"""Every benchmark in bench/ runs in its `--smoke` mode, so that none can rot silently (bench/README.md).

Each bench/*.py, found by name so that a new one is included without being listed, runs in a subprocess
with `--smoke`: tiny sizes, a few seconds, no figure asserted. Exit 0 means it ran and its own checks held
(right status codes, right counts, engines agreeing); anything else fails here with the script's output.
A script that does not accept `--smoke` fails by name.

Where they write: the subprocess's var/ is a temporary folder (its secret key, master keyring and audit
signing key), never the checkout's. On PostgreSQL each benchmark's database variable names a database of its
own on the test server, named after this run's database and dropped afterwards: never the test database,
and never the bench databases a developer may have named in their environment (those variables are
removed). On SQLite the variables are removed too, so a PostgreSQL-only benchmark prints
`SKIPPED: <why>` and exits 0; the test then skips, saying why. In the PostgreSQL pass nothing may skip.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[4]
SCRIPTS = sorted((ROOT / "bench").glob("*.py"))
# The variables naming the database a benchmark drops and makes again (each script's docstring says which).
BENCH_DATABASE_VARIABLES = {"MASH_BENCH_POSTGRES_URL": "", "MASH_BENCH_AUDIT_POSTGRES_URL": "_audit"}
# Files the app would otherwise keep under var/, or wherever the developer's environment says.
KEY_FILE_VARIABLES = ("MASH_KEY_FILE", "MASH_SHRED_REGISTER", "MASH_AUDIT_SIGNING_KEY_FILE",
                      "MASH_AUDIT_CHECKPOINT_FILE", "MASH_SECRET_KEY")
TIMEOUT_SECONDS = 240


def on_postgres() -> bool:
    return "postgresql" in settings.DATABASES["default"]["ENGINE"]


def bench_database_urls(script: Path) -> dict[str, str]:
    """One database per benchmark and variable, on the test server, named after this run's database."""
    parts = urlsplit(os.environ["MASH_DATABASE_URL"])
    base = re.sub(r"[^a-z0-9_]", "_", parts.path.lstrip("/").lower())[:24]
    stem = re.sub(r"[^a-z0-9_]", "_", script.stem.lower())[:24]
    return {variable: urlunsplit(parts._replace(path=f"/{base}_smoke_bench_{stem}{suffix}"))
            for variable, suffix in BENCH_DATABASE_VARIABLES.items()}


def drop_databases(urls) -> None:
    import psycopg
    from psycopg import sql

    for url in urls:
        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        assert "smoke_bench" in name, name  # only what bench_database_urls named
        with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_the_benchmarks_are_found():
    assert {p.name for p in SCRIPTS} >= {"access_gate.py", "queue_postgres.py"}, SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_benchmark_runs_in_smoke_mode(script, tmp_path):
    name = f"bench/{script.name}"
    env = {k: v for k, v in os.environ.items()
           if k not in BENCH_DATABASE_VARIABLES and k not in KEY_FILE_VARIABLES and k != "MASH_DEMO_MODE"}
    env["MASH_VAR_DIR"] = str(tmp_path / "var")
    databases = bench_database_urls(script) if on_postgres() else {}
    env.update(databases)
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, str(script), "--smoke"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{name} --smoke still running after {TIMEOUT_SECONDS} s: a smoke run takes seconds\n"
                    f"{exc.stdout or ''}{exc.stderr or ''}")
    finally:
        if databases:
            drop_databases(databases.values())
    took = time.monotonic() - started
    output = (done.stdout + done.stderr)[-6000:]
    if done.returncode != 0 and "unrecognized arguments: --smoke" in done.stderr:
        pytest.fail(f"{name} has no --smoke mode: every script in bench/ needs one, run by make test "
                    "(bench/README.md)")
    assert done.returncode == 0, f"{name} --smoke failed (exit {done.returncode}, {took:.1f} s):\n{output}"
    skipped = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED:")]
    if skipped:
        if on_postgres():
            pytest.fail(f"{name} --smoke skipped in the PostgreSQL pass, where it must run: {skipped[0]}")
        pytest.skip(f"{name} --smoke: {skipped[0].removeprefix('SKIPPED:').strip()}")
    print(f"{name} --smoke: {took:.1f} s")
