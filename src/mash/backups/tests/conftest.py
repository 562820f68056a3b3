import pytest


@pytest.fixture(autouse=True)
def own_disposal_register(settings, tmp_path):
    """Each backup test its own disposal register: the session's holds the enquiry ids of other tests'
    retention runs, which a restore here would otherwise dispose of again."""
    settings.MASH_DISPOSAL_REGISTER = str(tmp_path / "registers" / "disposals")
    return settings.MASH_DISPOSAL_REGISTER


@pytest.fixture
def databases(tmp_path):
    """New, empty databases of the test database's engine, dropped afterwards (mash.testing.scratch)."""
    from mash.testing import scratch

    made = scratch.Databases(tmp_path)
    yield made
    made.drop_all()


@pytest.fixture(scope="session")
def schema_backup(django_db_setup, django_db_blocker, tmp_path_factory):
    """The test database's schema, backed up once per session (outside any test's transaction)."""
    from mash.backups import services

    path = tmp_path_factory.mktemp("schema") / "schema.backup"
    with django_db_blocker.unblock():
        services.backup(path)
    return path


@pytest.fixture
def live(databases, schema_backup):
    """A database of the test's own with three enquiries (mash.testing.scratch), the ORM pointed at it: the
    services' audit events go there, not into the test database (whose audit log cannot be emptied),
    and the test itself need not be transactional (no flush afterwards)."""
    from mash.backups import engines, services
    from mash.testing import scratch

    db = databases.new("live")
    services.restore(schema_backup, database_url=db.url)
    with engines.orm_on(db.cfg):
        yield db, scratch.three_enquiries()
