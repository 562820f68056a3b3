"""The enquiry's workflow, declared once: its states and every step between them.

A step is one `Step` in `STEPS` plus the service function that takes it, which checks the step
(`states.next_state`) and records it with `mash.cases.history.transition(enquiry, "<name>", ...)`.
Everything else reads this registry: the state machine (`states.allowed_actions`, `next_state` and
its refusals), the audit record of each step (`history.transition`), the enquiry's history and its
action forms (`cases/views.py`), what a user may do next (`available_actions`), and the test that
every step is declared and taken (`cases/tests/test_steps.py`).

The access actions are the rules' own constants (`mash.access.rules`); the access layer never
imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from mash.access.rules import (ANSWER_REQUEST, APPROVE_OVERRIDE, ASSIGN, BUILD_PACKAGE, CLOSE, DECIDE, MARK_READY,
                               PROPOSE_OVERRIDE, RATE, RECORD_CONSENT, RECORD_CONTACT, REQUEST_INFORMATION, UNSEAL)
from mash.core.errors import InvalidTransition
from mash.core.vocabulary import EnquiryState


S = EnquiryState



def _stays(*states: str) -> dict[str, str]:
    """The moves of a step that the states listed allow and that leaves the state as it is."""
    return {state: state for state in states}


# A step that any state allows and that leaves the state as it is.
ANY_STATE = _stays(*S.values)


@dataclass(frozen=True, eq=False)
class Step:
    """One step of the workflow."""

    name: str                  # the EnquiryEvent's action; the audit event is "enquiry.<name>"
    moves: Mapping[str, str]   # {from state: to state}; a state not listed refuses the step
    action: str                # the access action that guards it (mash.access.rules)
    label: str                 # what people are asked to do: "Cannot <label>: <why not>"
    history: str               # the step in the enquiry's history
    changes: tuple[str, ...]   # the parts of the enquiry it changes, named in its audit event
    # Its note is a code (a rating, an outcome, agencies' ids) that the audit event's detail may repeat.
    # Other notes are free text and stay on the enquiry, out of the log that auditors read.
    coded_note: bool = False
    discloses: bool = False    # it passes information on: recorded as a disclosure, not a write
    per_request: bool = False  # the action is decided on an information request, not on the enquiry
    offered: bool = False      # listed in what a user may do next on the enquiry (available_actions)

    def __post_init__(self):
        object.__setattr__(self, "moves", MappingProxyType(dict(self.moves)))

    def allows(self, state: str) -> bool:
        return state in self.moves


# In the order the enquiry offers them (available_actions and the API's allowed_actions keep it).
STEPS: tuple[Step, ...] = (
    Step("rate", {S.AWAITING_RATING: S.GATHERING, **_stays(S.GATHERING, S.READY_FOR_DECISION)}, RATE,
         "RAG-rate the enquiry", "RAG rated", ("rag", "ratings"), coded_note=True, offered=True),
    Step("request_information", {S.GATHERING: S.GATHERING, S.READY_FOR_DECISION: S.GATHERING}, REQUEST_INFORMATION,
         "request information from partner agencies", "Information requested", ("requests",), coded_note=True,
         offered=True),
    Step("contribute", _stays(S.GATHERING, S.READY_FOR_DECISION), ANSWER_REQUEST,
         "contribute information", "Agency answered", ("contributions",), coded_note=True, discloses=True,
         per_request=True, offered=True),
    Step("mark_ready", {S.GATHERING: S.READY_FOR_DECISION}, MARK_READY,
         "mark the enquiry ready for decision", "Marked ready for decision", ("state",), offered=True),
    Step("decide", {S.GATHERING: S.DECIDED, S.READY_FOR_DECISION: S.DECIDED}, DECIDE,
         "record a decision", "Decision recorded", ("decision", "outcome"), coded_note=True, offered=True),
    Step("amend_decision", _stays(S.DECIDED), DECIDE,
         "amend the decision", "Decision amended", ("decision", "outcome"), offered=True),
    Step("close", {S.DECIDED: S.CLOSED}, CLOSE,
         "close the enquiry", "Closed", ("state",), offered=True),
    # Steps that do not move the enquiry on, but are kept in its history like the others.
    Step("assign", _stays(S.AWAITING_RATING, S.GATHERING, S.READY_FOR_DECISION, S.DECIDED), ASSIGN,
         "put a MASH team member on the enquiry", "Team member added", ("team",), offered=True),
    Step("end_assignment", ANY_STATE, ASSIGN,
         "take a MASH team member off the enquiry", "Team member taken off", ("team",), offered=True),
    # The contributing agency may lift its own seal at any time, e.g. once an investigation ends.
    Step("unseal", _stays(S.GATHERING, S.READY_FOR_DECISION, S.DECIDED, S.CLOSED), UNSEAL,
         "unseal your agency's information", "Agency unsealed its information", ("contributions",),
         coded_note=True, per_request=True),
    # Consent can be recorded, and withdrawn, at any time; so can sharing without consent.
    # (Their history labels are the names the history has always shown for them.)
    Step("record_consent", ANY_STATE, RECORD_CONSENT,
         "record consent", "record consent", ("consent",), coded_note=True),
    Step("withdraw_consent", ANY_STATE, RECORD_CONSENT,
         "record the withdrawal of consent", "withdraw consent", ("consent",), coded_note=True),
    Step("propose_override", ANY_STATE, PROPOSE_OVERRIDE,
         "record sharing without consent", "propose override", ("consent",), coded_note=True),
    Step("decide_override", ANY_STATE, APPROVE_OVERRIDE,
         "approve or reject sharing without consent", "decide override", ("consent",), coded_note=True),
    # Onward disclosure follows the manager's decision.
    Step("send_package", _stays(S.DECIDED, S.CLOSED), BUILD_PACKAGE,
         "send a disclosure package", "send package", ("packages",), coded_note=True, discloses=True),
    Step("withdraw_package", _stays(S.DECIDED, S.CLOSED), BUILD_PACKAGE,
         "withdraw a disclosure package", "withdraw package", ("packages",), coded_note=True),
)

# The contact that opens the enquiry: the first event of its history, recorded by
# `services.record_contact` (audited as "contact.record"), never taken through `next_state`.
OPENING = Step("record_contact", {}, RECORD_CONTACT, "record a contact", "Contact recorded",
               ("child", "household", "concern", "reporter"))

_BY_NAME = {s.name: s for s in STEPS}


def step(name: str) -> Step:
    """The step called `name`; an unknown one is an InvalidTransition."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise InvalidTransition(f"Unknown action '{name}'") from None


def allowed_in(state: str) -> list[Step]:
    """The steps the state allows, in the registry's order."""
    return [s for s in STEPS if s.allows(state)]


def offered_in(state: str) -> list[Step]:
    """The steps the state allows that the enquiry offers as what to do next (before access is decided)."""
    return [s for s in STEPS if s.offered and s.allows(state)]


def history_label(name: str) -> str:
    """How the enquiry's history names an event's action (an action no longer declared: its name)."""
    known = _BY_NAME.get(name) or (OPENING if name == OPENING.name else None)
    return known.history if known else name.replace("_", " ")
