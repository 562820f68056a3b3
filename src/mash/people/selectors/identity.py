"""Is this person already known? The candidates offered at intake (web and API) and on an enquiry's review
panel, within the user's need-to-know, each with what a MASH worker needs to choose: the score in words, the
reasons, date of birth, postcode and the number of previous contacts the user may see.

Every offer is recorded as a read of the people offered (by id), never with the text typed: the audit log is
append-only and outlives retention, and what was typed names the person looked for (as sar_people does).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Count, Q

from mash.access import filters, gate
from mash.access.rules import AMEND_PERSON
from mash.audit import services as audit
from mash.cases.models import Enquiry

from ..identifiers import normalise_nhs_number, normalise_postcode, normalise_upn
from ..matching import Details, compare
from ..models import IdentityDecision, IdentityOutcome, Person
from . import visible_people
from .matching import Candidate, candidates

# From this score a candidate is "very likely" the same person; below it (down to matching.SHOW_AT) "possible".
# Choosing "a new person" over a very likely candidate needs a reason.
VERY_LIKELY = 0.99
# A related person is often known by name alone (the contact form asks no more): someone of that name already
# around a child offered for this contact is offered from this score, with that as a reason.
HOUSEHOLD_SHOW_AT = 0.3
IN_HOUSEHOLD = "already recorded around the child offered"
READ_FIELDS = ("name", "date of birth", "postcode")


@dataclass(frozen=True)
class Offer:
    """A candidate as shown to the user: who, how likely, why, and what helps them decide."""

    person: Person
    score: float
    reasons: tuple[str, ...]
    conflicts: tuple[str, ...]
    previous_contacts: int

    @property
    def person_id(self) -> int:
        return self.person.pk

    @property
    def very_likely(self) -> bool:
        return self.score >= VERY_LIKELY

    @property
    def likelihood(self) -> str:
        return "Very likely" if self.very_likely else "Possible"

    @property
    def percent(self) -> int:
        """The score as a percentage for people to read: never 100, since a match is never certain."""
        return min(99, int(round(self.score * 100)))

    @property
    def name(self) -> str:
        return self.person.full_name

    @property
    def date_of_birth(self) -> dt.date | None:
        return self.person.date_of_birth

    @property
    def postcode(self) -> str:
        return self.person.postcode


def _clean(normalise, value) -> str:
    try:
        return normalise(value) if value else ""
    except ValidationError:
        return ""


def _date(value) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, dt.date) else None


def details_of(data: dict, *, postcode: str = "") -> Details:
    """The Details of a person as typed (a form's or the API's fields); identifiers that do not check out
    are left out. `postcode` stands in when none was typed (a related person who lives with the child)."""
    return Details(
        given_name=(data.get("first_name") or "").strip(),
        family_name=(data.get("last_name") or "").strip(),
        date_of_birth=_date(data.get("date_of_birth")),
        nhs_number=_clean(normalise_nhs_number, data.get("nhs_number")),
        upn=_clean(normalise_upn, data.get("upn")),
        postcode=_clean(normalise_postcode, data.get("postcode")) or postcode,
        gender=data.get("gender") if data.get("gender") not in (None, "unknown") else "",
    )


def _contacts_seen(user, person_ids: list[int]) -> dict[int, int]:
    """For each person, how many contacts about them (as the child) the user may see."""
    if not person_ids:
        return {}
    rule = filters.enquiry_filter(user)
    qs = Enquiry.objects.filter(child_id__in=person_ids)
    if rule is not None:
        qs = qs.filter(rule)
    return dict(qs.order_by().values("child_id").annotate(n=Count("pk")).values_list("child_id", "n"))


def _offers(user, found, ref: str) -> list[Offer]:
    counts = _contacts_seen(user, [c.person.pk for c in found])
    offers = [Offer(c.person, c.score, tuple(c.reasons), tuple(c.conflicts), counts.get(c.person.pk, 0))
              for c in found]
    if offers:
        audit.note_read("person match", ref, [o.person_id for o in offers], READ_FIELDS)
    return offers


def offers(user, details: Details, *, exclude=(), limit: int = 10, around=()) -> list[Offer]:
    """The people already known who may be `details`, best first, among those the user may find; and, for a
    related person, those of similar name already related to a child in `around` (the child's offers)."""
    return _offers(user, found_for(user, details, exclude=exclude, limit=limit, around=around), "match")


def found_for(user, details: Details, *, exclude=(), limit: int = 10, around=()) -> list:
    """The candidates `offers` shows (not recorded as read: for the services, which record the choice)."""
    if not (details.given_name or details.family_name or details.nhs_number or details.upn):
        return []
    visible = visible_people(user)
    found = candidates(details, among=visible, limit=limit, exclude=exclude)
    if around:
        seen = {c.person.pk for c in found} | set(exclude)
        # A few people (those around a few children), scored directly: a name alone has no blocking key.
        near = (visible.filter(related_to__child_id__in=list(around), related_to__to_date__isnull=True)
                .exclude(pk__in=seen).distinct().prefetch_related("names", "addresses")[:50])
        more = [(p, compare(details, Details.of(p))) for p in near]
        found += sorted((Candidate(p, c.score, c.reasons + (IN_HOUSEHOLD,), c.conflicts) for p, c in more
                         if c.score >= HOUSEHOLD_SHOW_AT), key=lambda c: (-c.score, c.person.pk))
    return found[:limit]


def decided_different(person_id: int) -> set[int]:
    """The people decided to be someone else than this person (an identity decision "new", either way)."""
    rows = IdentityDecision.objects.filter(outcome=IdentityOutcome.NEW, candidate__isnull=False).filter(
        Q(person_id=person_id) | Q(candidate_id=person_id)).values_list("person_id", "candidate_id")
    return {b if a == person_id else a for a, b in rows}


def possible_matches(user, enquiry: Enquiry) -> list[Offer]:
    """For a manager on an enquiry: people already known who may be its child, the child having been recorded
    as a new person, minus those already decided to be someone else. Empty for anyone who may not amend the
    enquiry's people (the MASH managers may), and for a child whose record was merged into another."""
    if not gate.decide(user, AMEND_PERSON, enquiry):
        return []
    child = Person.objects.filter(pk=enquiry.child_id).prefetch_related("names", "addresses").first()
    if child is None or child.merged_into_id or child.anonymised_at:
        return []
    exclude = decided_different(child.pk) | {child.pk}
    found = candidates(Details.of(child), among=visible_people(user), exclude=exclude, limit=5)
    return _offers(user, found, enquiry.reference or "")
