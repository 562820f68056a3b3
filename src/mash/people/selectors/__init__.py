"""Reads of the person index, through the gate. Who may find or see a person (need-to-know):

- a MASH manager: every person in the hub;
- anyone else: the people of the enquiries they may view (the child and the people related to them).

Merged records (a pointer to the record kept) and anonymised ones are never offered.
Each feature's reads are in a module of this package: matching, history, chronology, search, duplicates.
"""

from django.db.models import Q, QuerySet

from mash.access import filters
from mash.accounts.models import Role
from mash.cases.models import Enquiry

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
    return people.filter(Q(pk__in=children) | Q(pk__in=related))
