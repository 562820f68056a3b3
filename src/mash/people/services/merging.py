"""Merging two records of one person, undoing a merge, and deciding two records are not the same person.

A merge sets `merged.merged_into = kept` and leaves the merged record as a pointer. Its enquiries,
contacts, consent records, SAR links and its data key stay where they are, so every encrypted value
stays readable under its own key and nothing is re-encrypted or lost; whatever gathers a person's data
gathers it over `selectors.records_of(person)` (the person and the records merged into it).

What a merge moves to the kept record, each row's id kept in `Merge.moved` (so an unmerge moves exactly
those back): relationships naming the merged record (as the child, "people.Relationship.child", or as
the related person, "people.Relationship.person"), its agencies' local identifiers, and its previous
names and addresses. It also gives the kept record the merged record's name as an alias and its address
as an earlier address, when the kept record does not have them already ("people.PersonName.created",
"people.PersonAddress.created": deleted again on unmerge), so the kept record is found by them. The
merged record's blocking keys are deleted (it is never offered as a candidate again) and rebuilt by
`index.index_person` on unmerge.

Refused: a record merged with itself, either record already merged into another or anonymised, a merge
that would make a cycle, two records related to each other, no reason. Both merge and unmerge are audited
(WRITE, naming both people) and happen in one transaction each.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from mash.audit import services as audit
from mash.audit.models import Kind as AuditKind
from mash.core.errors import DomainError, ValidationFailed

from ..models import (IdentityDecision, IdentityOutcome, LocalIdentifier, MatchKey, Merge, NameKind, Person,
                      PersonAddress, PersonName, Relationship)
from ..selectors import records_of
from .index import index_person

REL_CHILD, REL_PERSON = "people.Relationship.child", "people.Relationship.person"
IDENTIFIERS, NAMES, ADDRESSES = "people.LocalIdentifier", "people.PersonName", "people.PersonAddress"
NAMES_CREATED, ADDRESSES_CREATED = "people.PersonName.created", "people.PersonAddress.created"
MOVED = {REL_CHILD: (Relationship, "child_id"), REL_PERSON: (Relationship, "person_id"),
         IDENTIFIERS: (LocalIdentifier, "person_id"), NAMES: (PersonName, "person_id"),
         ADDRESSES: (PersonAddress, "person_id")}
CREATED = {NAMES_CREATED: PersonName, ADDRESSES_CREATED: PersonAddress}


class MergeRefused(DomainError):
    """A merge or unmerge that would lose or tangle records: the message says why."""

    status = 409


def _reason(reason: str, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed("Give a reason", field=field)
    return text


def _locked(*ids: int) -> dict[int, Person]:
    """The people, locked in id order (so two merges of the same records wait rather than deadlock)."""
    return {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=sorted(ids)).order_by("pk")}


def _check_mergeable(kept: Person, merged: Person) -> None:
    if kept.pk == merged.pk:
        raise MergeRefused("A record cannot be merged into itself")
    for person, which in ((kept, "to keep"), (merged, "to merge")):
        if person.merged_into_id:
            raise MergeRefused(f"The record {which} ({person.pk}) has already been merged into record "
                               f"{person.merged_into_id}: choose that record, or undo that merge first")
        if person.anonymised_at:
            raise MergeRefused(f"The record {which} ({person.pk}) was anonymised under the retention rules "
                               "and cannot be merged")
    if kept.pk in records_of(merged):
        raise MergeRefused("This merge would make a loop: the record to keep is already merged into the other")
    between = Relationship.objects.filter(child_id=kept.pk, person_id=merged.pk) | Relationship.objects.filter(
        child_id=merged.pk, person_id=kept.pk)
    if between.exists():
        raise MergeRefused("The two records are recorded as related to each other (for example as siblings): "
                           "a person cannot be related to themselves. Check they are the same person")


def _norm(*parts: str) -> str:
    return " ".join(" ".join(p.split()).lower() for p in parts)


def _created_name(kept: Person, merged: Person) -> list[int]:
    """The merged record's name as an alias of the kept one, unless the kept record has that name."""
    name = _norm(merged.first_name, merged.last_name)
    known = {_norm(kept.first_name, kept.last_name)} | {
        _norm(n.first_name, n.last_name) for n in PersonName.objects.filter(person_id__in=(kept.pk, merged.pk))}
    if not name.strip() or name in known:
        return []
    alias = PersonName.objects.create(person=kept, kind=NameKind.ALIAS, first_name=merged.first_name,
                                      last_name=merged.last_name)
    return [alias.pk]


