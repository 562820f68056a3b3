"""Recording relationships between people already on the index, with from and to dates, and ending them.

A relationship reads "`person` is the `relationship` of `child`" (for "partner" and "sibling", of each other);
ending one sets its to date and keeps the row. Only MASH managers record or end them (the household is part of
every enquiry of the people concerned, so it is theirs to keep right), and each change is audited.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mash.access import gate
from mash.access.rules import AMEND_PERSON
from mash.accounts.models import Role
from mash.audit import services as audit
from mash.audit.models import Kind as AuditKind
from mash.core.errors import NotFound, PermissionDenied, ValidationFailed

from ..models import Person, Relationship, RelationshipType


def _require_manager(by, person: Person) -> None:
    """PermissionDenied (recorded) unless `by` is a MASH manager the gates let through."""
    reason = gate.refusal(by)
    if not reason and getattr(by, "role", None) != Role.MASH_MANAGER:
        reason = "Only a MASH manager records or ends relationships"
    if reason:
        gate.record_denial(by, AMEND_PERSON, "person", person.pk, True, reason)
        raise PermissionDenied(reason)


def _live(person_id) -> Person | None:
    return Person.objects.filter(pk=person_id, merged_into__isnull=True, anonymised_at__isnull=True).first()


def add_relationship(child: Person, other_id, relationship: str, *, by, lives_with_child: bool = False,
                     parental_responsibility: bool = False, from_date: dt.date | None = None,
                     to_date: dt.date | None = None) -> Relationship:
    """Record that the person numbered `other_id` is the `relationship` of `child` (both already recorded)."""
    _require_manager(by, child)  # outside the transaction, so the refusal stays recorded
    with transaction.atomic():
        return _add(child, other_id, relationship, by=by, lives_with_child=lives_with_child,
                    parental_responsibility=parental_responsibility, from_date=from_date, to_date=to_date)


def _add(child: Person, other_id, relationship: str, *, by, lives_with_child, parental_responsibility, from_date,
         to_date) -> Relationship:
    errors: dict[str, list[str]] = {}
    try:
        other = _live(int(other_id)) if str(other_id or "").strip() else None
    except (TypeError, ValueError):
        other = None
    if other is None:
        errors["other"] = ["Enter the record number of a person already recorded"]
    elif other.pk == child.pk:
        errors["other"] = ["A person cannot be related to themself"]
    if relationship not in RelationshipType.values:
        errors["relationship"] = ["Choose how they are related"]
    if from_date and to_date and to_date < from_date:
        errors["to_date"] = ["The end date must be on or after the start date"]
    if errors:
        raise ValidationFailed(errors)
    rel = Relationship(child=child, person=other, relationship=relationship, lives_with_child=lives_with_child,
                       parental_responsibility=parental_responsibility, from_date=from_date, to_date=to_date)
    try:
        rel.full_clean()
    except ValidationError as exc:
        raise ValidationFailed(exc.message_dict) from None
    rel.save()
    audit.record(AuditKind.WRITE, "relationship.record", actor=by, object_type="relationship", object_ref=str(rel.pk),
                 people=[child.pk, other.pk], fields=["relationship", "from_date", "to_date"])
    return rel


def end_relationship(person: Person, relationship_id, *, by, to_date: dt.date | None = None) -> Relationship:
    """End one of `person`'s relationships (either side) on `to_date` (today if not given)."""
    _require_manager(by, person)  # outside the transaction, so the refusal stays recorded
    with transaction.atomic():
        return _end(person, relationship_id, by=by, to_date=to_date)


def _end(person: Person, relationship_id, *, by, to_date) -> Relationship:
    if not str(relationship_id or "").strip().isdigit():
        raise ValidationFailed("Choose the relationship to end", field="relationship")
    rel = (Relationship.objects.select_for_update().filter(Q(child=person) | Q(person=person), pk=relationship_id)
           .first())
    if rel is None:
        raise NotFound()
    to_date = to_date or timezone.localdate()
    if rel.to_date is not None:
        raise ValidationFailed("This relationship has already ended", field="to_date")
    if rel.from_date and to_date < rel.from_date:
        raise ValidationFailed("The end date must be on or after the start date", field="to_date")
    rel.to_date = to_date
    rel.save(update_fields=["to_date"])
    audit.record(AuditKind.WRITE, "relationship.end", actor=by, object_type="relationship", object_ref=str(rel.pk),
                 people=[rel.child_id, rel.person_id], fields=["to_date"])
    return rel
