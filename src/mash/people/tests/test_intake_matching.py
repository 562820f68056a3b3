"""Is this child already known? Matching at intake: the candidates offered (API and service), the choice
recorded as an identity decision, a contact recorded against an existing person, and the review panel."""

import pytest

from mash.audit.models import AuditEvent
from mash.cases import services as cases
from mash.core.errors import ValidationFailed
from mash.people.models import IdentityDecision, IdentityOutcome, Person, PersonAddress, PersonName
from mash.people.selectors.identity import details_of, offers, possible_matches
from mash.people.services import identity
from mash.testing.api import Api
from mash.testing.world import child_data, contact_data

ROWAN = dict(given_name="Rowan", family_name="Exampleton", date_of_birth="2016-05-04", nhs_number="9434765919")


def test_a_second_contact_with_the_same_nhs_number_offers_the_first_child_as_very_likely(world, manager):
    first = world.new_enquiry()
    found = offers(manager, details_of(child_data(first_name="Rowena", date_of_birth=None)))
    assert [o.person_id for o in found] == [first.child_id]
    assert found[0].very_likely and found[0].likelihood == "Very likely"
    assert "same NHS number" in found[0].reasons
    assert found[0].previous_contacts == 1


def test_recording_against_the_chosen_person_adds_no_person_and_keeps_the_new_details(world, manager):
    first = world.new_enquiry()
    people_before = Person.objects.count()
    second = cases.record_contact(by=manager, **contact_data(
        child=child_data(person_id=first.child_id, identity_reason="Same NHS number and date of birth",
                         address_line_1="9 New Road", postcode="RM16 2AB", first_name="Rowan"),
        related_people=[]))
    assert second.child_id == first.child_id and Person.objects.count() == people_before
    child = Person.objects.get(pk=first.child_id)
    assert child.postcode == "RM16 2AB" and child.address_line_1 == "9 New Road"
    assert child.revisions.get().previous["postcode"] == "RM17 6SL"
    assert [(a.postcode, a.to_date is None) for a in PersonAddress.objects.filter(person=child)] == [
        ("RM16 2AB", True), ("RM17 6SL", False)]
    decision = IdentityDecision.objects.get()
    assert (decision.outcome, decision.candidate_id, decision.context) == (
        IdentityOutcome.SAME, first.child_id, second.reference)
    assert decision.reason == "Same NHS number and date of birth" and "same NHS number" in decision.reasons
    assert child.match_keys.filter(key__contains="RM16").exists()


def test_a_same_person_choice_needs_a_reason_and_a_new_name_is_kept_as_a_previous_one(world, manager):
    first = world.new_enquiry()
    with pytest.raises(ValidationFailed) as exc:
        cases.record_contact(by=manager, **contact_data(child={"person_id": first.child_id}, related_people=[]))
    assert "child.identity_reason" in exc.value.errors
    cases.record_contact(by=manager, **contact_data(
        child={"person_id": first.child_id, "identity_reason": "Mother confirmed the new surname",
               "first_name": "Rowan", "last_name": "Sampleford"}, related_people=[]))
    child = Person.objects.get(pk=first.child_id)
    assert child.last_name == "Sampleford"
    assert PersonName.objects.get(person=child).full_name == "Rowan Exampleton"


def test_choosing_a_new_person_over_a_very_likely_match_needs_a_reason_and_is_recorded(world, manager):
    first = world.new_enquiry()
    with pytest.raises(ValidationFailed) as exc:
        cases.record_contact(by=manager, **contact_data(child=child_data(identity_checked=True), related_people=[]))
    assert "a very likely match" in exc.value.errors["child.identity_reason"][0]
    second = cases.record_contact(by=manager, **contact_data(
        child=child_data(identity_checked=True, identity_reason="A different child: the NHS number was misread"),
        related_people=[]))
    assert second.child_id != first.child_id
    decision = IdentityDecision.objects.get()
    assert (decision.person_id, decision.candidate_id, decision.outcome) == (
        second.child_id, first.child_id, IdentityOutcome.NEW)