def _created_address(kept: Person, merged: Person) -> list[int]:
    """The merged record's address as an earlier address of the kept one, unless the kept record has it."""
    if not (merged.address_line_1 or merged.postcode):
        return []
    here = _norm(merged.address_line_1, merged.postcode)
    known = {_norm(kept.address_line_1, kept.postcode)} | {
        _norm(a.address_line_1, a.postcode) for a in PersonAddress.objects.filter(person_id__in=(kept.pk, merged.pk))}
    if here in known:
        return []
    row = PersonAddress.objects.create(person=kept, address_line_1=merged.address_line_1,
                                       address_line_2=merged.address_line_2, town=merged.town,
                                       postcode=merged.postcode)
    return [row.pk]


def _move(moved: dict, source: int, target: int) -> None:
    """Repoint the rows `moved` names from `source` to `target` (only those still naming `source`)."""
    for label, ids in moved.items():
        if label in MOVED and ids:
            model, column = MOVED[label]
            model.objects.filter(pk__in=ids, **{column: source}).update(**{column: target})


def _counts(moved: dict) -> dict[str, int]:
    return {label: len(ids) for label, ids in moved.items() if ids}


def merge_people(kept: Person, merged: Person, *, reason: str, by) -> Merge:
    """Merge `merged` into `kept` (see the module's docstring). Returns the Merge, with what it moved."""
    reason = _reason(reason)
    with transaction.atomic():
        locked = _locked(kept.pk, merged.pk)
        kept, merged = locked[kept.pk], locked[merged.pk]
        _check_mergeable(kept, merged)
        moved = {label: list(model.objects.filter(**{column: merged.pk}).order_by("pk").values_list("pk", flat=True))
                 for label, (model, column) in MOVED.items()}
        _move(moved, merged.pk, kept.pk)
        moved[NAMES_CREATED] = _created_name(kept, merged)
        moved[ADDRESSES_CREATED] = _created_address(kept, merged)
        merged.merged_into = kept
        merged.save(update_fields=["merged_into"])
        MatchKey.objects.filter(person=merged).delete()
        index_person(kept)
        record = Merge.objects.create(kept=kept, merged=merged, reason=reason, moved=moved, merged_by=by)
        audit.record(AuditKind.WRITE, "person.merge", actor=by, object_type="person", object_ref=str(kept.pk),
                     people=[kept.pk, merged.pk], fields=["merged_into"],
                     detail=f"merge {record.pk}: record {merged.pk} merged into {kept.pk}; moved "
                            + (", ".join(f"{k} {v}" for k, v in _counts(moved).items()) or "nothing"))
        return record


def unmerge(record: Merge, *, reason: str, by) -> Merge:
    """Undo a merge: move back exactly the rows it moved, delete what it created, clear `merged_into`,
    rebuild both records' blocking keys. Refused if already undone, or if the kept record has since been
    merged into another (undo that merge first)."""
    reason = _reason(reason)
    with transaction.atomic():
        record = Merge.objects.select_for_update().get(pk=record.pk)
        if record.undone_at:
            raise MergeRefused("This merge has already been undone")
        locked = _locked(record.kept_id, record.merged_id)
        kept, merged = locked[record.kept_id], locked[record.merged_id]
        if kept.merged_into_id:
            raise MergeRefused(f"The record kept ({kept.pk}) has since been merged into record "
                               f"{kept.merged_into_id}: undo that merge first")
        if merged.merged_into_id != kept.pk:
            raise MergeRefused("The merged record no longer points to the record kept")
        _move(record.moved, kept.pk, merged.pk)
        for label, model in CREATED.items():
            model.objects.filter(pk__in=record.moved.get(label) or [], person_id=kept.pk).delete()
        merged.merged_into = None
        merged.save(update_fields=["merged_into"])
        index_person(merged)
        index_person(kept)
        record.undone_by, record.undone_at, record.undo_reason = by, timezone.now(), reason
        record.save(update_fields=["undone_by", "undone_at", "undo_reason"])
        audit.record(AuditKind.WRITE, "person.unmerge", actor=by, object_type="person", object_ref=str(kept.pk),
                     people=[kept.pk, merged.pk], fields=["merged_into"],
                     detail=f"merge {record.pk} undone: record {merged.pk} is its own again; moved back "
                            + (", ".join(f"{k} {v}" for k, v in _counts(record.moved).items()) or "nothing"))
        return record


def not_the_same(a: Person, b: Person, *, reason: str, by, score: float | None = None,
                 reasons=()) -> IdentityDecision:
    """A manager's decision that two records are different people: the pair is not offered again."""
    reason = _reason(reason)
    if a.pk == b.pk:
        raise MergeRefused("A record is always the same person as itself")
    with transaction.atomic():
        decision = IdentityDecision.objects.create(person=a, candidate=b, outcome=IdentityOutcome.NEW, score=score,
                                                   reasons=list(reasons), reason=reason,
                                                   context="duplicates review", decided_by=by)
        audit.record(AuditKind.WRITE, "person.not_the_same", actor=by, object_type="person", object_ref=str(a.pk),
                     people=[a.pk, b.pk], detail=f"records {a.pk} and {b.pk} are different people")
        return decision
