"""The JSON API's answers are its schemas reading the selectors' view objects (docs/architecture.md): no
api.py builds an answer by hand as a dict, where a field could be added past the gate's view unnoticed."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2]


def _answers(node) -> bool:
    """An operation (decorated by its router) or a function named as an answer builder (`..._out`)."""
    routed = any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and isinstance(d.func.value, ast.Name)
                 and d.func.value.id == "router" for d in node.decorator_list)
    return routed or node.name.endswith("_out")


def dict_builders(source: str) -> list[str]:
    """Operations and `..._out` functions that return a dict display ({...} with keys) they build: an answer
    written out by hand."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _answers(node):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and isinstance(inner.value, ast.Dict) and len(inner.value.keys) > 2:
                    found.append(f"{node.name} (line {node.lineno})")
                    break
    return found


def test_no_api_module_builds_its_answers_as_dicts():
    builders = {str(p.relative_to(SRC)): dict_builders(p.read_text()) for p in sorted(SRC.glob("*/api.py"))}
    assert len(builders) > 8
    assert {path: found for path, found in builders.items() if found} == {}


def test_a_hand_written_answer_is_found():
    assert dict_builders("def request_out(r):\n    return {'id': r.pk, 'partner': r.partner, 'status': r.status}\n") \
        == ["request_out (line 1)"]
    assert dict_builders("@router.get('/x')\ndef op(request):\n    return {'a': 1, 'b': 2, 'c': 3}\n") == ["op (line 2)"]
    assert dict_builders("def ok(r):\n    return {'detail': 'x'}\n") == []
    assert dict_builders("def _args(p):\n    return {'a': p.a, 'b': p.b, 'c': p.c}\n") == []
