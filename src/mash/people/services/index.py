"""The person index's blocking keys (`MatchKey`): rebuilt from what is known of a person."""

from django.db import transaction

from ..matching import Details, blocking_keys
from ..models import MatchKey, Person


def index_person(person: Person) -> None:
    """(Re)build the person's MatchKey rows from Details.of(person). Call after saving a person,
    after an amendment, a merge or an unmerge. Caller owns the transaction.

    A merged record (a pointer to the kept one) and an anonymised one have no keys: they are never
    offered as candidates."""
    keys = set() if person.merged_into_id or person.anonymised_at else blocking_keys(Details.of(person))
    existing = set(MatchKey.objects.filter(person=person).values_list("key", flat=True))
    if existing - keys:
        MatchKey.objects.filter(person=person, key__in=sorted(existing - keys)).delete()
    MatchKey.objects.bulk_create([MatchKey(person=person, key=k) for k in sorted(keys - existing)])


def reindex_all(*, batch: int = 500) -> tuple[int, int]:
    """Rebuild every person's keys, `batch` people per transaction; returns (people, keys now held).
    Merged and anonymised records lose theirs."""
    done, last = 0, 0
    while True:
        with transaction.atomic():
            people = list(Person.objects.filter(pk__gt=last).order_by("pk")
                          .prefetch_related("names", "addresses")[:batch])
            for person in people:
                index_person(person)
        if not people:
            return done, MatchKey.objects.count()
        done += len(people)
        last = people[-1].pk
