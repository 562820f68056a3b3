"""House rules (issue 19): no module over 600 lines and no function over 60 lines in src/mash.

Migrations, tests (every `tests/` folder and `conftest.py`) are not counted; nor are the functions of
`mash demo` (a command module named `demo.py`), which writes out a whole synthetic hub step by step.
A module's lines are its lines of text; a function's run from its `def` to its last line, its nested
functions included. The test names every offender, so that one run says all there is to split.
"""

import ast
from pathlib import Path

import mash

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60

SOURCE = Path(mash.__file__).resolve().parent


def _counted(path: Path) -> bool:
    parts = path.relative_to(SOURCE).parts
    return "migrations" not in parts and "tests" not in parts and path.name != "conftest.py"


def _is_demo_command(path: Path) -> bool:
    return path.name == "demo.py" and path.parent.name == "commands" and path.parent.parent.name == "management"


def _modules() -> list[Path]:
    return sorted(path for path in SOURCE.rglob("*.py") if _counted(path))


def _long_functions(path: Path, tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{path.relative_to(SOURCE.parent)}:{node.lineno} {node.name}() is {length} lines")
    return found


def test_the_walk_finds_the_code():
    modules = _modules()
    assert any(path.name == "services.py" for path in modules)
    assert not any("migrations" in path.parts or "tests" in path.parts for path in modules)


def test_no_module_is_over_600_lines():
    long = []
    for path in _modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            long.append(f"{path.relative_to(SOURCE.parent)} is {lines} lines")
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by what they do):\n" + "\n".join(long)


def test_no_function_is_over_60_lines():
    long = []
    for path in _modules():
        if _is_demo_command(path):
            continue
        long += _long_functions(path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    assert not long, (f"functions over {MAX_FUNCTION_LINES} lines (break them into named steps):\n"
                      + "\n".join(long))
