"""The master keyring never forks: it is made only by an explicit step, and with data keys in the
database a missing or wrong keyring stops the application and every command, naming the key id and
where it looked. Nothing is ever wrapped under a keyring the database's data keys do not open."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mash import cli
from mash.cases import services as cases
from mash.cases.models import Contact
from mash.keys import checks, keyring
from mash.keys.models import PersonKey
from mash.testing.world import child_data, contact_data

SRC = Path(__file__).resolve().parents[3]


@pytest.fixture
def elsewhere(tmp_path, settings):
    """Point MASH_KEY_FILE somewhere else for one test (the session's keyring stays where it is)."""
    def point(name="ring.json") -> Path:
        path = tmp_path / name
        settings.MASH_KEY_FILE = str(path)
        keyring._loaded.clear()
        return path

    yield point
    keyring._loaded.clear()


@pytest.fixture
def data_keys(new_enquiry):
    masters = set(PersonKey.objects.values_list("master_key_id", flat=True))
    assert len(masters) == 1 and PersonKey.objects.exists()
    return masters.pop()


@pytest.mark.django_db
def test_a_missing_keyring_with_data_keys_present_is_refused_naming_the_key_and_the_path(data_keys, elsewhere,
                                                                                        capsys, manager):
    path = elsewhere("missing.json")
    with pytest.raises(checks.KeyringMismatch) as refused:
        checks.require()
    message = str(refused.value)
    assert data_keys in message and str(path) in message and "no master keyring" in message
    # The web application refuses to start, and so does every command but the few that say what is wrong.
    with pytest.raises(checks.KeyringMismatch, match=data_keys):
        checks.refuse_to_serve()
    with pytest.raises(SystemExit) as exited:
        cli.main(["mash", "isa", "list"])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert data_keys in err and str(path) in err
    # `keys init` will not make a new keyring beside them, and `migrate` will not either.
    with pytest.raises(CommandError, match=data_keys):
        call_command("keys", "init")
    with pytest.raises(CommandError, match=f"{data_keys}.*no master keyring"):
        call_command("keys", "status")
    with pytest.raises(checks.KeyringMismatch, match=data_keys):
        checks.first_migrate(sender=None)
    assert not path.exists()
    # The old records cannot be read and no new person gets a key: nothing is written under a new key.
    before = PersonKey.objects.count()
    with pytest.raises(keyring.KeyringError):
        cases.record_contact(by=manager, **contact_data(child=child_data(first_name="Ash", nhs_number="")))
    assert PersonKey.objects.count() == before and not path.exists()


@pytest.mark.django_db
def test_a_wrong_keyring_is_refused_and_nothing_is_written_under_it(data_keys, elsewhere, capsys, manager):
    path = elsewhere("other-installation.json")
    other = keyring.create()
    assert other.current != data_keys
    with pytest.raises(checks.KeyringMismatch) as refused:
        checks.require()
    assert data_keys in str(refused.value) and str(path) in str(refused.value)
    assert "not in the keyring" in str(refused.value)
    with pytest.raises(SystemExit):
        cli.main(["mash", "demo"])
    assert data_keys in capsys.readouterr().err
    with pytest.raises(CommandError, match=data_keys):
        call_command("keys", "init")
    with pytest.raises(CommandError, match=data_keys):
        call_command("keys", "rotate")
    with pytest.raises(CommandError, match=f"{data_keys}.*not in the keyring"):
        call_command("keys", "status")  # it shows the keyring, then says what does not match
    assert keyring.load().keys.keys() == {other.current}  # rotate added nothing
    # A new person's key would be wrapped under the wrong keyring: refused, and the contact is not kept.
    contacts = Contact.objects.count()
    with pytest.raises(checks.KeyringMismatch):
        cases.record_contact(by=manager, **contact_data(child=child_data(first_name="Ash", nhs_number="")))
    assert not PersonKey.objects.filter(master_key_id=other.current).exists()
    assert Contact.objects.count() == contacts


@pytest.mark.django_db
def test_a_keyring_whose_key_has_the_right_name_but_opens_nothing_is_refused(data_keys, elsewhere):
    path = elsewhere("altered.json")
    keyring.write(path, data_keys, {data_keys: os.urandom(keyring.KEY_BYTES)})
    with pytest.raises(checks.KeyringMismatch, match=f"{data_keys} in the keyring .*{path}.* does not open"):
        checks.require()


@pytest.mark.django_db
def test_the_right_keyring_passes_and_init_says_there_is_nothing_to_do(data_keys, capsys):
    assert checks.problems() == []
    checks.refuse_to_serve()
    call_command("keys", "init")
    assert "nothing to do" in capsys.readouterr().out
    assert cli._checked(["mash", "demo"]) and cli._checked(["mash", "keys", "rotate"])
    assert not any(cli._checked(["mash", *args]) for args in (["keys", "init"], ["keys", "status"], ["check"],
                                                                ["help"], ["--help"], ["restore", "f"], []))


@pytest.mark.django_db
def test_a_fresh_empty_database_gets_a_keyring_from_init_or_its_first_migrate(elsewhere, capsys):
    assert not PersonKey.objects.exists()
    path = elsewhere("fresh.json")
    with pytest.raises(checks.KeyringMismatch, match="no master keyring.*keys init"):
        checks.refuse_to_serve()  # nothing would be served without one
    call_command("keys", "init")
    assert path.exists() and "Made a new master keyring" in capsys.readouterr().out
    made = json.loads(path.read_text())
    call_command("keys", "init")  # idempotent
    assert json.loads(path.read_text()) == made and "nothing to do" in capsys.readouterr().out
    checks.refuse_to_serve()
    # The first migrate of an empty database makes one the same way.
    second = elsewhere("by-migrate.json")
    checks.first_migrate(sender=None, stdout=sys.stdout)
    assert second.exists() and json.loads(second.read_text())["current"] in capsys.readouterr().out


@pytest.mark.django_db
def test_the_check_framework_reports_it_for_migrate(data_keys, elsewhere):
    elsewhere("missing.json")
    errors = checks.keyring_matches_database(databases=["default"])
    assert [e.id for e in errors] == ["keys.E001"] and data_keys in errors[0].msg


def test_the_web_application_refuses_to_start_without_a_keyring(tmp_path):
    """gunicorn and runserver load mash.wsgi: without a keyring the import fails, so nothing is served."""
    env = {**os.environ, "MASH_VAR_DIR": str(tmp_path), "MASH_KEY_FILE": str(tmp_path / "none.json"),
           "PYTHONPATH": str(SRC), "DJANGO_SETTINGS_MODULE": "mash.settings"}
    env.pop("MASH_DATABASE_URL", None)
    env.pop("MASH_MASTER_KEYS", None)
    proc = subprocess.run([sys.executable, "-c", "import mash.wsgi"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode != 0
    assert "refuses to start" in proc.stderr and str(tmp_path / "none.json") in proc.stderr


def test_a_keyring_from_the_environment_is_never_replaced(monkeypatch, tmp_path, settings):
    monkeypatch.setenv("MASH_MASTER_KEYS", json.dumps({"current": "mk-env", "keys": {
        "mk-env": base64.b64encode(b"\x03" * 32).decode()}}))
    settings.MASH_KEY_FILE = str(tmp_path / "unused.json")
    assert keyring.exists() and "MASH_MASTER_KEYS" in keyring.where_it_looks()
    keyring._loaded.clear()
