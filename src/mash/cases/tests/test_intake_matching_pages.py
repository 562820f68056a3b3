"""The contact form asks whether the child and each related person are already known, before saving; and
a contact about another child in a household starts from that household."""

import re

from django.urls import reverse

from mash.cases.models import Enquiry
from mash.people.models import IdentityDecision, IdentityOutcome, Person
from mash.testing.pages import text
from mash.testing.world import contact_data

FORM = {
    "child-first_name": "Rowan", "child-last_name": "Exampleton",
    "child-date_of_birth_day": "4", "child-date_of_birth_month": "5", "child-date_of_birth_year": "2016",
    "child-gender": "female", "child-nhs_number": "943 476 5919", "child-postcode": "rm17 6sl",
    "reporter_type": "school", "reporter_name": "Pat Reporter",
    "concern": "Child arrived at school hungry again.", "concern_categories": ["neglect"],
    "consent_at_intake": "given",
}


def test_the_form_offers_the_known_child_and_records_the_contact_against_her(client, world, manager):
    first = world.new_enquiry()
    client.force_login(manager)
    url = reverse("cases:contact_new")
    page = client.post(url, FORM)
    assert page.status_code == 200
    body = text(page)
    assert "People already known who may be the same" in body and "Same person as Rowan Exampleton" in body
    assert "Very likely" in body and "Same NHS number" in body and "1 previous contact" in body
    assert f'name="child-identity" type="radio" value="{first.child_id}"' in body
    # Nothing is chosen for the user.
    assert not re.search(r'name="child-identity" type="radio" value="[^"]*" [^>]*checked', body)
    assert Enquiry.objects.count() == 1
    # Submitted again without a choice: asked to choose, nothing typed lost.
    page = client.post(url, {**FORM, "matches_shown": "1"})
    assert page.status_code == 400
    assert "Choose whether Rowan Exampleton is someone already known or a new person" in text(page)
    assert 'value="Rowan"' in text(page) and "hungry again" in text(page)
    # Same person, without a reason: the reason is asked for.
    page = client.post(url, {**FORM, "matches_shown": "1", "child-identity": str(first.child_id)})
    assert page.status_code == 400 and "Give the reason why this is the same person" in text(page)
    people = Person.objects.count()
    response = client.post(url, {**FORM, "matches_shown": "1", "child-identity": str(first.child_id),
                                 "child-identity_reason": "Same NHS number and date of birth"})
    assert response.status_code == 302, text(response)
    second = Enquiry.objects.latest("pk")
    assert second.child_id == first.child_id and Person.objects.count() == people
    decision = IdentityDecision.objects.get()
    assert (decision.outcome, decision.decided_by, decision.context) == (
        IdentityOutcome.SAME, manager, second.reference)


def test_a_contact_about_another_child_starts_from_the_household(client, world, manager, police_worker):
    first = world.new_enquiry()
    mother = first.child.relationships.get().person
    client.force_login(manager)
    page = client.get(reverse("cases:detail", args=[first.reference]))
    link = f'{reverse("cases:contact_new")}?household={first.reference}'
    assert "Record a contact about another child in this household" in text(page) and link in text(page)
    page = client.get(link)
    body = text(page)
    assert page.status_code == 200 and "Morgan Exampleton" in body
    assert f'name="related-0-person_id" value="{mother.pk}"' in body and 'value="1 Sample Street"' in body
    form = {**FORM, "child-first_name": "Ash", "child-nhs_number": "", "child-date_of_birth_year": "2019",
            "related-0-first_name": "Morgan", "related-0-last_name": "Exampleton",
            "related-0-person_id": str(mother.pk), "related-0-relationship": "mother",
            "related-0-lives_with_child": "on"}
    page = client.post(link, form)
    # Her sister may be offered as the child (same family name and address): a new person is chosen.
    if page.status_code == 200:
        assert "Same person as Rowan Exampleton" in text(page)
        page = client.post(link, {**form, "matches_shown": "1", "child-identity": "new",
                                  "child-identity_reason": "Her younger sister"})
    assert page.status_code == 302, text(page)
    second = Enquiry.objects.latest("pk")
    assert second.child_id != first.child_id
    assert second.child.relationships.get().person_id == mother.pk  # the same mother links the siblings
    # Only for users who may view that enquiry.
    client.force_login(police_worker)
    assert client.get(link).status_code == 404
    assert client.get(reverse("cases:contact_new") + "?household=MASH-1999-000001").status_code == 404


def test_bad_input_keeps_what_was_typed_with_the_offers(client, world, manager):
    world.new_enquiry()
    client.force_login(manager)
    page = client.post(reverse("cases:contact_new"), {**FORM, "child-upn": "not-a-upn"})
    assert page.status_code == 400
    body = text(page)
    assert "Enter a unique pupil number of 13 characters" in body and 'value="not-a-upn"' in body
    assert "Same person as Rowan Exampleton" in body and "hungry again" in body


def test_a_manager_reviews_possible_matches_on_the_enquiry_and_records_not_the_same(client, world, manager,
                                                                                    council_worker):
    first = world.new_enquiry()
    second = world.new_enquiry()  # the same child recorded again as a new person
    world.rate(second)
    from mash.cases import services as cases

    cases.assign(second, by=manager, member=council_worker.username)
    client.force_login(council_worker)
    assert "Possible matches to review" not in text(client.get(reverse("cases:detail", args=[second.reference])))
    client.force_login(manager)
    body = text(client.get(reverse("cases:detail", args=[second.reference])))
    assert "Possible matches to review" in body and "Very likely" in body
    assert f"/people/duplicates/{second.child_id}/{first.child_id}/" in body
    url = reverse("people:not_same", args=[second.reference, first.child_id])
    assert client.post(url, {"reason": ""}).status_code == 400
    response = client.post(url, {"reason": "Twins: different NHS numbers on the GP record"})
    assert response.status_code == 302
    decision = IdentityDecision.objects.get()
    assert (decision.person_id, decision.candidate_id, decision.outcome) == (
        second.child_id, first.child_id, IdentityOutcome.NEW)
    assert "Possible matches to review" not in text(client.get(reverse("cases:detail", args=[second.reference])))
    assert client.post(url, {"reason": "again"}).status_code == 400  # no longer offered
    assert IdentityDecision.objects.count() == 1


def test_a_related_person_is_offered_too_and_a_known_relationship_is_not_repeated(client, world, manager):
    first = world.new_enquiry()
    mother = first.child.relationships.get().person
    client.force_login(manager)
    form = {**FORM, "related-0-first_name": "Morgan", "related-0-last_name": "Exampleton",
            "related-0-relationship": "mother", "related-0-lives_with_child": "on"}
    body = text(client.post(reverse("cases:contact_new"), form))
    assert "Same person as Morgan Exampleton" in body
    assert f'name="related-0-identity" type="radio" value="{mother.pk}"' in body
    response = client.post(reverse("cases:contact_new"), {
        **form, "matches_shown": "1", "child-identity": str(first.child_id), "child-identity_reason": "Same NHS number",
        "related-0-identity": str(mother.pk), "related-0-identity_reason": "Her mother, at the same address"})
    assert response.status_code == 302, text(response)
    assert Enquiry.objects.latest("pk").child_id == first.child_id
    assert first.child.relationships.get().person_id == mother.pk  # one relationship, not two
    assert IdentityDecision.objects.filter(candidate=mother, outcome=IdentityOutcome.SAME).count() == 1
