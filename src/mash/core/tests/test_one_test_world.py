"""One test world (docs/testing.md): no test module imports another test module or a conftest.py. What
tests share lives in mash.testing (named actors, cases, the API client, helpers), fixtures in conftest.py
files; and only tests use mash.testing."""

import ast
from pathlib import Path

import mash

SRC = Path(mash.__file__).parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_test_code(module: str) -> bool:
    """A test module, a conftest.py, or anything else under a tests package."""
    parts = module.split(".")
    return "tests" in parts or parts[-1] == "conftest"


def imported(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """Every module `source` (the text of `module`) may import, relative imports resolved, with its line:
    for `from a import b`, both `a` and `a.b` (b may be a submodule)."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def python_files():
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, module_name(path)


def test_no_test_module_imports_another_test_module():
    wrong = []
    for path, module in python_files():
        if not (is_test_code(module) or module.startswith("mash.testing")):
            continue
        for line, target in imported(path.read_text(), module, path.name == "__init__.py"):
            if target.startswith("mash.") and is_test_code(target):
                wrong.append(f"{path.relative_to(SRC.parent)}:{line} imports {target}")
    assert wrong == [], "import shared test code from mash.testing, fixtures come from conftest.py:\n" + \
        "\n".join(wrong)


def test_only_tests_use_the_test_world():
    wrong = []
    for path, module in python_files():
        if is_test_code(module) or module.startswith("mash.testing"):
            continue
        for line, target in imported(path.read_text(), module, path.name == "__init__.py"):
            if target == "mash.testing" or target.startswith("mash.testing."):
                wrong.append(f"{path.relative_to(SRC.parent)}:{line} imports {target}")
    assert wrong == [], "\n".join(wrong)


def test_the_check_sees_every_way_of_importing_a_test_module():
    source = """
import mash.sar.tests.test_sar
from mash.keys.tests.test_encryption import raw
from mash.backups.tests import scratch
from mash.conftest import PASSWORD
from .test_url_walk import all_patterns
from . import web_forms
def later():
    from mash.audit.tests.test_log import tampering
"""
    targets = [target for _, target in imported(source, "mash.sharing.tests.test_x") if is_test_code(target)]
    assert set(targets) >= {"mash.sar.tests.test_sar", "mash.keys.tests.test_encryption", "mash.backups.tests.scratch",
                            "mash.conftest", "mash.sharing.tests.test_url_walk", "mash.sharing.tests.web_forms",
                            "mash.audit.tests.test_log"}
    clean = "from mash.testing.cases import sent\nfrom mash.sharing import services\nimport pytest\n"
    assert [t for _, t in imported(clean, "mash.sharing.tests.test_x") if is_test_code(t)] == []
