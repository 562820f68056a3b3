"""A child's household, their previous contacts and enquiries (and their siblings'), and the repeat-contact flag.

- `household(person, among=...)`: the people related to the person, both ways (the child's mother; the
  children a person is the parent of; a partner), current ones first, and the child's siblings: recorded as
  siblings, or other children of the same parent or carer. `among` keeps only people the reader may find.
- `history(user, person)`: the enquiries of the person and of their siblings that `user` may view
  (`filters.enquiry_filter`), each with only the parts the user reads on it; enquiries the user may not
  view are neither listed nor counted. Recorded as read.
- `repeat_flag(child)`: the child's contacts in the ISA's window (`repeat_contacts`), counted across the hub
  (the flag is about the child, not the reader), and whether they reach the ISA's threshold. Not gated:
  callers show it only to the MASH team of an enquiry they have opened.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from mash.access import gate
from mash.access.filters import enquiry_filter
from mash.access.rules import CONCERN, DECISION, OUTCOME, RAG, READ_FIELD, REPORTER, VIEW_ENQUIRY, Subject, evaluate
from mash.audit import services as audit
from mash.cases.models import Contact, Decision, Enquiry
from mash.core.vocabulary import ConcernCategory, EnquiryState, Outcome, RagRating, ReporterType
from mash.partners.selectors import current

from ..models import Person, Relationship, RelationshipType
from . import kept_record, live_people, records_of, visible_people, visible_person

# A parent or carer: their other children are the child's siblings.
PARENTAL = (RelationshipType.MOTHER, RelationshipType.FATHER, RelationshipType.STEP_PARENT, RelationshipType.CARER)
# Relationships that read the same from either side.
MUTUAL = (RelationshipType.SIBLING, RelationshipType.PARTNER, RelationshipType.HOUSEHOLD_MEMBER,
          RelationshipType.OTHER)


# --- Household ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Relation:
    """One relationship as seen from one person: `other` is the person at the other end."""

    relationship: Relationship
    other: Person
    description: str  # in words, from this person's side: "Mother", "Morgan is their mother", "Partner"

    @property
    def current(self) -> bool:
        return self.relationship.to_date is None or self.relationship.to_date > timezone.localdate()


@dataclass(frozen=True)
class Sibling:
    person: Person
    how: str  # "recorded as a sibling" or "same parent or carer"


@dataclass
class Household:
    person: Person
    relations: list[Relation] = field(default_factory=list)
    siblings: list[Sibling] = field(default_factory=list)


def _describe(rel: Relationship, of: set[int]) -> Relation:
    label = rel.get_relationship_display()
    if rel.child_id in of:
        return Relation(rel, rel.person, label)
    if rel.relationship in MUTUAL:
        return Relation(rel, rel.child, label)
    return Relation(rel, rel.child, f"{rel.person.first_name} is their {label[0].lower()}{label[1:]}")


def household(person: Person, among: QuerySet[Person] | None = None) -> Household:
    """The person's relationships both ways (current first, then the latest) and their siblings, keeping
    only people in `among` (default: every live person)."""
    among = live_people() if among is None else among
    ids = set(records_of(person))
    rows = (Relationship.objects.filter(Q(child_id__in=ids) | Q(person_id__in=ids))
            .filter(Q(child__in=among) | Q(child_id__in=ids)).filter(Q(person__in=among) | Q(person_id__in=ids))
            .select_related("child", "person"))
    relations = [_describe(rel, ids) for rel in rows]
    relations.sort(key=lambda r: (not r.current, -(r.relationship.from_date or dt.date.min).toordinal(),
                                  -r.relationship.pk))
    parents = Relationship.objects.filter(child_id__in=ids, relationship__in=PARENTAL).values("person_id")
    recorded = set(Relationship.objects.filter(child_id__in=ids, relationship=RelationshipType.SIBLING)
                   .values_list("person_id", flat=True))
    recorded |= set(Relationship.objects.filter(person_id__in=ids, relationship=RelationshipType.SIBLING)
                    .values_list("child_id", flat=True))
    shared = set(Relationship.objects.filter(person_id__in=parents, relationship__in=PARENTAL)
                 .values_list("child_id", flat=True))
    found = among.filter(pk__in=(recorded | shared) - ids).order_by("date_of_birth", "pk")
    siblings = [Sibling(p, "recorded as a sibling" if p.pk in recorded else "same parent or carer") for p in found]
    return Household(person, relations, siblings)


# --- The repeat-contact flag -----------------------------------------------------------------------

def months_before(day: dt.datetime, months: int) -> dt.datetime:
    """The same moment `months` calendar months earlier (the last day of a shorter month)."""
    year, month = divmod(day.month - 1 - months, 12)
    year, month = day.year + year, month + 1
    for d in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=d)
        except ValueError:
            continue
    raise ValueError(day)


@dataclass(frozen=True)
class RepeatFlag:
    count: int       # the child's contacts received in the window
    threshold: int   # the ISA's repeat_contacts.contacts
    months: int      # the ISA's window

    @property
    def raised(self) -> bool:
        return self.count >= self.threshold


def repeat_flag(child: Person, agreement=None) -> RepeatFlag:
    """The child's contacts in the ISA's window, across the hub (every record of the child)."""
    if agreement is None:
        _, agreement = current()
    rule = agreement.repeat_contacts
    child = kept_record(child)
    since = months_before(timezone.now(), rule.months)
    count = Contact.objects.filter(child_id__in=records_of(child), received_at__gte=since).count()
    return RepeatFlag(count, rule.contacts, rule.months)


# --- History -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One previous contact and its enquiry, with only the parts the reader reads on it (None: not read)."""

    reference: str
    child: Person
    sibling: bool
    received_at: dt.datetime
    state: str
    reporter: str | None
    categories: list[str] | None
    rag: str | None
    rag_label: str | None
    outcome: str | None


