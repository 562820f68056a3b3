"""The life of a MASH enquiry. Every change of state goes through `next_state`.

The states and the steps between them are declared once, in `mash.cases.steps`."""

from mash.core.errors import InvalidTransition
from mash.core.vocabulary import OPEN_STATES, EnquiryState  # noqa: F401  (imported from here across the hub)

from . import steps

S = EnquiryState

# What to do instead, said when an action is refused.
_HINTS = {
    S.AWAITING_RATING: "it is awaiting a RAG rating: rate it first",
    S.GATHERING: "information is still being gathered",
    S.READY_FOR_DECISION: "it is ready for a decision",
    S.DECIDED: "a decision has been recorded (amend the decision instead)",
    S.CLOSED: "it is closed",
}

def allowed_actions(state: str) -> list[str]:
    return [s.name for s in steps.allowed_in(state)]


def next_state(state: str, action: str) -> str:
    step = steps.step(action)  # an unknown action: "Unknown action '<action>'"
    if not step.allows(state):
        raise InvalidTransition(f"Cannot {step.label}: {_HINTS.get(state, state)}")
    return step.moves[state]