def test_a_person_outside_need_to_know_is_unknown(world, manager, police_worker):
    first = world.new_enquiry()
    with pytest.raises(identity.UnknownPerson):
        cases.record_contact(by=police_worker, **contact_data(
            child={"person_id": first.child_id, "identity_reason": "x"}, related_people=[]))
    assert offers(police_worker, details_of(child_data())) == []


def test_the_review_panel_offers_a_manager_the_match_until_decided_not_the_same(world, manager, council_worker):
    first = world.new_enquiry()
    second = world.new_enquiry()  # recorded as a new person, as clients that do not match still do
    [offer] = possible_matches(manager, second)
    assert offer.person_id == first.child_id
    assert possible_matches(council_worker, second) == []
    identity.record_different(second.child, first.child, by=manager, reason="Twins", context=second.reference)
    assert possible_matches(manager, second) == []
    assert possible_matches(manager, first) == []
    assert AuditEvent.objects.filter(action="person.not_same").exists()


def test_api_matches_ranks_within_need_to_know_and_audits_no_typed_text(world, manager, police_worker):
    first = world.new_enquiry()
    world.new_enquiry(child=child_data(first_name="Robin", nhs_number="", date_of_birth="2016-05-04"))
    response = Api(manager).post("/people/matches", {**ROWAN, "given_name": "Rowena", "postcode": "rm17 6sl"})
    assert response.status_code == 200, response.content
    found = response.json()
    assert found[0]["person_id"] == first.child_id and found[0]["score"] > 0.9
    assert found[0]["previous_contacts"] == 1 and found[0]["postcode"] == "RM17 6SL"
    assert "same NHS number" in found[0]["reasons"] and found[0]["name"] == "Rowan Exampleton"
    assert [f["score"] for f in found] == sorted((f["score"] for f in found), reverse=True)
    event = AuditEvent.objects.filter(object_type__contains="person match").latest("pk")
    assert first.child_id in event.people and event.actor == manager.username
    assert "Rowena" not in str(AuditEvent.objects.values_list()) and "9434765919" not in str(
        AuditEvent.objects.values_list())
    # A worker of an agency that was never asked: the same answer as no match at all.
    police = Api(police_worker).post("/people/matches", ROWAN)
    nobody = Api(police_worker).post("/people/matches", {**ROWAN, "given_name": "Zebedee",
                                                          "family_name": "Nomatch", "nhs_number": ""})
    assert police.status_code == nobody.status_code == 200 and police.json() == nobody.json() == []


def test_api_matches_refuses_a_bad_nhs_number_with_a_clear_message(world, manager, receiving_professional):
    response = Api(manager).post("/people/matches", {**ROWAN, "nhs_number": "9434765918"})
    assert response.status_code == 422
    assert "check digit" in response.content.decode()
    assert Api(receiving_professional).post("/people/matches", ROWAN).status_code == 403


def test_api_contact_with_person_id_records_against_that_person_and_lists_possible_matches(world, manager,
                                                                                            police_worker):
    first = world.new_enquiry()
    api = Api(manager)
    # Without person_id: a new person, as before, and the child's possible matches to follow up.
    response = api.post("/contacts", contact_data(related_people=[]))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"] and [m["person_id"] for m in body["possible_matches"]] == [first.child_id]
    people_before = Person.objects.count()
    response = api.post("/contacts", contact_data(
        child={"person_id": first.child_id, "identity_reason": "Same NHS number"}, related_people=[
            {"person_id": first.child.relationships.get().person_id, "identity_reason": "Her mother, as before",
             "relationship": "mother"}]))
    assert response.status_code == 201, response.content
    assert response.json()["possible_matches"] == [] and Person.objects.count() == people_before
    assert Person.objects.get(pk=first.child_id).enquiries.count() == 2
    assert IdentityDecision.objects.filter(outcome=IdentityOutcome.SAME).count() == 2
    # A person the caller may not find is unknown, the same answer as one that does not exist.
    unknown = [Api(police_worker).post("/contacts", contact_data(
        reporter_type="police", child={"person_id": pk, "identity_reason": "x"}, related_people=[]))
        for pk in (first.child_id, 999_999)]
    assert [r.status_code for r in unknown] == [422, 422] and unknown[0].json() == unknown[1].json()
    assert "Unknown person" in unknown[0].json()["detail"]
