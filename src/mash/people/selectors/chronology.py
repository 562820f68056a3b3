"""A child's chronology: every event across all the child's enquiries, in date order, as one user may read it.

Only the enquiries the user may view count (`enquiry_filter`); a user who may view none of them is told
"not found", as for a person who does not exist. Within an enquiry each part is read as the gate's rules
allow it (`rules.FIELDS`): the contact's reporter, the ratings' history and rationale, the decisions'
rationale, every agency's requests and answers, disclosure packages and consent are the MASH team's; an
asked agency reads the contact's categories, the current rating and outcome, and its own request and
answer. Answers are read through `sharing.selectors.contribution_views`, which redacts in the query:
another agency's sealed item or "confidential information held" is only a marker, never its content.

A merged record answers for the record it was merged into (`kept_record`), over every record that is
that person (`records_of`). Each read is recorded in the audit log: the people, the enquiries'
references, and the filters in words (never text anyone typed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from mash.core.ids import in_range
from mash.access import gate
from mash.access.filters import enquiry_filter
from mash.access.rules import (CONCERN, CONSENT, DECISION, FIELDS, OUTCOME, PACKAGES, RAG, RATINGS, READ_FIELD,
                               REPORTER, VIEW_ENQUIRY, Subject, evaluate)
from mash.audit import services as audit
from mash.audit.models import Kind as AuditKind
from mash.cases.models import Decision, Enquiry, RagRatingRecord
from mash.consent.models import ConsentOverride, ConsentRecord, OverrideStatus
from mash.core.errors import NotFound, ValidationFailed
from mash.core.vocabulary import ConsentStatus, Outcome, RagRating, RecipientType
from mash.disclosure.selectors import packages
from mash.partners.models import Partner
from mash.partners.selectors import NoAgreementLoaded, current
from mash.sharing.models import ContributionKind
from mash.sharing.selectors import ContributionView, contribution_views, information_requests

from ..models import Person
from . import kept_record, records_of

# The kinds of event, in the order events at the same moment are listed, with their names in words.
KINDS = {
    "contact": "Contact received",
    "rating": "RAG rating",
    "request": "Information request",
    "answer": "Agency answer",
    "decision": "Decision",
    "package": "Disclosure package",
    "consent": "Consent",
}
_ORDER = {kind: n for n, kind in enumerate(KINDS)}


@dataclass
class ItemEntry:
    """One item of an agency's answer that the user reads."""

    category: str
    occurred_on: dt.date | None
    content: str
    confidentiality: str  # "" for a normal item, else "Restricted" or "Sealed"


@dataclass
class Event:
    at: dt.datetime
    kind: str
    reference: str
    text: str
    agency: str = ""       # the agency's name, where one acted
    agency_slug: str = ""
    detail: str = ""       # a rationale or reason, only where the user may read it
    items: list[ItemEntry] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    about: int | None = None  # another person the event names (whose consent), for the audit log

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]


@dataclass
class ChildRecords:
    """The child a chronology is asked for, loaded through the gate: the record kept (a merged record's
    is the one it was merged into), the id asked for, and the child's enquiries the user may view."""

    person: Person
    asked_id: int
    record_ids: list[int]
    enquiries: list[Enquiry]

    @property
    def merged(self) -> bool:
        return self.asked_id != self.person.pk


@dataclass
class Chronology:
    child: ChildRecords
    events: list[Event]
    agency: Partner | None
    kind: str

    @property
    def person(self) -> Person:
        return self.child.person

    @property
    def references(self) -> list[str]:
        return [e.reference for e in self.child.enquiries]

    @property
    def filters_in_words(self) -> str:
        parts = ([f"agency {self.agency.name}"] if self.agency else []) + (
            [f"kind {KINDS[self.kind].lower()}"] if self.kind else [])
        return ", ".join(parts) or "none"


# --- Loading the child through the gate ---------------------------------------------------------

