"""Merging two records of one person and undoing it (people.services.merging), and the merge API.

Every person here is synthetic."""

import datetime as dt

import pytest

from mash.audit.models import AuditEvent, Kind
from mash.cases.models import Contact, Enquiry
from mash.core.errors import NotFound, ValidationFailed
from mash.keys.services import forget_cached_keys
from mash.people.models import LocalIdentifier, MatchKey, Merge, Person, PersonAddress, PersonName, Relationship
from mash.people.selectors import duplicates, records_of
from mash.people.services import merging
from mash.people.services.index import index_person
from mash.testing.api import Api

REASON = "Same NHS number and date of birth; the school confirmed it is one child"


def _person(by, **fields) -> Person:
    data = dict(first_name="Rowan", last_name="Exampleton", date_of_birth=dt.date(2016, 5, 4),
                nhs_number="9434765919", address_line_1="1 Sample Street", town="Grays", postcode="RM17 6SL")
    data.update(fields)
    person = Person.objects.create(created_by=by, **data)
    index_person(person)
    return person


@pytest.fixture
def pair(world, manager, new_enquiry):
    """The enquiry's child (to be merged: an enquiry, its mother, a sibling link, an earlier name and a
    police id) and a second record of her, 'Ro Exampleton', to keep."""
    merged = new_enquiry.child
    sibling = _person(manager, first_name="Ash", nhs_number="", date_of_birth=dt.date(2012, 1, 9))
    Relationship.objects.create(child=sibling, person=merged, relationship="sibling")
    PersonName.objects.create(person=merged, kind="previous", first_name="Rowan", last_name="Oldname")
    LocalIdentifier.objects.create(person=merged, agency=world.partner("essex-police"), value="NOM-0001")
    index_person(merged)
    kept = _person(manager, first_name="Ro")
    return kept, merged, new_enquiry


def _where(merged_id):
    return {
        "child": sorted(Relationship.objects.filter(child_id=merged_id).values_list("pk", flat=True)),
        "person": sorted(Relationship.objects.filter(person_id=merged_id).values_list("pk", flat=True)),
        "names": sorted(PersonName.objects.filter(person_id=merged_id).values_list("pk", flat=True)),
        "ids": sorted(LocalIdentifier.objects.filter(person_id=merged_id).values_list("pk", flat=True)),
    }


def _concern(enquiry) -> str:
    forget_cached_keys()
    return Contact.objects.get(pk=enquiry.contact_id).concern


def test_merge_moves_relationships_names_and_ids_and_unmerge_puts_back_exactly_those(pair, manager):
    kept, merged, enquiry = pair
    concern = _concern(enquiry)
    before, kept_before = _where(merged.pk), _where(kept.pk)
    assert before["child"] and before["person"] and before["names"] and before["ids"]

    made = merging.merge_people(kept, merged, reason=REASON, by=manager)

    merged.refresh_from_db()
    assert merged.merged_into_id == kept.pk
    assert _where(merged.pk) == {"child": [], "person": [], "names": [], "ids": []}
    after = _where(kept.pk)
    for part in before:
        assert set(before[part]) <= set(after[part])
    assert made.moved[merging.REL_CHILD] == before["child"] and made.moved[merging.REL_PERSON] == before["person"]
    # The merged record's name becomes an alias of the record kept; its address is the same, so none added.
    alias = PersonName.objects.get(pk__in=made.moved[merging.NAMES_CREATED])
    assert (alias.person_id, alias.kind, alias.first_name) == (kept.pk, "alias", "Rowan")
    assert made.moved[merging.ADDRESSES_CREATED] == []
    # Its enquiries stay where they are and are found through the record kept; the merged record is no
    # longer indexed; the encrypted contact still reads under its own key, and the reason under the kept's.
    assert list(Enquiry.objects.filter(child_id__in=records_of(kept))) == [enquiry]
    assert not MatchKey.objects.filter(person=merged).exists()
    assert _concern(enquiry) == concern
    assert Merge.objects.get(pk=made.pk).reason == REASON
    event = AuditEvent.objects.filter(kind=Kind.WRITE, action="person.merge").get()
    assert event.people == sorted([kept.pk, merged.pk]) and event.actor_id == manager.pk

    merging.unmerge(made, reason="They are twins", by=manager)

    merged.refresh_from_db()
    assert merged.merged_into_id is None
    assert _where(merged.pk) == before and _where(kept.pk) == kept_before
    assert not PersonName.objects.filter(pk=alias.pk).exists()
    assert MatchKey.objects.filter(person=merged).exists()
    assert records_of(kept) == [kept.pk]
    assert _concern(enquiry) == concern
    made.refresh_from_db()
    assert made.undone_at and made.undone_by_id == manager.pk and made.undo_reason == "They are twins"
    event = AuditEvent.objects.filter(kind=Kind.WRITE, action="person.unmerge").get()
    assert event.people == sorted([kept.pk, merged.pk])


