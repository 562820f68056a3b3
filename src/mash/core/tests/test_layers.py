"""The layers of docs/architecture.md hold: the import-linter contracts in pyproject.toml are kept, and no
module imports (however indirectly) a module that imports it back. Imports inside functions count."""

from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[4]


def _is_code(module: str) -> bool:
    parts = module.split(".")
    return not ({"tests", "migrations", "testing"} & set(parts)) and parts[-1] != "conftest"


def import_circles(graph) -> list[list[str]]:
    """Every group of modules that import one another round a circle (Tarjan's strongly connected components)."""
    modules = sorted(m for m in graph.modules if _is_code(m))
    known = set(modules)
    index, low, stack, on_stack, circles = {}, {}, [], set(), []
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & known)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child) & known))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    circles.append(sorted(group))
    return circles


def test_no_module_imports_one_that_imports_it_back():
    assert import_circles(grimp.build_graph("mash", cache_dir=None)) == []


def test_the_circle_finder_finds_a_circle():
    graph = grimp.ImportGraph()
    for name in ("mash.a", "mash.b", "mash.c", "mash.tests.d"):
        graph.add_module(name)
    graph.add_import(importer="mash.a", imported="mash.b")
    graph.add_import(importer="mash.b", imported="mash.a")
    graph.add_import(importer="mash.c", imported="mash.a")
    graph.add_import(importer="mash.tests.d", imported="mash.c")
    graph.add_import(importer="mash.c", imported="mash.tests.d")
    assert import_circles(graph) == [["mash.a", "mash.b"]]


def test_the_layers_contracts_are_kept(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    status = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    assert status == 0, capsys.readouterr().out
