"""Duplicates already recorded: candidate pairs of live people, one pair side by side, and the merges.

MASH managers only: anyone else is told nothing exists (404, the refusal recorded), as for the audit
log's pages. Candidate pairs are found by blocking: two people who share a `MatchKey` (a self-join of the
key table in SQL, grouped by pair; a key shared by more than `MAX_BLOCK` people, a common surname code
say, is skipped), then scored with `people.matching.compare`. Pairs a manager decided are not the same
person (an IdentityDecision "new" between the two, either way round) are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q

from mash.core.ids import in_range
from mash.access import gate
from mash.accounts.models import Role
from mash.audit import services as audit
from mash.cases.models import Enquiry
from mash.core.errors import NotFound

from ..matching import SHOW_AT, Comparison, Details, compare
from ..models import IdentityDecision, IdentityOutcome, Merge, MatchKey, Person
from . import live_people, records_of

# The policies of the review pages (reading pairs) and of merging, unmerging and "not the same person".
REVIEW_DUPLICATES = "case:person.duplicates"
MERGE_PEOPLE = "case:person.merge"
# A key shared by more people than this says little (a common surname's phonetic code, a big block of
# flats' postcode): it is skipped, so the pairs stay few and each pair is still found through its other keys.
MAX_BLOCK = 50
DEFAULT_LIMIT = 200


def is_manager(user) -> bool:
    return bool(user and user.is_authenticated and getattr(user, "role", None) == Role.MASH_MANAGER
                and not gate.refusal(user))


def require_manager(user, action: str = REVIEW_DUPLICATES, object_type: str = "person", ref="") -> None:
    """NotFound, recorded, unless the user is a MASH manager the gates let through."""
    if not is_manager(user):
        reason = gate.refusal(user) or "only a MASH manager reviews duplicate records"
        gate.record_denial(user, action.partition(":")[2], object_type, ref, False, reason)
        raise NotFound()


@dataclass(frozen=True)
class Pair:
    """Two live records that may be the same person, with the matcher's score, reasons and conflicts."""

    a: Person
    b: Person
    score: float
    reasons: tuple[str, ...]
    conflicts: tuple[str, ...]
    shared_keys: int = 0


def _blocked_pairs(max_block: int) -> list[tuple[int, int, int]]:
    """(lower id, higher id, keys shared) for every two live people sharing a blocking key: one SQL
    self-join of the key table, grouped by pair, over keys no more than `max_block` live people share."""
    q = connection.ops.quote_name
    keys, people, key = q(MatchKey._meta.db_table), q(Person._meta.db_table), q("key")
    # Each step a join on an index (the person's id, the key), never a subquery evaluated per row.
    sql = (f"WITH live_keys AS (SELECT m.{key} AS k, m.person_id AS p FROM {keys} m "
           f"JOIN {people} person ON person.id = m.person_id "
           f"WHERE person.merged_into_id IS NULL AND person.anonymised_at IS NULL), "
           f"shared AS (SELECT k FROM live_keys GROUP BY k HAVING COUNT(*) BETWEEN 2 AND %s), "
           f"blocked AS (SELECT live_keys.k, live_keys.p FROM live_keys JOIN shared ON shared.k = live_keys.k) "
           f"SELECT a.p, b.p, COUNT(*) FROM blocked a JOIN blocked b ON b.k = a.k AND a.p < b.p "
           f"GROUP BY a.p, b.p")
    with connection.cursor() as cursor:
        cursor.execute(sql, [max_block])
        return [(int(a), int(b), int(n)) for a, b, n in cursor.fetchall()]


def _decided_apart(pairs) -> set[tuple[int, int]]:
    """The pairs (lower id, higher id) a manager decided are not the same person."""
    ids = {i for a, b, _ in pairs for i in (a, b)}
    rows = IdentityDecision.objects.filter(outcome=IdentityOutcome.NEW, person_id__in=ids,
                                           candidate_id__in=ids).values_list("person_id", "candidate_id")
    return {(min(p, c), max(p, c)) for p, c in rows}


def _people(ids) -> dict[int, Person]:
    return {p.pk: p for p in Person.objects.filter(pk__in=ids).prefetch_related("names", "addresses")}


def _same_identifier(a: Details, b: Details) -> bool:
    return bool((a.nhs_number and a.nhs_number == b.nhs_number) or (a.upn and a.upn.upper() == b.upn.upper()))