def test_merge_adds_the_merged_address_to_the_record_kept_and_unmerge_removes_it(world, manager):
    kept = _person(manager)
    merged = _person(manager, address_line_1="9 Old Road", postcode="SS1 1AA", nhs_number="")
    made = merging.merge_people(kept, merged, reason=REASON, by=manager)
    added = PersonAddress.objects.get(pk__in=made.moved[merging.ADDRESSES_CREATED])
    assert (added.person_id, added.postcode) == (kept.pk, "SS1 1AA")
    assert MatchKey.objects.filter(person=kept, key__contains="SS1 1AA").exists()
    merging.unmerge(made, reason="Different children", by=manager)
    assert not PersonAddress.objects.filter(person=kept).exists()
    assert not MatchKey.objects.filter(person=kept, key__contains="SS1 1AA").exists()


def test_refused_merges_and_unmerges(world, manager):
    a, b, c = _person(manager), _person(manager), _person(manager, nhs_number="")
    with pytest.raises(merging.MergeRefused, match="itself"):
        merging.merge_people(a, a, reason=REASON, by=manager)
    with pytest.raises(ValidationFailed, match="reason"):
        merging.merge_people(a, b, reason="  ", by=manager)
    Relationship.objects.create(child=a, person=c, relationship="sibling")
    with pytest.raises(merging.MergeRefused, match="related to each other"):
        merging.merge_people(a, c, reason=REASON, by=manager)
    made = merging.merge_people(a, b, reason=REASON, by=manager)
    # b is merged: it can be neither kept nor merged again, and a cannot go into it (a loop).
    for kept, merged in ((b, c), (c, b), (b, a)):
        with pytest.raises(merging.MergeRefused, match="already been merged"):
            merging.merge_people(Person.objects.get(pk=kept.pk), Person.objects.get(pk=merged.pk), reason=REASON,
                                 by=manager)
    Person.objects.filter(pk=c.pk).update(anonymised_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    with pytest.raises(merging.MergeRefused, match="anonymised"):
        merging.merge_people(a, Person.objects.get(pk=c.pk), reason=REASON, by=manager)
    merging.unmerge(made, reason="Not the same", by=manager)
    with pytest.raises(merging.MergeRefused, match="already been undone"):
        merging.unmerge(made, reason="Again", by=manager)
    assert Merge.objects.count() == 1
    assert AuditEvent.objects.filter(action__in=("person.merge", "person.unmerge")).count() == 2


def test_merge_api_for_managers_only(world, manager, police_worker):
    kept, merged = _person(manager), _person(manager, first_name="Rowena")
    body = {"kept_id": kept.pk, "merged_id": merged.pk, "reason": REASON}
    assert Api(police_worker).post("/people/merges", body).status_code == 404
    assert Api(manager).post("/people/merges", {**body, "merged_id": 10**9}).status_code == 404
    assert not Merge.objects.exists()

    response = Api(manager).post("/people/merges", body)
    assert response.status_code == 201, response.content
    out = response.json()
    assert (out["kept_id"], out["merged_id"], out["undone_at"]) == (kept.pk, merged.pk, None)
    assert out["moved"]["names_added"] == 1 and out["moved"]["relationships"] == 0
    assert Api(manager).post("/people/merges", body).status_code == 409  # already merged

    undo = f"/people/merges/{out['id']}/undo"
    assert Api(police_worker).post(undo, {"reason": "Twins"}).status_code == 404
    assert Api(manager).post(undo, {"reason": ""}).status_code == 400
    response = Api(manager).post(undo, {"reason": "Twins"})
    assert response.status_code == 200 and response.json()["undone_at"]
    Person.objects.get(pk=merged.pk, merged_into__isnull=True)


def test_the_merge_apis_loaders_refuse_anyone_but_a_manager(world, manager, police_worker):
    person = _person(manager)
    made = merging.merge_people(person, _person(manager), reason=REASON, by=manager)
    for load, ref in ((duplicates.person, person.pk), (duplicates.merge, made.pk)):
        with pytest.raises(NotFound):
            load(police_worker, ref)
        assert load(manager, ref).pk == ref
    with pytest.raises(NotFound):
        duplicates.person(manager, 10**9)


def test_merge_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert paths["/api/v1/people/merges"]["post"]["x-access-policy"] == "case:person.merge"
    assert "/api/v1/people/merges/{merge_id}/undo" in paths
