"""Recording and amending people. Amendments keep the earlier values, encrypted (`PersonRevision`)."""

import json

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from mash.audit import services as audit
from mash.audit.models import Kind as AuditKind
from mash.core.errors import ValidationFailed

from ..models import Person, PersonRevision, Relationship
from .index import index_person

PERSON_FIELDS = ("first_name", "last_name", "other_names", "date_of_birth", "gender", "nhs_number", "upn",
                 "address_line_1", "address_line_2", "town", "postcode", "date_of_birth_estimated", "unborn",
                 "expected_date")
# Fields whose empty value is None or False, not "".
_DATES, _FLAGS = {"date_of_birth", "expected_date"}, {"date_of_birth_estimated", "unborn"}


def _value(name: str, value):
    if name in _FLAGS:
        return bool(value)
    if name in _DATES:
        return value or None
    return value if value is not None else ""


def _validated(obj, prefix: str = ""):
    try:
        obj.full_clean(exclude=["created_by"] if not obj.created_by_id else None)
    except ValidationError as exc:
        raise ValidationFailed({f"{prefix}{k}": v for k, v in exc.message_dict.items()}) from None
    return obj


def build_person(data: dict, *, by, prefix: str = "") -> Person:
    """A validated, unsaved person. `prefix` names the fields in errors, e.g. 'child.'."""
    unknown = set(data) - set(PERSON_FIELDS)
    if unknown:
        raise ValidationFailed({f"{prefix}{k}": ["unknown field"] for k in sorted(unknown)})
    return _validated(Person(created_by=by, **{k: _value(k, v) for k, v in data.items()}), prefix)


@transaction.atomic
def record_relationship(child: Person, person: Person, relationship: str, *, lives_with_child=False,
                        parental_responsibility=False) -> Relationship:
    rel = Relationship(child=child, person=person, relationship=relationship, lives_with_child=lives_with_child,
                       parental_responsibility=parental_responsibility)
    try:
        rel.full_clean()
    except ValidationError as exc:
        raise ValidationFailed(exc.message_dict) from None
    rel.save()
    return rel


def amend_person(person: Person, changes: dict, *, reason: str, by) -> PersonRevision | None:
    """Apply `changes` to the person, recording the earlier values, who amended them and why (encrypted
    under the person's key). Returns None when nothing changed."""
    unknown = set(changes) - set(PERSON_FIELDS)
    if unknown:
        raise ValidationFailed({k: ["cannot be amended"] for k in sorted(unknown)})
    if not (reason or "").strip():
        raise ValidationFailed("Give a reason for the amendment", field="reason")
    changed = [name for name, value in changes.items() if getattr(person, name) != value]
    if not changed:
        return None
    try:
        with transaction.atomic():
            last = person.revisions.select_for_update().order_by("-number").first()
            revision = PersonRevision.objects.create(
                person=person, number=(last.number + 1) if last else 1, changed_fields=changed,
                # Through the JSON encoder, so dates are kept as text.
                previous=json.loads(json.dumps({name: getattr(person, name) for name in changed},
                                               cls=DjangoJSONEncoder)),
                reason=reason.strip(), changed_by=by)
            for name in changed:
                setattr(person, name, changes[name])
            person.full_clean()
            person.save(update_fields=changed)
            index_person(person)
            audit.record(AuditKind.WRITE, "person.amend", actor=by, object_type="person",
                         object_ref=str(person.pk), people=[person.pk], fields=revision.changed_fields,
                         detail=f"revision {revision.number}")
            return revision
    except ValidationError as exc:
        raise ValidationFailed(exc.message_dict) from None
