"""The person index's blocking keys (`MatchKey`): rebuilt from what is known of a person."""

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
