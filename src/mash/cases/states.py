"""The life of a MASH enquiry. Every change of state goes through `next_state`."""

from django.db import models

from mash.core.errors import InvalidTransition


class EnquiryState(models.TextChoices):
    AWAITING_RATING = "awaiting_rating", "Awaiting RAG rating"
    GATHERING = "gathering", "Gathering information"
    READY_FOR_DECISION = "ready_for_decision", "Ready for decision"
    DECIDED = "decided", "Decided"
    CLOSED = "closed", "Closed"


S = EnquiryState

# A step that any state allows and that leaves the state as it is.
ANY_STATE = {state: state for state in S.values}

# action -> {from state: to state}
TRANSITIONS: dict[str, dict[str, str]] = {
    "rate": {S.AWAITING_RATING: S.GATHERING, S.GATHERING: S.GATHERING, S.READY_FOR_DECISION: S.READY_FOR_DECISION},
    "request_information": {S.GATHERING: S.GATHERING, S.READY_FOR_DECISION: S.GATHERING},
    "contribute": {S.GATHERING: S.GATHERING, S.READY_FOR_DECISION: S.READY_FOR_DECISION},
    "mark_ready": {S.GATHERING: S.READY_FOR_DECISION},
    "decide": {S.GATHERING: S.DECIDED, S.READY_FOR_DECISION: S.DECIDED},
    "amend_decision": {S.DECIDED: S.DECIDED},
    "close": {S.DECIDED: S.CLOSED},
    # Steps that do not move the enquiry on, but are kept in its history like the others.
    "assign": {S.AWAITING_RATING: S.AWAITING_RATING, S.GATHERING: S.GATHERING,
               S.READY_FOR_DECISION: S.READY_FOR_DECISION, S.DECIDED: S.DECIDED},
    "end_assignment": {S.AWAITING_RATING: S.AWAITING_RATING, S.GATHERING: S.GATHERING,
                       S.READY_FOR_DECISION: S.READY_FOR_DECISION, S.DECIDED: S.DECIDED, S.CLOSED: S.CLOSED},
    # The contributing agency may lift its own seal at any time, e.g. once an investigation ends.
    "unseal": {S.GATHERING: S.GATHERING, S.READY_FOR_DECISION: S.READY_FOR_DECISION, S.DECIDED: S.DECIDED,
               S.CLOSED: S.CLOSED},
    # Consent can be recorded, and withdrawn, at any time; so can sharing without consent.
    "record_consent": ANY_STATE,
    "withdraw_consent": ANY_STATE,
    "propose_override": ANY_STATE,
    "decide_override": ANY_STATE,
    # Onward disclosure follows the manager's decision.
    "send_package": {S.DECIDED: S.DECIDED, S.CLOSED: S.CLOSED},
    "withdraw_package": {S.DECIDED: S.DECIDED, S.CLOSED: S.CLOSED},
}

ACTION_LABELS = {
    "rate": "RAG-rate the enquiry",
    "request_information": "request information from partner agencies",
    "contribute": "contribute information",
    "mark_ready": "mark the enquiry ready for decision",
    "decide": "record a decision",
    "amend_decision": "amend the decision",
    "close": "close the enquiry",
    "assign": "put a MASH team member on the enquiry",
    "end_assignment": "take a MASH team member off the enquiry",
    "unseal": "unseal your agency's information",
    "record_consent": "record consent",
    "withdraw_consent": "record the withdrawal of consent",
    "propose_override": "record sharing without consent",
    "decide_override": "approve or reject sharing without consent",
    "send_package": "send a disclosure package",
    "withdraw_package": "withdraw a disclosure package",
}

# What to do instead, said when an action is refused.
_HINTS = {
    S.AWAITING_RATING: "it is awaiting a RAG rating: rate it first",
    S.GATHERING: "information is still being gathered",
    S.READY_FOR_DECISION: "it is ready for a decision",
    S.DECIDED: "a decision has been recorded (amend the decision instead)",
    S.CLOSED: "it is closed",
}

OPEN_STATES = (S.AWAITING_RATING, S.GATHERING, S.READY_FOR_DECISION)


def allowed_actions(state: str) -> list[str]:
    return [action for action, moves in TRANSITIONS.items() if state in moves]


def next_state(state: str, action: str) -> str:
    if action not in TRANSITIONS:
        raise InvalidTransition(f"Unknown action '{action}'")
    moves = TRANSITIONS[action]
    if state not in moves:
        raise InvalidTransition(f"Cannot {ACTION_LABELS[action]}: {_HINTS.get(state, state)}")
    return moves[state]
