import pytest


@pytest.fixture(autouse=True)
def own_disposal_register(settings, tmp_path):
    """Each backup test its own disposal register: the session's holds the enquiry ids of other tests'
    retention runs, which a restore here would otherwise dispose of again."""
    settings.MASH_DISPOSAL_REGISTER = str(tmp_path / "registers" / "disposals")
    return settings.MASH_DISPOSAL_REGISTER


@pytest.fixture
def databases(tmp_path):
    """New, empty databases of the test database's engine, dropped afterwards (scratch.py)."""
    from mash.backups.tests import scratch

    made = scratch.Databases(tmp_path)
    yield made
    made.drop_all()


@pytest.fixture
def live(databases, tmp_path):
    """A database of the test's own with three enquiries (scratch.py), the ORM pointed at it: the
    services' audit events go there, not into the test database (whose audit log cannot be emptied)."""
    from mash.backups import services
    from mash.backups.tests import scratch

    schema = tmp_path / "schema.backup"
    services.backup(schema)  # the test database: the schema, no rows of ours
    schema_db = databases.new("live")
    services.restore(schema, database_url=schema_db.url)
    schema.unlink()
    with services._orm_on(schema_db.cfg):
        yield schema_db, scratch.three_enquiries()
