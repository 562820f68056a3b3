"""Who a contact's people are: recording a contact's child or related person as a new record or against an
existing one the user chose, and the identity decisions that say who chose, why, and what the matcher offered.

Matching never merges and never picks: an existing person is used only when the caller names it (`person_id`).
Details typed at intake that the existing record lacks or that changed (a new address, a new name) are
recorded on it as an amendment with history (`amend_person`), with the earlier name or address kept as a
PersonName or PersonAddress; a blank never erases, and a different identifier or date of birth is never
overwritten (the matcher reports it as a conflict; the duplicates review resolves it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from mash.audit import services as audit
from mash.audit.models import Kind as AuditKind
from mash.core.errors import DomainError, ValidationFailed

from ..matching import Details, compare
from ..models import IdentityDecision, IdentityOutcome, NameKind, Person, PersonAddress, PersonName
from ..selectors import visible_people
from ..selectors.identity import VERY_LIKELY, decided_different, details_of, found_for
from . import amend_person, build_person
from .index import index_person

CHOICE_KEYS = ("person_id", "identity_reason", "identity_checked")
NAME = ("first_name", "last_name")
ADDRESS = ("address_line_1", "address_line_2", "town", "postcode")
# Filled in on an existing record only where it has none.
FILL_IN = ("other_names", "date_of_birth", "nhs_number", "upn")


class UnknownPerson(DomainError):
    """A person_id that is not a person the caller may find: the same answer whether it exists or not."""

    status = 422

    def __init__(self, field: str):
        super().__init__("Unknown person: choose a person from the matches offered", field)


@dataclass
class Intake:
    """One person of a contact, checked and ready to save: a new record, or an existing one chosen."""

    prefix: str
    typed: dict
    person: Person                 # the new record (unsaved), or the existing one chosen
    existing: bool = False
    reason: str = ""
    offered: list = field(default_factory=list)   # the candidates a user chose "a new person" over
    comparison: object = None      # typed details against the existing person chosen


def split_choice(data: dict) -> tuple[dict, dict]:
    """(the person's details, the identity choice: person_id, identity_reason, identity_checked)."""
    data = dict(data or {})
    choice = {k: data.pop(k) for k in CHOICE_KEYS if k in data}
    return data, choice


def existing_person(by, person_id, *, field: str) -> Person:
    """An existing person the user may find, or UnknownPerson (422) whether it exists or not."""
    try:
        pk = int(person_id)
    except (TypeError, ValueError):
        raise UnknownPerson(field) from None
    person = visible_people(by).filter(pk=pk).prefetch_related("names", "addresses").first()
    if person is None:
        raise UnknownPerson(field)
    return person


def prepare(errors: dict, data: dict, *, by, prefix: str, postcode: str = "", around=()) -> Intake | None:
    """Check one person of a contact (errors are added to `errors`, keyed `<prefix><field>`). With a
    `person_id` the contact is about that existing person; with `identity_checked` the user saw the
    candidates and chose a new person (a reason is needed over a very likely one). `around`: for a related
    person, the child's candidates (people of that name around them were offered too)."""
    typed, choice = split_choice(data)
    reason = (choice.get("identity_reason") or "").strip()
    if choice.get("person_id") not in (None, ""):
        person = existing_person(by, choice["person_id"], field=prefix + "person_id")
        if not reason:
            errors.setdefault(prefix + "identity_reason", []).append(
                f"Give the reason why this is the same person as {person.full_name}")
        checked = {k: v for k, v in typed.items() if v not in (None, "")}
        for name in NAME:
            checked.setdefault(name, getattr(person, name))
        try:
            build_person(checked, by=by, prefix=prefix)
        except ValidationFailed as exc:
            _add(errors, exc.errors)
        return Intake(prefix, typed, person, existing=True, reason=reason,
                      comparison=compare(details_of(typed, postcode=postcode), Details.of(person)))
    try:
        person = build_person(typed, by=by, prefix=prefix)
    except ValidationFailed as exc:
        _add(errors, exc.errors)
        return None
    intake = Intake(prefix, typed, person, reason=reason)
    if choice.get("identity_checked"):
        intake.offered = found_for(by, details_of(typed, postcode=postcode), around=around)
        if not reason and any(c.score >= VERY_LIKELY for c in intake.offered):
            errors.setdefault(prefix + "identity_reason", []).append(
                "Give the reason why this is a new person: a very likely match was found")
    return intake


def _add(errors: dict, more: dict):
    for name, messages in more.items():
        errors.setdefault(name, messages)


def save(intake: Intake) -> Person:
    """Save a new person (an existing one is already saved). Call inside atomic()."""
    if not intake.existing:
        intake.person.save()
    return intake.person


def settle(intake: Intake, *, by, context: str) -> Person:
    """After the contact is saved: new details on an existing person, the identity decisions, the index.
    Call inside atomic()."""
    person = intake.person
    if intake.existing:
        _record_new_details(person, intake.typed, by=by, context=context)
        c = intake.comparison
        IdentityDecision.objects.create(person=person, candidate=person, outcome=IdentityOutcome.SAME,
                                        score=c.score, reasons=list(c.reasons), reason=intake.reason,
                                        context=context, decided_by=by)
    for c in intake.offered:
        IdentityDecision.objects.create(person=person, candidate=c.person, outcome=IdentityOutcome.NEW,
                                        score=c.score, reasons=list(c.reasons), reason=intake.reason,
                                        context=context, decided_by=by)
    index_person(person)
    return person


def _changes(person: Person, typed: dict) -> dict:
    """What the contact says that the record lacks, or that changed (name, address); never a blank."""
    built = build_person({**{n: getattr(person, n) for n in NAME},
                          **{k: v for k, v in typed.items() if v not in (None, "")}}, by=None)
    changes = {n: getattr(built, n) for n in FILL_IN if getattr(built, n) and not getattr(person, n)}
    if typed.get("gender") not in (None, "", "unknown") and person.gender == "unknown":
        changes["gender"] = built.gender
    if all(typed.get(n) for n in NAME) and any(
            getattr(built, n).casefold() != getattr(person, n).casefold() for n in NAME):
        changes.update({n: getattr(built, n) for n in NAME})
    if any(typed.get(n) for n in ADDRESS) and any(getattr(built, n) != getattr(person, n) for n in ADDRESS):
        changes.update({n: getattr(built, n) for n in ADDRESS})
    return changes


def _record_new_details(person: Person, typed: dict, *, by, context: str) -> None:
    changes = _changes(person, typed)
    if not changes:
        return
    today = timezone.localdate()
    if "first_name" in changes:
        PersonName.objects.create(person=person, kind=NameKind.PREVIOUS, first_name=person.first_name,
                                  last_name=person.last_name, until=today)
    if "postcode" in changes:
        closed = person.addresses.filter(to_date__isnull=True).update(to_date=today)
        if not closed and person.address:
            PersonAddress.objects.create(person=person, to_date=today,
                                         **{n: getattr(person, n) for n in ADDRESS})
        PersonAddress.objects.create(person=person, from_date=today, **{n: changes[n] for n in ADDRESS})
    amend_person(person, changes, reason=f"Given at contact {context}", by=by)


@transaction.atomic
def record_different(person: Person, candidate: Person, *, by, reason: str, context: str) -> IdentityDecision:
    """A manager's decision, on review, that `candidate` is not `person` (it is no longer offered for them)."""
    if not (reason or "").strip():
        raise ValidationFailed("Give the reason why they are not the same person", field="reason")
    if candidate.pk == person.pk or candidate.pk in decided_different(person.pk):
        raise ValidationFailed("This has already been decided", field="reason")
    c = compare(Details.of(person), Details.of(candidate))
    decision = IdentityDecision.objects.create(person=person, candidate=candidate, outcome=IdentityOutcome.NEW,
                                               score=c.score, reasons=list(c.reasons), reason=reason.strip(),
                                               context=context, decided_by=by)
    audit.record(AuditKind.WRITE, "person.not_same", actor=by, object_type="person", object_ref=str(person.pk),
                 people=[person.pk, candidate.pk], fields=["identity"], detail=context)
    return decision