def child_records(user, person_id: int) -> ChildRecords:
    """The child and the enquiries about them (over every record that is them) that `user` may view.
    NotFound, recorded, for a person who does not exist and for one none of whose enquiries the user may
    view: the two look the same."""
    person = Person.objects.filter(pk=person_id).first() if in_range(int(person_id)) else None
    if person is None:
        gate.record_denial(user, VIEW_ENQUIRY, "person", person_id, False, "no such person")
        raise NotFound()
    kept = kept_record(person)
    ids = records_of(kept)
    visible = gate.filtered(user, Enquiry.objects.filter(child_id__in=ids), lambda: enquiry_filter(user))
    enquiries = list(visible.select_related("contact", "contact__reporter_partner", "child")
                     .order_by("contact__received_at", "id"))
    if not enquiries:
        reason = gate.refusal(user) or "no need to know: none of the child's enquiries"
        gate.record_denial(user, VIEW_ENQUIRY, "person", person_id, True, reason)
        raise NotFound()
    return ChildRecords(person=kept, asked_id=person.pk, record_ids=ids, enquiries=enquiries)


# --- The chronology -----------------------------------------------------------------------------

def _check_filters(agency: str, kind: str) -> Partner | None:
    errors = {}
    if kind and kind not in KINDS:
        errors["kind"] = ["Choose a kind of event from the list"]
    found = Partner.objects.filter(slug=agency).first() if agency else None
    if agency and found is None:
        errors["agency"] = ["Choose an agency from the list"]
    if errors:
        raise ValidationFailed(errors)
    return found


def _readable(user, enquiries: list[Enquiry]) -> dict[int, frozenset[str]]:
    """For each enquiry, the parts of it (rules.FIELDS) the user reads."""
    subject = Subject.of(user)
    return {e.pk: frozenset(f for f in FIELDS if evaluate(subject, READ_FIELD, gate.facts_for(e), field_name=f))
            for e in enquiries}


def chronology(user, child: ChildRecords, agency: str = "", kind: str = "", export: bool = False) -> Chronology:
    """Every event of the child's enquiries the user may view, oldest first, as the gate allows them to
    read it; only `agency`'s (a partner's slug) and only of `kind` (a key of KINDS) when given.
    Recorded as a read (an export when `export`: the PDF)."""
    agency_obj = _check_filters(agency, kind)
    readable = _readable(user, child.enquiries)
    by_id = {e.pk: e for e in child.enquiries}
    events: list[Event] = []
    for name, build in _BUILDERS.items():
        if not kind or kind == name:
            events += build(user, by_id, readable)
    if agency_obj is not None:
        events = [e for e in events if e.agency_slug == agency_obj.slug]
    ordered = sorted(enumerate(events), key=lambda pair: (pair[1].at, _ORDER[pair[1].kind], pair[0]))
    found = Chronology(child=child, events=[e for _, e in ordered], agency=agency_obj, kind=kind)
    _record(child, found, readable, export)
    return found


def _record(child: ChildRecords, found: Chronology, readable: dict[int, frozenset[str]], export: bool) -> None:
    parts = set().union(*readable.values())
    merged = f", asked as person {child.asked_id} (merged into it)" if child.merged else ""
    people = set(child.record_ids) | {e.about for e in found.events if e.about}
    audit.record(AuditKind.EXPORT if export else AuditKind.READ,
                 "export chronology" if export else "read chronology", object_type="chronology",
                 object_ref=", ".join(found.references), people=people,
                 fields=sorted(parts) + ["chronology"],
                 detail=f"chronology of person {child.person.pk}{merged}; {len(found.events)} events; "
                        f"filters: {found.filters_in_words}")


def _with(readable, part: str) -> list[int]:
    return [pk for pk, parts in readable.items() if part in parts]


def _on(rows, enquiries: dict[int, Enquiry]) -> list:
    """Rows of the enquiries, each given its enquiry (already loaded): its encrypted columns name the person
    whose key opens them through it, which would otherwise cost a query per row."""
    out = list(rows)
    for row in out:
        row.enquiry = enquiries[row.enquiry_id]
    return out


# --- Each kind of event ---------------------------------------------------------------------------

def _contacts(user, enquiries: dict[int, Enquiry], readable) -> list[Event]:
    """The contact behind each enquiry: its categories; who reported it for the MASH team only."""
    out = []
    for pk in _with(readable, CONCERN):
        e = enquiries[pk]
        contact = e.contact
        text = "Contact received"
        partner = None
        if REPORTER in readable[pk]:
            text += f" from {contact.get_reporter_type_display().lower()}"
            partner = contact.reporter_partner
        categories = ", ".join(contact.concern_category_labels())
        out.append(Event(at=contact.received_at, kind="contact", reference=e.reference,
                         text=f"{text}: {categories}" if categories else text,
                         agency=partner.name if partner else "", agency_slug=partner.slug if partner else ""))
    return out


