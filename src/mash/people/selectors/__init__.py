"""Reads of the person index, through the gate. Who may find or see a person (need-to-know):

- a MASH manager: every person in the hub;
- anyone else: the people of the enquiries they may view (the child and the people related to them).

Merged records (a pointer to the record kept) and anonymised ones are never offered.
Each feature's reads are in a module of this package: matching, history, chronology, search, duplicates.
"""

from django.db.models import Q, QuerySet

from mash.access import filters, gate
from mash.accounts.models import Role
from mash.cases.models import Enquiry
from mash.core.errors import NotFound
from mash.core.ids import in_range

from ..models import Person, Relationship


def live_people() -> QuerySet[Person]:
    """People who are a record of their own: not merged into another, not anonymised by retention."""
    return Person.objects.filter(merged_into__isnull=True, anonymised_at__isnull=True)


def visible_people(user) -> QuerySet[Person]:
    """The people `user` may find: every live person for a MASH manager, otherwise the children of the
    enquiries they may view and the people related to those children."""
    people = live_people()
    if getattr(user, "role", None) == Role.MASH_MANAGER:
        return people
    children = Enquiry.objects.filter(filters.enquiry_filter(user)).values("child_id")
    related = Relationship.objects.filter(child_id__in=children).values("person_id")
    # A merged child's enquiries stay on its own record: the user finds the record it points to.
    kept = Person.objects.filter(pk__in=children, merged_into__isnull=False).values("merged_into_id")
    return people.filter(Q(pk__in=children) | Q(pk__in=related) | Q(pk__in=kept))


def records_of(person_or_id) -> list[int]:
    """The ids of every record that is this person: theirs, and those merged into it (at any depth).

    A merge leaves the merged record as a pointer (`Person.merged_into`) and its enquiries, contacts,
    consent and data key where they are, so each stays readable under its own key; whatever gathers
    a person's data (history, chronology, subject access, retention) gathers it over these ids."""
    root = person_or_id.pk if isinstance(person_or_id, Person) else int(person_or_id)
    ids, frontier = [root], [root]
    while frontier:
        frontier = list(Person.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True))
        ids.extend(i for i in frontier if i not in ids)
    return ids


def kept_record(person: Person) -> Person:
    """The record a merged person now points to (itself when not merged)."""
    seen = {person.pk}
    while person.merged_into_id and person.merged_into_id not in seen:
        seen.add(person.merged_into_id)
        person = person.merged_into
    return person


def visible_person(user, person_id: int, *, action: str) -> Person:
    """A person the user may find (`visible_people`), or NotFound, recorded as a refusal of `action`: a
    person outside their need-to-know answers exactly as an id that is nobody's. The person pages' loader."""
    refused = gate.refusal(user)
    person_in_range = in_range(person_id)
    found = visible_people(user).filter(pk=person_id).first() if person_in_range and not refused else None
    if found is None:
        exists = person_in_range and Person.objects.filter(pk=person_id).exists()
        reason = refused or ("outside the user's need to know" if exists else "no such person")
        gate.record_denial(user, action, "person", person_id, exists, reason)
        raise NotFound()
    return found
