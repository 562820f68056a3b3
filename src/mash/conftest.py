"""Fixtures shared by every domain's tests, built from the test world (mash.testing, docs/testing.md):
the ISA, named actors, enquiries in each state and the named cases.

Every person here is synthetic, made up by the fixtures themselves.
"""

import contextlib
import logging
import os
import zlib

import pytest
from django.conf import settings

from mash.testing import cases
from mash.testing.world import World


# Tests whose code takes a different path on each engine, or that run SQL written by hand, a database's
# triggers or a subprocess against the engine: with the engine split on, they run in both passes.
BOTH_ENGINES = (
    "src/mash/audit/tests/",          # triggers, the sealer's and verifier's SQL, crash tests
    "src/mash/backups/tests/",        # SQLite's backup API against pg_dump/pg_restore
    "src/mash/core/tests/test_bench_smoke.py",
    "src/mash/people/tests/test_matching.py",    # candidate lookup through the key index
    "src/mash/people/tests/test_duplicates.py",  # the self-join written in SQL
)


def _one_engine(nodeid: str) -> str:
    """The pass an engine-independent test runs in, by a stable hash of its id: about half each."""
    return "postgresql" if zlib.crc32(nodeid.encode()) % 2 else "sqlite"


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` run in the PostgreSQL pass only, and say so when skipped. With
    MASH_TEST_ENGINE_SPLIT=1 (scripts/test-all sets it when both passes run) every other test runs in one
    pass only, except those under BOTH_ENGINES: docs/decisions/0006-tests-on-two-workers.md."""
    engine = "postgresql" if "postgresql" in settings.DATABASES["default"]["ENGINE"] else "sqlite"
    if os.environ.get("MASH_TEST_ENGINE_SPLIT") == "1":
        other = pytest.mark.skip(reason=f"engine split: runs in the {'SQLite' if engine == 'postgresql' else 'PostgreSQL'} "
                                        "pass (MASH_TEST_ENGINE_SPLIT=0 runs it in both)")
        for item in items:
            path = item.nodeid.replace("\\", "/")
            path = path if path.startswith("src/") else "src/mash/" + path.split("mash/", 1)[-1]
            if "postgres" in item.keywords or path.startswith(BOTH_ENGINES) or "/journeys/" in path:
                continue
            if _one_engine(item.nodeid) != engine:
                item.add_marker(other)
    if engine == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the PostgreSQL pass of `make test` (MASH_DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def audit_signing_key(tmp_path_factory):
    """Tests sign audit checkpoints with a key of their own, never one under var/."""
    path = tmp_path_factory.mktemp("audit") / "signing.key"
    settings.MASH_AUDIT_SIGNING_KEY_FILE = str(path)
    return path


@pytest.fixture(autouse=True, scope="session")
def master_keyring(tmp_path_factory):
    """Tests encrypt under a master keyring of their own, never var/'s, made here explicitly (as
    `mash keys init` would): nothing makes a keyring on first use."""
    from mash.keys import keyring

    folder = tmp_path_factory.mktemp("keys")
    settings.MASH_KEY_FILE = str(folder / "master-keys.json")
    settings.MASH_SHRED_REGISTER = str(folder / "shredded-keys")
    keyring.create()
    return folder


@pytest.fixture
def log_lines():
    """`with log_lines(level) as lines:` every line any logger writes meanwhile, at `level` and up (the
    root logger's level is lowered for the while and put back)."""

    @contextlib.contextmanager
    def capture(level: int = logging.DEBUG):
        lines: list[str] = []

        class Collect(logging.Handler):
            def emit(self, record):
                lines.append(self.format(record))

        root, handler = logging.getLogger(), Collect(level=logging.DEBUG)
        previous = root.level
        root.addHandler(handler)
        root.setLevel(level)
        try:
            yield lines
        finally:
            root.removeHandler(handler)
            root.setLevel(previous)

    return capture


@pytest.fixture
def world(db) -> World:
    """This test's world (mash.testing.world): the ISA loaded, named actors made on first use."""
    return World()


@pytest.fixture
def isa_version(world):
    return world.isa_version


@pytest.fixture
def partner(world):
    return world.partner


@pytest.fixture
def make_user(world):
    """world.make_user: a user of `role`, trained unless `trained=False` or `trained=<date>`."""
    return world.make_user


# The named actors tests ask for most (any other: world.user(name), see mash.testing.world.ACTORS).

@pytest.fixture
def manager(world):
    return world.user("manager")


@pytest.fixture
def police_worker(world):
    return world.user("police_worker")


@pytest.fixture
def education_worker(world):
    return world.user("education_worker")


@pytest.fixture
def receiving_professional(world):
    return world.user("receiving_professional")


@pytest.fixture
def council_worker(world):
    """Thurrock Council's MASH worker, of the MASH team (assigned to enquiries)."""
    return world.user("council_worker")


@pytest.fixture
def dpo(world):
    return world.user("dpo")


# Enquiries in their first states, and the named cases of mash.testing.cases.

@pytest.fixture
def new_enquiry(world):
    return world.new_enquiry()


@pytest.fixture
def rated_enquiry(world, new_enquiry):
    return world.rate(new_enquiry)


@pytest.fixture
def asked_enquiry(world, rated_enquiry):
    """Rated, with Essex Police and Education asked for information."""
    return world.ask(rated_enquiry)


@pytest.fixture
def decided_case(world, asked_enquiry):
    """Decided (section 17, to the receiving professional) after Essex Police, Education and the GPs
    shared normal, restricted, sealed and confidential items (cases.decided_case)."""
    return cases.decided_case(world, asked_enquiry)


@pytest.fixture
def full_case(world, asked_enquiry):
    """Every kind of record about Rowan and her mother, a package sent (cases.full_case)."""
    return cases.full_case(world, asked_enquiry)


@pytest.fixture
def case_with_files(world, asked_enquiry):
    """Police items at three levels and Education's held information, each with a PDF; a council
    worker assigned (cases.case_with_files)."""
    return cases.case_with_files(world, asked_enquiry)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is slow on purpose; tests that are not about hashing use a fast hasher.
    # accounts/tests/test_users.py proves argon2 is what the real settings use.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _signed_in_with_password_only(settings):
    # Most tests sign in with force_login, which has no second factor: two-factor sign-in is switched
    # off for them. accounts/tests/test_two_factor.py and the browser journeys switch it back on.
    settings.MASH_TWO_FACTOR_REQUIRED = False


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # API rate-limit counters live in the cache; each test starts with none counted.
    from django.core.cache import cache

    cache.clear()