def _ratings(user, enquiries: dict[int, Enquiry], readable) -> list[Event]:
    """Every rating with its rationale for those who read the ratings; the current rating alone, without
    the rationale, for those who read only the RAG rating."""
    labels = dict(RagRating.choices)
    full = _with(readable, RATINGS)
    out = [Event(at=r.rated_at, kind="rating", reference=r.enquiry.reference,
                 text=f"Rated {labels.get(r.rating, r.rating).lower()}", detail=r.rationale)
           for r in _on(RagRatingRecord.objects.filter(enquiry_id__in=full).order_by("rated_at", "id"), enquiries)]
    latest = {}
    rag_only = [pk for pk in _with(readable, RAG) if pk not in full]
    for row in (RagRatingRecord.objects.filter(enquiry_id__in=rag_only).order_by("rated_at", "id")
                .values("enquiry_id", "rating", "rated_at")):
        latest[row["enquiry_id"]] = row
    out += [Event(at=row["rated_at"], kind="rating", reference=enquiries[pk].reference,
                  text=f"Rated {labels.get(row['rating'], row['rating']).lower()}") for pk, row in latest.items()]
    return out


def _requests(user, enquiries: dict[int, Enquiry], readable) -> list[Event]:
    """Requests to agencies: every one for the team, an asked agency its own (the gate's request filter)."""
    rows = information_requests(user).filter(enquiry_id__in=list(enquiries)).order_by("requested_at", "id")
    return [Event(at=r.requested_at, kind="request", reference=enquiries[r.enquiry_id].reference,
                  text=f"Information requested from {r.partner.name} ({r.get_status_display().lower()})",
                  agency=r.partner.name, agency_slug=r.partner.slug) for r in rows]


def _answer_text(view: ContributionView) -> str:
    if view.sealed:
        return view.marker
    said = {ContributionKind.SHARE: "shared information", ContributionKind.DECLINE: "declined to share",
            ContributionKind.CONFIDENTIAL_HELD: "recorded that it holds confidential information"}
    text = f"{view.partner_name} {said.get(view.kind, view.kind_label.lower())}"
    return text + (f" (version {view.version})" if view.version > 1 else "")


def _answer_markers(view: ContributionView) -> list[str]:
    out = []
    if view.withheld_items:
        out.append(f"Confidential information held: {view.withheld_items} further item"
                   f"{'s' if view.withheld_items > 1 else ''} sealed to {view.partner_name}")
    if view.withheld_restricted:
        out.append(f"Confidential information held: {view.withheld_restricted} further item"
                   f"{'s' if view.withheld_restricted > 1 else ''} restricted to the MASH managers and "
                   f"{view.partner_name}")
    return out


_LEVELS = {"restricted": "Restricted", "sealed": "Sealed"}


def _agreement():
    """The ISA in force (its categories' and lawful bases' words), or None before one is loaded."""
    try:
        return current()[1]
    except NoAgreementLoaded:
        return None


def _answers(user, enquiries: dict[int, Enquiry], readable) -> list[Event]:
    """Each agency's answer as `contribution_views` redacts it for the user: its items they read, markers
    for the items they may not, and only the marker of another agency's "confidential information held"."""
    agreement = _agreement()
    out = []
    for pk, e in enquiries.items():
        for view in contribution_views(user, e, agreement):
            out.append(Event(
                at=view.contributed_at, kind="answer", reference=e.reference, text=_answer_text(view),
                agency=view.partner_name, agency_slug=view.partner_slug,
                detail="" if view.sealed else (view.decision_reason or ""),
                items=[ItemEntry(category=i.category_label, occurred_on=i.occurred_on, content=i.content,
                                 confidentiality=_LEVELS.get(i.confidentiality, "")) for i in view.items],
                markers=[] if view.sealed else _answer_markers(view)))
    return out


