"""The step registry (mash.cases.steps): every step declared once, completely, and taken by a service."""

import ast
from pathlib import Path

import pytest

from mash.access.rules import ACTIONS
from mash.cases import steps
from mash.cases.states import EnquiryState
from mash.core.errors import InvalidTransition

SRC = Path(steps.__file__).resolve().parents[1]


def _steps_taken() -> dict[str, list[str]]:
    """Each step name passed as a literal to `transition(enquiry, "<name>", ...)` in a domain's services, and where."""
    taken: dict[str, list[str]] = {}
    for path in sorted([*SRC.glob("*/services.py"), *SRC.glob("*/services/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            action = node.args[1]
            if name == "transition" and isinstance(action, ast.Constant) and isinstance(action.value, str):
                taken.setdefault(action.value, []).append(f"{path.relative_to(SRC)}:{node.lineno}")
    return taken


def test_every_step_is_declared_once():
    names = [s.name for s in steps.STEPS] + [steps.OPENING.name]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("step", steps.STEPS, ids=lambda s: s.name)
def test_every_step_is_declared_completely(step):
    assert step.label.strip() and step.history.strip()
    assert step.action in ACTIONS, f"{step.name}: no access rule for '{step.action}'"
    assert step.changes, f"{step.name}: the audit event would name nothing it changes"
    assert step.moves, f"{step.name}: no state allows it"
    assert set(step.moves) | set(step.moves.values()) <= set(EnquiryState.values)


def test_the_opening_step_is_not_a_move():
    assert steps.OPENING.label and steps.OPENING.history == "Contact recorded"
    assert not steps.OPENING.moves
    with pytest.raises(InvalidTransition, match="Unknown action"):
        steps.step(steps.OPENING.name)


def test_every_step_is_taken_by_a_service():
    """A cheap, static check: each declared step is named in a call to cases.history.transition in some
    domain's services, and no service takes a step the registry does not declare."""
    taken = _steps_taken()
    assert set(taken) == {s.name for s in steps.STEPS}, taken


def test_history_labels_come_from_the_registry():
    assert steps.history_label("decide") == "Decision recorded"
    assert steps.history_label("record_contact") == "Contact recorded"
    assert steps.history_label("some_old_action") == "some old action"


def test_offered_steps_keep_the_registry_order():
    assert [s.name for s in steps.offered_in(EnquiryState.GATHERING)] == [
        "rate", "request_information", "contribute", "mark_ready", "decide", "assign", "end_assignment"]
