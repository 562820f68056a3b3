"""Typed settings (mash.core.config): every MASH_* name declared once, read through Django's settings,
with a clear error on a bad value and a reference in docs/settings.md that matches the declarations."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from mash.accounts.models import Role
from mash.core import config
from mash.core.vocabulary import ConsentPurpose

REPO = Path(settings.BASE_DIR)
SCANNED = [REPO / "src", REPO / "bench", REPO / "scripts", REPO / "docs", REPO / "README.md", REPO / "Makefile",
           REPO / ".ci"]
NAME = re.compile(r"MASH_[A-Z0-9_]+")
GETATTR = re.compile(r"""getattr\(\s*settings\s*,\s*["']MASH_""")
# Enum members spelled MASH_* are not settings (Role.MASH_MANAGER, ConsentPurpose.MASH_ENQUIRY, ...), and
# MASH_X is how the docs write "any setting".
NOT_SETTINGS = {m.name for m in Role if m.name.startswith("MASH_")} | {
    m.name for m in ConsentPurpose if m.name.startswith("MASH_")} | {"MASH_X"}


def _files():
    for root in SCANNED:
        paths = [root] if root.is_file() else root.rglob("*")
        for path in paths:
            if not path.is_file() or "__pycache__" in path.parts or any(p.endswith(".egg-info") for p in path.parts):
                continue
            try:
                yield path, path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue


def test_no_getattr_with_a_default_outside_tests():
    found = [f"{path.relative_to(REPO)}:{text[:m.start()].count(chr(10)) + 1}"
             for path, text in _files() if path.suffix == ".py" and "tests" not in path.parts
             and path.name != "conftest.py" for m in GETATTR.finditer(text)]
    assert not found, "read settings.MASH_X (declared in mash.core.config), not getattr with a default: " + \
        ", ".join(found)


def test_every_mash_name_used_is_declared():
    declared = config.names()
    unknown = set()
    for path, text in _files():
        for name in set(NAME.findall(text)) - NOT_SETTINGS - declared:
            # MASH_AUDIT_* in prose: a prefix that some declared name has.
            if not (name.endswith("_") and any(d.startswith(name) for d in declared)):
                unknown.add(f"{name} ({path.relative_to(REPO)})")
    assert not unknown, "declare these in mash.core.config (and regenerate docs/settings.md): " + \
        ", ".join(sorted(unknown))


def test_every_setting_named_after_its_variable_is_a_django_setting():
    for name, default in config.mash_settings(config.load({}, REPO)).items():
        assert hasattr(settings, name), name
        assert type(getattr(settings, name)) is type(default), name


def test_defaults_are_the_values_the_site_always_had():
    values = config.load({}, Path("/srv/mash"))
    assert values["MASH_VAR_DIR"] == Path("/srv/mash/var")
    assert values["MASH_DATABASE_URL"] == "sqlite:////srv/mash/var/mash.sqlite3"
    assert values["MASH_ISA_FILE"] == Path("/srv/mash/isa/mash-isa.yaml")
    assert values["MASH_KEY_FILE"] == "/srv/mash/var/master-keys.json"
    assert values["MASH_AUDIT_SIGNING_KEY_FILE"] == "/srv/mash/var/audit-signing.key"
    assert values["MASH_ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "testserver"]
    assert values["MASH_SECRET_KEY"] is None and values["MASH_CACHE_URL"] is None
    assert (values["MASH_DEMO_MODE"], values["MASH_TWO_FACTOR_REQUIRED"], values["MASH_AUDIT_SEAL_INLINE"]) == (
        False, True, True)
    assert values["MASH_ATTACHMENT_MAX_BYTES"] == 10 * 1024 * 1024
    assert values["MASH_TRAINING_REMINDER_DAYS"] == (7, 14, 30)
    assert (values["MASH_AUDIT_SEAL_GRACE_SECONDS"], values["MASH_AUDIT_CHECKPOINT_EVERY"],
            values["MASH_IDLE_TIMEOUT_MINUTES"], values["MASH_API_RATE"]) == (300, 1000, 15, "300/min")


def test_values_are_typed_and_an_empty_path_means_the_default():
    values = config.load({"MASH_VAR_DIR": "/v", "MASH_KEY_FILE": "", "MASH_AUDIT_SEAL_INLINE": "0",
                          "MASH_ATTACHMENT_MAX_MB": "2.5", "MASH_TRAINING_REMINDER_DAYS": " 7, 30,,1",
                          "MASH_SITE_URL": "https://mash.example.test/", "MASH_DEMO_MODE": "1"}, REPO)
    assert values["MASH_KEY_FILE"] == "/v/master-keys.json"
    assert values["MASH_AUDIT_SEAL_INLINE"] is False and values["MASH_TWO_FACTOR_REQUIRED"] is False
    assert values["MASH_ATTACHMENT_MAX_BYTES"] == int(2.5 * 1024 * 1024)
    assert values["MASH_TRAINING_REMINDER_DAYS"] == (1, 7, 30)
    assert values["MASH_SITE_URL"] == "https://mash.example.test"


@pytest.mark.parametrize("name, text, message", [
    ("MASH_AUDIT_SEAL_GRACE_SECONDS", "abc", 'MASH_AUDIT_SEAL_GRACE_SECONDS must be a whole number of seconds, got "abc"'),
    ("MASH_IDLE_TIMEOUT_MINUTES", "-5", 'MASH_IDLE_TIMEOUT_MINUTES must be a whole number of minutes, got "-5"'),
    ("MASH_DEBUG", "true", 'MASH_DEBUG must be 1 (on) or 0 (off), got "true"'),
    ("MASH_API_RATE", "lots", 'MASH_API_RATE must be a number of requests per period, like 300/min (s, min, h or '
                              'day), got "lots"'),
    ("MASH_ATTACHMENT_MAX_MB", "ten", 'MASH_ATTACHMENT_MAX_MB must be a number of MiB, got "ten"'),
    ("MASH_TRAINING_REMINDER_DAYS", "30,soon", 'MASH_TRAINING_REMINDER_DAYS must be whole numbers of days separated '
                                               'by commas, got "30,soon"'),
])
def test_a_bad_value_is_refused_with_the_variable_named(name, text, message):
    with pytest.raises(config.ConfigError) as caught:
        config.load({name: text}, REPO)
    assert str(caught.value) == message


def test_the_site_does_not_start_with_a_bad_value():
    env = {**os.environ, "MASH_AUDIT_CHECKPOINT_EVERY": "often", "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", "import mash.settings"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode != 0
    assert 'MASH_AUDIT_CHECKPOINT_EVERY must be a whole number of events, got "often"' in proc.stderr


def test_docs_settings_md_matches_the_declarations():
    text = (REPO / "docs" / "settings.md").read_text()
    begin = text.index("-->\n", text.index(config.BEGIN_MARK)) + len("-->\n")
    end = text.index(config.END_MARK)
    assert text[begin:end] == config.reference(), (
        "docs/settings.md is out of date: run `.venv/bin/python -m mash.core.config --write docs/settings.md`")