def _decisions(user, enquiries: dict[int, Enquiry], readable) -> list[Event]:
    """Every decision with its rationale for the MASH team; the outcome in force alone for the others who
    read the outcome."""
    outcomes, recipients = dict(Outcome.choices), dict(RecipientType.choices)
    full = _with(readable, DECISION)
    out = []
    for d in _on(Decision.objects.filter(enquiry_id__in=full).order_by("decided_at", "id"), enquiries):
        text = f"Decision: {outcomes.get(d.outcome, d.outcome).lower()}"
        if d.version > 1:
            text += f" (amended, version {d.version})"
        if d.recipient_type:
            text += f"; passed to a {recipients.get(d.recipient_type, d.recipient_type).lower()}"
        out.append(Event(at=d.decided_at, kind="decision", reference=enquiries[d.enquiry_id].reference,
                         text=text, detail=d.rationale))
    outcome_only = [pk for pk in _with(readable, OUTCOME) if pk not in full]
    for row in (Decision.objects.filter(enquiry_id__in=outcome_only, superseded_by__isnull=True)
                .values("enquiry_id", "outcome", "decided_at")):
        out.append(Event(at=row["decided_at"], kind="decision", reference=enquiries[row["enquiry_id"]].reference,
                         text=f"Decision: {outcomes.get(row['outcome'], row['outcome']).lower()}"))
    return out


def _packages(user, enquiries: dict[int, Enquiry], readable) -> list[Event]:
    """Disclosure packages sent (to whom, when) and withdrawn, for the MASH team: never what they say."""
    rows = (packages(user).filter(enquiry_id__in=_with(readable, PACKAGES), sent_at__isnull=False)
            .defer("content", "cover_note", "selection", "withdrawal_reason").order_by("sent_at", "id"))
    out = []
    for p in rows:
        reference = enquiries[p.enquiry_id].reference
        out.append(Event(at=p.sent_at, kind="package", reference=reference,
                         text=f"Disclosure package {p.pk} sent to {p.addressed_to} "
                              f"({p.get_recipient_type_display().lower()})"))
        if p.withdrawn_at:
            out.append(Event(at=p.withdrawn_at, kind="package", reference=reference,
                             text=f"Disclosure package {p.pk} withdrawn"))
    return out


def _consent(user, enquiries: dict[int, Enquiry], readable) -> list[Event]:
    """Consent recorded and withdrawn, and sharing without consent proposed and decided, for the MASH team
    (who read consent): what was recorded, never the notes or the justification."""
    team = _with(readable, CONSENT)
    out = []
    for r in (ConsentRecord.objects.filter(enquiry_id__in=team).select_related("person")
              .defer("given_by", "notes", "withdrawal_reason").order_by("recorded_at", "id")):
        reference = enquiries[r.enquiry_id].reference
        status = r.get_status_display().lower()
        if r.status == ConsentStatus.NOT_SOUGHT and r.not_sought_reason:
            status += f": {r.get_not_sought_reason_display().lower()}"
        out.append(Event(at=r.recorded_at, kind="consent", reference=reference,
                         text=f"Consent recorded for {r.person.full_name}: {status}", about=r.person_id))
        if r.withdrawn_at:
            out.append(Event(at=r.withdrawn_at, kind="consent", reference=reference,
                             text=f"Consent withdrawn for {r.person.full_name}", about=r.person_id))
    overrides = list(ConsentOverride.objects.filter(enquiry_id__in=team).defer("justification", "decision_note")
                     .order_by("proposed_at", "id"))
    agreement = _agreement() if overrides else None
    bases = {b.id: b.description for b in agreement.lawful_bases()} if agreement else {}
    for o in overrides:
        reference = enquiries[o.enquiry_id].reference
        out.append(Event(at=o.proposed_at, kind="consent", reference=reference,
                         text=f"Sharing without consent proposed (lawful basis: "
                              f"{bases.get(o.lawful_basis, o.lawful_basis)})"))
        if o.decided_at and o.status != OverrideStatus.PROPOSED:
            out.append(Event(at=o.decided_at, kind="consent", reference=reference,
                             text=f"Sharing without consent {o.get_status_display().lower()} by a MASH manager"))
    return out


_BUILDERS = {"contact": _contacts, "rating": _ratings, "request": _requests, "answer": _answers,
             "decision": _decisions, "package": _packages, "consent": _consent}
