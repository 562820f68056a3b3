"""Fixtures shared by every domain's tests: the ISA, one user per role, enquiries in each state.

Every person here is synthetic, made up by the fixtures themselves.
"""

import contextlib
import datetime as dt
import logging

import pytest
from django.conf import settings
from django.utils import timezone

from mash.accounts.models import Role
from mash.accounts.services import create_user
from mash.partners import services as isa_services
from mash.partners.models import Partner
from mash.training.models import TrainingRecord
from mash.training.services import REQUIRED_ROLES

PASSWORD = "correct-horse-battery-staple-42"


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` run in the PostgreSQL pass only, and say so when skipped."""
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine:
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
def isa_version(db):
    version, _ = isa_services.load_file(settings.MASH_ISA_FILE)
    return version


@pytest.fixture
def partner(isa_version):
    def get(slug: str) -> Partner:
        return Partner.objects.get(slug=slug)

    return get


@pytest.fixture
def make_user(isa_version):
    """A user of `role`. Staff who must keep a training refresher get a current one, completed 30 days
    ago, unless `trained=False` (none recorded) or `trained=<date>` (completed then)."""
    counter = {"n": 0}

    def make(role: str, partner_slug: str | None = None, **extra):
        counter["n"] += 1
        username = extra.pop("username", f"{role}-{partner_slug or 'x'}-{counter['n']}")
        trained = extra.pop("trained", True)
        user = create_user(
            username=username,
            role=role,
            password=PASSWORD,
            first_name=extra.pop("first_name", "Test"),
            last_name=extra.pop("last_name", f"User{counter['n']}"),
            partner=Partner.objects.get(slug=partner_slug) if partner_slug else None,
            **extra,
        )
        if trained is not False and role in REQUIRED_ROLES:
            completed = trained if isinstance(trained, dt.date) else timezone.localdate() - dt.timedelta(days=30)
            TrainingRecord.objects.create(user=user, course="Handling confidential information",
                                          completed_on=completed, evidence_reference=f"TEST-{counter['n']}")
        return user

    return make


@pytest.fixture
def manager(make_user):
    return make_user(Role.MASH_MANAGER, username="manager")


@pytest.fixture
def police_worker(make_user):
    return make_user(Role.MASH_WORKER, "essex-police", username="police-worker")


@pytest.fixture
def education_worker(make_user):
    return make_user(Role.MASH_WORKER, "education", username="education-worker")


@pytest.fixture
def receiving_professional(make_user):
    return make_user(Role.RECEIVING_PROFESSIONAL, username="social-worker", team="Assessment team")


def child_data(**overrides):
    data = dict(first_name="Rowan", last_name="Exampleton", date_of_birth="2016-05-04", gender="female",
                nhs_number="943 476 5919", address_line_1="1 Sample Street", town="Grays", postcode="RM17 6SL")
    data.update(overrides)
    return data


def contact_data(**overrides):
    data = dict(
        child=child_data(),
        reporter_type="school",
        reporter_name="Pat Reporter",
        reporter_organisation="Sample Primary School",
        concern="Child arrived at school with bruising on both arms and said she was afraid to go home.",
        concern_categories=["physical_abuse"],
        consent_at_intake="given",
        related_people=[dict(first_name="Morgan", last_name="Exampleton", relationship="mother",
                             lives_with_child=True, parental_responsibility=True)],
    )
    data.update(overrides)
    return data


@pytest.fixture
def new_enquiry(manager):
    from mash.cases import services

    return services.record_contact(by=manager, **contact_data())


@pytest.fixture
def rated_enquiry(new_enquiry, manager):
    from mash.cases import services

    services.rate(new_enquiry, by=manager, rating="amber", rationale="Injuries seen by school staff")
    return new_enquiry


@pytest.fixture
def asked_enquiry(rated_enquiry, manager):
    """Rated, with Essex Police and Education asked for information."""
    from mash.sharing import services

    services.request_information(rated_enquiry, by=manager, partners=["essex-police", "education"],
                                 question="What do you hold about the child and household?")
    return rated_enquiry


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
