import itertools

import pytest

from mash.cases import services
from mash.cases.states import EnquiryState, allowed_actions, next_state
from mash.cases.steps import STEPS
from mash.core.errors import DomainError, InvalidTransition
from mash.sharing import services as sharing

EXPECTED = {
    ("awaiting_rating", "rate"): "gathering",
    ("gathering", "rate"): "gathering",
    ("ready_for_decision", "rate"): "ready_for_decision",
    ("gathering", "request_information"): "gathering",
    ("ready_for_decision", "request_information"): "gathering",
    ("gathering", "contribute"): "gathering",
    ("ready_for_decision", "contribute"): "ready_for_decision",
    ("gathering", "mark_ready"): "ready_for_decision",
    ("gathering", "decide"): "decided",
    ("ready_for_decision", "decide"): "decided",
    ("decided", "amend_decision"): "decided",
    ("decided", "close"): "closed",
}
# Steps kept in the history that leave the state as it is.
for _state in ("awaiting_rating", "gathering", "ready_for_decision", "decided"):
    EXPECTED[(_state, "assign")] = _state
for _state in ("awaiting_rating", "gathering", "ready_for_decision", "decided", "closed"):
    EXPECTED[(_state, "end_assignment")] = _state
for _state in ("gathering", "ready_for_decision", "decided", "closed"):
    EXPECTED[(_state, "unseal")] = _state
for _state in ("awaiting_rating", "gathering", "ready_for_decision", "decided", "closed"):
    for _action in ("record_consent", "withdraw_consent", "propose_override", "decide_override"):
        EXPECTED[(_state, _action)] = _state
for _state in ("decided", "closed"):
    for _action in ("send_package", "withdraw_package"):
        EXPECTED[(_state, _action)] = _state
# action -> {from state: to state}, as the step registry declares them.
TRANSITIONS = {step.name: step.moves for step in STEPS}
PAIRS = list(itertools.product(EnquiryState.values, TRANSITIONS))


@pytest.mark.parametrize("state, action", [p for p in PAIRS if p in EXPECTED])
def test_valid_transitions(state, action):
    assert next_state(state, action) == EXPECTED[(state, action)]


@pytest.mark.parametrize("state, action", [p for p in PAIRS if p not in EXPECTED])
def test_every_invalid_transition_is_a_clear_error(state, action):
    with pytest.raises(InvalidTransition) as exc:
        next_state(state, action)
    assert exc.value.message.startswith("Cannot ")
    assert ": " in exc.value.message  # says why


def test_table_matches_expectations():
    assert {(s, a) for a, moves in TRANSITIONS.items() for s in moves} == set(EXPECTED)
    assert allowed_actions("closed") == ["end_assignment", "unseal", "record_consent", "withdraw_consent",
                                         "propose_override", "decide_override", "send_package", "withdraw_package"]


def test_unknown_action():
    with pytest.raises(InvalidTransition, match="Unknown action"):
        next_state("gathering", "teleport")


def test_services_refuse_steps_out_of_order(new_enquiry, manager, police_worker):
    with pytest.raises(InvalidTransition, match="awaiting a RAG rating: rate it first"):
        services.decide(new_enquiry, by=manager, outcome="no_further_action", rationale="x")
    with pytest.raises(InvalidTransition, match="Cannot close"):
        services.close(new_enquiry, by=manager)
    services.rate(new_enquiry, by=manager, rating="green", rationale="low risk")
    sharing.request_information(new_enquiry, by=manager, partners=["essex-police"])
    services.decide(new_enquiry, by=manager, outcome="no_further_action", rationale="no role")
    with pytest.raises(InvalidTransition, match="amend the decision instead"):
        services.decide(new_enquiry, by=manager, outcome="early_help", rationale="x")
    with pytest.raises(InvalidTransition):
        sharing.request_information(new_enquiry, by=manager, partners=["education"])
    request = new_enquiry.information_requests.get()
    with pytest.raises(DomainError, match="lapsed"):
        sharing.contribute(request, by=police_worker, kind="decline", decision_reason="nothing held")
    services.close(new_enquiry, by=manager)
    with pytest.raises(InvalidTransition, match="it is closed"):
        services.rate(new_enquiry, by=manager, rating="red", rationale="x")
    assert list(new_enquiry.events.values_list("action", "to_state")) == [
        ("record_contact", "awaiting_rating"), ("rate", "gathering"), ("request_information", "gathering"),
        ("decide", "decided"), ("close", "closed")]
