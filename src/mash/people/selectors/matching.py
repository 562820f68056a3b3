"""Candidates for a person: who already in the index may be the person described (`people.matching`).

Found through `MatchKey` (an index lookup on the details' blocking keys), never a scan of people; limited
to `among` (pass `visible_people(user)`), so nobody is offered a person outside their need-to-know. The
caller audits what it shows (the candidates are people's records)."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, OuterRef, QuerySet, Subquery

from ..matching import MAX_FETCHED, SHOW_AT, Details, blocking_keys, compare
from ..models import MatchKey, Person


@dataclass(frozen=True)
class Candidate:
    person: Person
    score: float
    reasons: tuple[str, ...]
    conflicts: tuple[str, ...]


def candidates(details: Details, *, among: QuerySet[Person], limit: int = 10, exclude: Iterable[int] = (),
               threshold: float | None = None) -> list[Candidate]:
    """Ranked candidates (score >= threshold, default SHOW_AT) found through MatchKey blocking keys
    (an index lookup, never a scan of people), limited to `among` (pass visible_people(user))."""
    keys = blocking_keys(details)
    if not keys:
        return []
    threshold = SHOW_AT if threshold is None else threshold
    # Driven by the key index: the people whose keys are hit (an IN list the database looks up by key),
    # ranked by how many keys each shares (one index probe per candidate), never a walk through `among`.
    hits = MatchKey.objects.filter(key__in=sorted(keys))
    shared = hits.filter(person=OuterRef("pk")).order_by().values("person").annotate(n=Count("pk")).values("n")
    people = (among.filter(pk__in=hits.values("person_id")).exclude(pk__in=list(exclude))
              .annotate(shared_keys=Subquery(shared)).order_by("-shared_keys", "pk")
              .prefetch_related("names", "addresses")[:MAX_FETCHED])
    found = []
    for person in people:
        comparison = compare(details, Details.of(person))
        if comparison.score >= threshold:
            found.append(Candidate(person=person, score=comparison.score, reasons=comparison.reasons,
                                   conflicts=comparison.conflicts))
    found.sort(key=lambda c: (-c.score, c.person.pk))
    return found[:limit]