@dataclass
class History:
    person: Person
    household: Household
    entries: list[Entry]        # the person's own, newest first
    sibling_entries: list[Entry]
    months: int                 # the window of `recent`
    recent: int                 # the person's own contacts the reader may view received in the window


_LABELS = {"reporter": dict(ReporterType.choices), "category": dict(ConcernCategory.choices),
           "rag": dict(RagRating.choices), "outcome": dict(Outcome.choices), "state": dict(EnquiryState.choices)}


def _entry(subject: Subject, enquiry: Enquiry, sibling: bool) -> tuple[Entry, set[str]]:
    facts = gate.facts_for(enquiry)
    readable = {f for f in (REPORTER, CONCERN, RAG, OUTCOME)
                if evaluate(subject, READ_FIELD, facts, field_name=f).allowed}
    contact = enquiry.contact
    categories = [_LABELS["category"].get(c, c) for c in contact.concern_categories]
    entry = Entry(
        reference=enquiry.reference or "", child=enquiry.child, sibling=sibling, received_at=contact.received_at,
        state=_LABELS["state"].get(enquiry.state, enquiry.state),
        reporter=_LABELS["reporter"].get(contact.reporter_type, contact.reporter_type)
        if REPORTER in readable else None,
        categories=categories if CONCERN in readable else None,
        rag=(enquiry.rag or None) if RAG in readable else None,
        rag_label=_LABELS["rag"].get(enquiry.rag) if RAG in readable and enquiry.rag else None,
        outcome=_LABELS["outcome"].get(enquiry.outcome, enquiry.outcome)
        if OUTCOME in readable and enquiry.outcome else None)
    return entry, readable


def _viewable(user, child_ids, exclude) -> QuerySet[Enquiry]:
    latest = Decision.objects.filter(enquiry=OuterRef("pk"), superseded_by__isnull=True).values("outcome")[:1]
    qs = (Enquiry.objects.filter(child_id__in=child_ids).exclude(pk__in=exclude)
          .select_related("contact", "child").annotate(outcome=Subquery(latest))
          .order_by("-contact__received_at", "-pk"))
    return gate.filtered(user, qs, lambda: enquiry_filter(user, VIEW_ENQUIRY))


def history(user, person: Person, *, exclude_enquiries=(), agreement=None) -> History:
    """The person's and their siblings' enquiries that `user` may view (not those in `exclude_enquiries`)."""
    if agreement is None:
        _, agreement = current()
    own = set(records_of(person))
    house = household(person, among=visible_people(user))
    sibling_of = {}
    for sibling in house.siblings:
        for pk in records_of(sibling.person):
            sibling_of[pk] = sibling.person
    subject = Subject.of(user)
    entries, sibling_entries = [], []
    for enquiry in _viewable(user, own | set(sibling_of), exclude_enquiries):
        entry, readable = _entry(subject, enquiry, enquiry.child_id not in own)
        (sibling_entries if entry.sibling else entries).append(entry)
        audit.note_read("enquiry", entry.reference, [enquiry.child_id], sorted(readable))
    months = agreement.repeat_contacts.months
    since = months_before(timezone.now(), months)
    # The person's own contacts in the window, as the reader sees them (this enquiry included, if it is one).
    recent = (_viewable(user, own, ()).filter(contact__received_at__gte=since).count())
    audit.note_read("person history", str(person.pk), [person.pk, *(s.person.pk for s in house.siblings)],
                    ("history", "household"))
    return History(person, house, entries, sibling_entries, months, recent)


def person(user, person_id: int) -> Person:
    """A person `user` may find, for their history and household (`visible_person`): NotFound, recorded,
    the same for one who does not exist and one outside the user's need-to-know."""
    return visible_person(user, person_id, action=VIEW_ENQUIRY)


@dataclass(frozen=True)
class EnquiryPanel:
    """What the enquiry page shows of the child's previous contacts and household."""

    history: History
    flag: RepeatFlag | None  # for the MASH team of the enquiry (who read its decision); None for others


def enquiry_panel(user, enquiry: Enquiry) -> EnquiryPanel:
    """The child's previous contacts and household on their enquiry page (the user has opened the enquiry)."""
    gate.require(user, VIEW_ENQUIRY, enquiry)
    _, agreement = current()
    child = kept_record(enquiry.child)
    found = history(user, child, exclude_enquiries=[enquiry.pk], agreement=agreement)
    team = gate.decide(user, READ_FIELD, enquiry, field_name=DECISION).allowed
    flag = repeat_flag(child, agreement) if team else None
    return EnquiryPanel(found, flag)


def flag_for_team(user, enquiry: Enquiry) -> RepeatFlag | None:
    """The repeat-contact flag of the enquiry's child when raised and the user is its MASH team, else None."""
    if not gate.decide(user, READ_FIELD, enquiry, field_name=DECISION).allowed:
        return None
    flag = repeat_flag(enquiry.child)
    return flag if flag.raised else None


def household_of(user, person: Person) -> Household:
    """The person's household as `user` may see it (only people they may find), recorded as read."""
    house = household(person, among=visible_people(user))
    people = {person.pk, *(r.other.pk for r in house.relations), *(s.person.pk for s in house.siblings)}
    audit.note_read("person household", str(person.pk), sorted(people), ("household",))
    return house
