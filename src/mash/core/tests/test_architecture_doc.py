"""docs/architecture.md is where a newcomer finds where things live: every file it names exists, and every
module, function or class it names by a dotted name can be imported. A move that leaves the page behind fails
here, naming what it no longer finds."""

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
SRC = ROOT / "src" / "mash"
PAGE = ROOT / "docs" / "architecture.md"
PACKAGES = {p.name for p in SRC.iterdir() if (p / "__init__.py").exists()}


def named_files(text: str) -> set[str]:
    return {m for m in re.findall(r"`([a-z_]+(?:/[a-z_]+)*\.py)`", text) if "/" in m}


def dotted_names(text: str) -> set[str]:
    found = set()
    for name in re.findall(r"`((?:mash\.)?[a-z_]+(?:\.[A-Za-z_]+)+)`", text):
        first = name.removeprefix("mash.").split(".")[0]
        if first in PACKAGES:
            found.add(name if name.startswith("mash.") else f"mash.{name}")
    return found


def resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 1, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def test_every_file_the_page_names_exists():
    text = PAGE.read_text()
    assert len(named_files(text)) > 10
    missing = sorted(f for f in named_files(text) if not (SRC / f).exists())
    assert missing == [], f"docs/architecture.md names files that are not in src/mash: {missing}"


def test_every_dotted_name_the_page_gives_can_be_imported():
    text = PAGE.read_text()
    assert "mash.cases.history.transition" in dotted_names(text)
    missing = sorted(n for n in dotted_names(text) if not resolves(n))
    assert missing == [], f"docs/architecture.md names what the code no longer has: {missing}"


def test_the_check_notices_a_name_that_is_gone():
    assert resolves("mash.access.gate.require")
    assert not resolves("mash.access.gate.no_such_function")
    assert not resolves("mash.access.policy.require")