def candidate_pairs(*, threshold: float | None = None, limit: int | None = DEFAULT_LIMIT,
                    max_block: int = MAX_BLOCK) -> list[Pair]:
    """Candidate pairs among live people, highest score first: those scoring at least `threshold`
    (default `matching.SHOW_AT`), and any sharing an NHS number or unique pupil number whose other details
    conflict (the same NHS number with a different date of birth), which a person must resolve whatever the
    score. No user check: for the
    `mash people find-duplicates` command and, behind `duplicate_pairs`, the managers' page."""
    threshold = SHOW_AT if threshold is None else threshold
    blocked = _blocked_pairs(max_block)
    apart = _decided_apart(blocked)
    blocked = [row for row in blocked if (row[0], row[1]) not in apart]
    people = _people({i for a, b, _ in blocked for i in (a, b)})
    details = {pk: Details.of(p) for pk, p in people.items()}
    found = []
    for a, b, shared in blocked:
        result: Comparison = compare(details[a], details[b])
        if result.score >= threshold or (result.conflicts and _same_identifier(details[a], details[b])):
            found.append(Pair(people[a], people[b], result.score, tuple(result.reasons), tuple(result.conflicts),
                              shared))
    found.sort(key=lambda p: (-p.score, p.a.pk, p.b.pk))
    return found[:limit] if limit else found


def _note(pair_people, why: str = "duplicates") -> None:
    for person in pair_people:
        audit.note_read("person", str(person.pk), [person.pk], (why,))


def duplicate_pairs(user, *, threshold: float | None = None, limit: int | None = DEFAULT_LIMIT) -> list[Pair]:
    """The candidate pairs, for a MASH manager (NotFound, recorded, for anyone else); each person shown
    is recorded as read."""
    require_manager(user)
    pairs = candidate_pairs(threshold=threshold, limit=limit)
    _note([p for pair in pairs for p in (pair.a, pair.b)])
    return pairs


# --- One pair, side by side -------------------------------------------------------------------------

@dataclass(frozen=True)
class Side:
    """One record of a pair as the review page shows it."""

    person: Person
    names: list = field(default_factory=list)
    addresses: list = field(default_factory=list)
    identifiers: list = field(default_factory=list)
    enquiries: int = 0
    merged_in: int = 0


@dataclass(frozen=True)
class PairView:
    a: Side
    b: Side
    comparison: Comparison
    decided_apart: bool

    @property
    def sides(self) -> tuple[Side, Side]:
        return (self.a, self.b)


def _side(person: Person) -> Side:
    ids = records_of(person)
    return Side(person=person, names=list(person.names.all()), addresses=list(person.addresses.all()),
                identifiers=list(person.local_identifiers.select_related("agency")),
                enquiries=Enquiry.objects.filter(child_id__in=ids).count(), merged_in=len(ids) - 1)


def duplicate_pair(user, a_id: int, b_id: int) -> PairView:
    """Two live records side by side with the matcher's comparison (NotFound, recorded, unless the user
    is a MASH manager and both are live records of their own)."""
    require_manager(user, ref=f"{a_id}/{b_id}")
    both_in_range = in_range(a_id) and in_range(b_id)
    people = _people([a_id, b_id]) if both_in_range else {}
    live = set(live_people().filter(pk__in=[a_id, b_id]).values_list("pk", flat=True)) if both_in_range else set()
    if a_id == b_id or live != {a_id, b_id}:
        gate.record_denial(user, REVIEW_DUPLICATES.partition(":")[2], "person", f"{a_id}/{b_id}", False,
                           "not two live records")
        raise NotFound()
    a, b = people[a_id], people[b_id]
    _note([a, b])
    apart = IdentityDecision.objects.filter(
        Q(person_id=a_id, candidate_id=b_id) | Q(person_id=b_id, candidate_id=a_id),
        outcome=IdentityOutcome.NEW).exists()
    return PairView(_side(a), _side(b), compare(Details.of(a), Details.of(b)), apart)


# --- Merges ---------------------------------------------------------------------------------------

def recent_merges(user, limit: int = 20) -> list[Merge]:
    """The latest merges, undone ones too, for the review page's history (MASH managers)."""
    require_manager(user)
    merges = list(Merge.objects.select_related("kept", "merged", "merged_by", "undone_by")[:limit])
    _note({p.pk: p for m in merges for p in (m.kept, m.merged)}.values(), "merges")
    return merges


def merge(user, merge_id: int) -> Merge:
    """One merge, for undoing it (MASH managers; NotFound, recorded, otherwise or if there is none)."""
    require_manager(user, MERGE_PEOPLE, "merge", merge_id)
    found = Merge.objects.select_related("kept", "merged").filter(pk=merge_id).first() if in_range(merge_id) else None
    if found is None:
        gate.record_denial(user, MERGE_PEOPLE.partition(":")[2], "merge", merge_id, False, "no such merge")
        raise NotFound()
    return found


def person(user, person_id: int) -> Person:
    """A person a manager names for a merge: any record, live or not (the merge says why it refuses a
    merged or anonymised one); NotFound, recorded, if there is none or the user is not a manager."""
    require_manager(user, MERGE_PEOPLE, "person", person_id)
    found = Person.objects.filter(pk=person_id).first() if in_range(person_id) else None
    if found is None:
        gate.record_denial(user, MERGE_PEOPLE.partition(":")[2], "person", person_id, False, "no such person")
        raise NotFound()
    return found
