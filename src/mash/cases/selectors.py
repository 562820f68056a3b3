"""Reading enquiries, through the gate: the lists a user may see, one enquiry, and an enquiry as one user
may read it (`case_record`). Rows loaded from `enquiries()` are recorded as read."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import OuterRef, Q, QuerySet, Subquery

from mash.access import gate
from mash.access.columns import CONTACT, CONTACT_DERIVED, RedactedRow
from mash.access.filters import enquiry_filter
from mash.access.rules import (ACTIONS, CHILD, CONCERN, DECISION, FIELDS, HISTORY, HOUSEHOLD, OUTCOME,
                               RATINGS, READ_FIELD, REPORTER, TEAM_MEMBERS, VIEW_ENQUIRY, Link, Subject,
                               case_links, evaluate)
from mash.audit import services as audit
from mash.sharing.models import RequestStatus
from mash.sharing.selectors import contribution_views, information_requests

from . import steps
from .models import Decision, Enquiry


def current_decision(enquiry: Enquiry) -> Decision | None:
    """The decision in force (not gated: for the services and for pages that already passed the gate)."""
    return enquiry.decisions.filter(superseded_by__isnull=True).select_related(
        "decided_by", "receiving_professional", "isa_version").first()


# --- Lists -------------------------------------------------------------------------------------

def _describe_enquiry(obj: Enquiry):
    return obj.reference, [obj.child_id]


def _enquiries(user, action: str) -> QuerySet[Enquiry]:
    return gate.filtered(user, Enquiry.objects.select_related("child", "contact"), lambda: enquiry_filter(user, action))


def enquiries(user, action: str = VIEW_ENQUIRY) -> QuerySet[Enquiry]:
    """The enquiries `user` may take `action` on. Rows loaded from it are recorded as read."""
    return audit.track(_enquiries(user, action), "enquiry", _describe_enquiry)


def search_enquiries(user, text: str) -> QuerySet[Enquiry]:
    """Enquiries the user may see whose reference or child matches `text`. Filtered first, then matched."""
    text = (text or "").strip()
    visible = enquiries(user)
    if not text:
        return visible
    if "\x00" in text:  # no stored text holds NUL, and PostgreSQL refuses a query that does
        return visible.none()
    q = Q(reference__iexact=text) | Q(child__nhs_number=text.replace(" ", "")) | Q(child__upn__iexact=text)
    words = text.split()
    name_q = Q()
    for word in words[:4]:
        name_q &= (Q(child__first_name__icontains=word) | Q(child__last_name__icontains=word)
                   | Q(child__other_names__icontains=word))
    # Only the name fields the user may read: an asked agency reads the child (CHILD includes ASKED).
    return visible.filter(q | name_q)


def with_outcome(visible: QuerySet[Enquiry]) -> QuerySet[Enquiry]:
    """Annotate a list from `enquiries()` with the current decision's outcome (`outcome`).

    Every link that can see an enquiry may read its outcome (FIELDS[OUTCOME]), so a list the gate
    filtered may carry it."""
    assert FIELDS[OUTCOME] >= ACTIONS[VIEW_ENQUIRY], "the outcome must be readable wherever the enquiry is"
    latest = Decision.objects.filter(enquiry=OuterRef("pk"), superseded_by__isnull=True).values("outcome")[:1]
    return visible.annotate(outcome=Subquery(latest))


# --- One enquiry -------------------------------------------------------------------------------


def enquiry(user, reference: str) -> Enquiry:
    """One enquiry the user may see (its parts are read, and recorded, through `case_record`)."""
    found = _enquiries(user, VIEW_ENQUIRY).filter(reference=reference).first()
    if found is None:
        raise gate.not_found(user, VIEW_ENQUIRY, "enquiry", reference,
                             Enquiry.objects.filter(reference=reference).first(), "no such enquiry")
    return found


@dataclass
class CaseRecord:
    """One enquiry as one user may read it. A part the user may not read is None (or empty),
    and `readable` says which parts they may."""

    enquiry: Enquiry
    readable: frozenset[str]
    links: frozenset[Link]
    child: object = None
    relationships: list = field(default_factory=list)
    contact: object = None
    reporter_visible: bool = False
    ratings: list = field(default_factory=list)
    decision: object = None
    earlier_decisions: list = field(default_factory=list)
    outcome: str | None = None
    outcome_label: str | None = None
    events: list = field(default_factory=list)
    information_requests: list = field(default_factory=list)
    contributions: list = field(default_factory=list)
    team: list = field(default_factory=list)
    actions: list = field(default_factory=list)

    def can(self, part: str) -> bool:
        return part in self.readable


def case_record(user, enquiry_obj: Enquiry, agreement=None) -> CaseRecord:
    """The enquiry, with each part the user may not read left out."""
    gate.require(user, VIEW_ENQUIRY, enquiry_obj)
    subject, facts = Subject.of(user), gate.facts_for(enquiry_obj)
    links = case_links(subject, facts)
    readable = frozenset(f for f in FIELDS if evaluate(subject, READ_FIELD, facts, field_name=f))
    record = CaseRecord(enquiry=enquiry_obj, readable=readable, links=links)
    if CHILD in readable:
        record.child = enquiry_obj.child
    if HOUSEHOLD in readable:
        record.relationships = list(enquiry_obj.child.relationships.select_related("person"))
    if CONCERN in readable:
        # Column by column (columns.CONTACT): the reporter for the team, consent at intake for the team.
        record.contact = RedactedRow(enquiry_obj.contact, CONTACT, readable, CONTACT_DERIVED)
        record.reporter_visible = REPORTER in readable
    decisions = list(enquiry_obj.decisions.select_related("decided_by", "receiving_professional", "isa_version")
                     .order_by("-version"))
    if DECISION in readable:
        record.decision = decisions[0] if decisions else None
        record.earlier_decisions = decisions[1:]
    if OUTCOME in readable and decisions:
        record.outcome, record.outcome_label = decisions[0].outcome, decisions[0].get_outcome_display()
    if RATINGS in readable:
        record.ratings = list(enquiry_obj.ratings.select_related("rated_by", "isa_version"))
    if HISTORY in readable:
        record.events = list(enquiry_obj.events.select_related("by"))
    if TEAM_MEMBERS in readable:
        record.team = list(enquiry_obj.assignments.filter(ended_at__isnull=True).select_related("user",
                                                                                             "user__partner"))
    record.information_requests = list(information_requests(user).filter(enquiry=enquiry_obj)
                                       .order_by("partner__name"))
    record.contributions = contribution_views(user, enquiry_obj, agreement)
    record.actions = available_actions(user, enquiry_obj)
    people = [enquiry_obj.child_id] if CHILD in readable else []
    people += [r.person_id for r in record.relationships]
    audit.note_read("enquiry", enquiry_obj.reference, people, readable)
    return record


def available_actions(user, enquiry_obj: Enquiry) -> list[str]:
    """The workflow steps offered in the enquiry's state (mash.cases.steps) that this user may take on it."""
    out = []
    for step in steps.offered_in(enquiry_obj.state):
        if step.per_request:  # contribute: an open request this user may answer
            open_requests = information_requests(user).filter(enquiry=enquiry_obj, status=RequestStatus.OPEN)
            if any(gate.decide(user, step.action, r) for r in open_requests):
                out.append(step.name)
        elif step.name == "end_assignment" and not gate.facts_for(enquiry_obj).assigned_user_ids:
            continue
        elif gate.decide(user, step.action, enquiry_obj):
            out.append(step.name)
    return out

