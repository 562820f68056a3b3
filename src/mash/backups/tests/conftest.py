import pytest


@pytest.fixture(autouse=True)
def own_disposal_register(settings, tmp_path):
    """Each backup test its own disposal register: the session's holds the enquiry ids of other tests'
    retention runs, which a restore here would otherwise dispose of again."""
    settings.MASH_DISPOSAL_REGISTER = str(tmp_path / "registers" / "disposals")
    return settings.MASH_DISPOSAL_REGISTER
