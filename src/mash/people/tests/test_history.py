"""Households, a child's history within need-to-know, and the repeat-contact flag (issue 20 items 4 and 5)."""

import datetime as dt
import itertools

import pytest
from django.test import Client
from django.utils import timezone

from mash.audit.models import AuditEvent
from mash.cases import services as cases
from mash.cases.models import Contact, Enquiry
from mash.core.errors import IsaViolation, PermissionDenied, ValidationFailed
from mash.partners import services as isa
from mash.partners.isa import Agreement, RepeatContacts, parse
from mash.people.models import Person, Relationship
from mash.people.selectors import history
from mash.people.services import households
from mash.testing.api import Api
from mash.testing.database import all_text_in_the_database
from mash.testing.pages import text

pytestmark = pytest.mark.django_db
_numbers = itertools.count(1)


def contact_about(world, child, *, days_ago, reporter_type="police", categories=("neglect",), rag=""):
    """An earlier contact and enquiry about an existing person (as intake does once matched to their record)."""
    contact = Contact.objects.create(
        received_at=timezone.now() - dt.timedelta(days=days_ago), recorded_by=world.user("manager"),
        reporter_type=reporter_type, reporter_name="Sam Caller", child=child, concern="An earlier worry",
        concern_categories=list(categories), consent_at_intake="given")
    return Enquiry.objects.create(reference=f"MASH-2025-{900000 + next(_numbers)}", contact=contact, child=child,
                                  rag=rag)


def person(world, first, last="Exampleton", **extra):
    return Person.objects.create(first_name=first, last_name=last, created_by=world.user("manager"), **extra)


@pytest.fixture
def family(world, new_enquiry):
    """Rowan (this enquiry), her mother Morgan (recorded at intake), and Kit, Morgan's other child."""
    rowan = new_enquiry.child
    morgan = Relationship.objects.get(child=rowan, relationship="mother").person
    kit = person(world, "Kit", date_of_birth=dt.date(2019, 2, 3))
    Relationship.objects.create(child=kit, person=morgan, relationship="mother", lives_with_child=True)
    return rowan, morgan, kit


def test_household_both_ways_and_siblings_through_a_shared_parent(family):
    rowan, morgan, kit = family
    house = history.household(rowan)
    assert [(r.other, r.description) for r in house.relations] == [(morgan, "Mother")]
    assert [(s.person, s.how) for s in house.siblings] == [(kit, "same parent or carer")]
    # From the mother's side: her children, in words from her side.
    assert sorted((r.other.first_name, r.description) for r in history.household(morgan).relations) == [
        ("Kit", "Morgan is their mother"), ("Rowan", "Morgan is their mother")]
    assert [s.person for s in history.household(kit).siblings] == [rowan]


def test_relationships_between_recorded_people_with_dates_and_ending(world, family, manager, police_worker):
    rowan, morgan, kit = family
    partner = person(world, "Alex", "Partnerly")
    rel = households.add_relationship(morgan, partner.pk, "partner", by=manager, from_date=dt.date(2024, 1, 5))
    [relation] = [r for r in history.household(partner).relations]
    assert (relation.other, relation.description, relation.current) == (morgan, "Partner", True)
    with pytest.raises(ValidationFailed) as refused:
        households.add_relationship(morgan, partner.pk, "partner", by=manager, from_date=dt.date(2024, 1, 5),
                                    to_date=dt.date(2023, 1, 1))
    assert "to_date" in refused.value.errors
    with pytest.raises(ValidationFailed):
        households.add_relationship(morgan, morgan.pk, "partner", by=manager)
    with pytest.raises(PermissionDenied):
        households.add_relationship(morgan, partner.pk, "partner", by=police_worker)
    ended = households.end_relationship(partner, rel.pk, by=manager)
    assert ended.to_date == timezone.localdate() and Relationship.objects.get(pk=rel.pk).to_date == ended.to_date
    # An ended relationship stays, after the current ones.
    households.add_relationship(morgan, person(world, "Jo", "Newpartner").pk, "partner", by=manager)
    relations = history.household(morgan).relations
    assert [r.current for r in relations] == [True, True, True, False] and relations[-1].other == partner

    # The household page: a manager records one with its dates (a bad date is shown on the form) and ends it.
    client = Client()
    client.force_login(manager)
    url = f"/people/{kit.pk}/household/relationships/"
    dates = {"rel-from_date_day": "1", "rel-from_date_month": "2", "rel-from_date_year": "2025"}
    form = {"rel-other": str(rowan.pk), "rel-relationship": "sibling", **dates}
    refused = client.post(url, {**form, "rel-to_date_day": "1", "rel-to_date_month": "1", "rel-to_date_year": "2024"})
    assert refused.status_code == 400 and "The end date must be on or after the start date" in text(refused)
    assert client.post(url, form).status_code == 302
    added = Relationship.objects.get(child=kit, person=rowan, relationship="sibling")
    assert added.from_date == dt.date(2025, 2, 1)
    end = client.post(f"/people/{kit.pk}/household/relationships/end/", {"end-relationship": added.pk})
    assert end.status_code == 302 and Relationship.objects.get(pk=added.pk).to_date == timezone.localdate()
    assert "Ended" in text(client.get(f"/people/{kit.pk}/household/"))


def test_history_is_limited_to_need_to_know(world, family, new_enquiry, manager, police_worker):
    rowan, morgan, kit = family
    world.ask(world.rate(new_enquiry))                      # police and education asked about this one
    earlier = contact_about(world, rowan, days_ago=100)     # not asked: hidden from the police
    # Kit recorded as Rowan's sibling, so the police find Kit; Kit's own enquiry is not theirs.
    Relationship.objects.create(child=rowan, person=kit, relationship="sibling")
    kits = contact_about(world, kit, days_ago=20)

    seen = history.history(police_worker, rowan)
    assert [e.reference for e in seen.entries] == [new_enquiry.reference]
    assert seen.recent == 1 and seen.sibling_entries == []
    assert [s.person for s in seen.household.siblings] == [kit]
    assert seen.entries[0].reporter is None and seen.entries[0].categories == ["Physical abuse"]

    everything = history.history(manager, rowan)
    assert [e.reference for e in everything.entries] == [new_enquiry.reference, earlier.reference]
    assert everything.entries[0].reporter == "School or education setting"
    assert [e.reference for e in everything.sibling_entries] == [kits.reference] and everything.recent == 2

    # The page and the API: the hidden enquiries are neither listed nor counted, and it is recorded as read.
    client = Client()
    client.force_login(police_worker)
    page = text(client.get(f"/people/{rowan.pk}/history/"))
    assert new_enquiry.reference in page and earlier.reference not in page and kits.reference not in page
    assert "Contacts in the last 12 months: 1" in page
    body = Api(police_worker).get(f"/people/{rowan.pk}/history").json()
    assert [c["reference"] for c in body["contacts"]] == [new_enquiry.reference]
    assert body["recent_contacts"] == 1 and body["sibling_contacts"] == [] and body["contacts"][0]["reporter"] is None
    reads = AuditEvent.objects.filter(actor_id=police_worker.pk, object_ref__contains=f"person history: {rowan.pk}")
    assert reads.count() == 2 and all(rowan.pk in e.people and kit.pk in e.people for e in reads)
    assert not any(earlier.reference in e.object_ref or kits.reference in e.object_ref for e in reads)


def test_a_person_outside_need_to_know_is_not_found_like_one_who_does_not_exist(world, family, police_worker):
    rowan, morgan, kit = family                            # no agency asked: the police see nothing of it
    api = Api(police_worker)
    assert api.get(f"/people/{rowan.pk}/history").status_code == 404
    assert api.get("/people/999999/history").status_code == 404
    client = Client()
    client.force_login(police_worker)
    assert client.get(f"/people/{rowan.pk}/history/").status_code == 404
    assert client.get(f"/people/{rowan.pk}/household/").status_code == 404


def test_contacts_in_the_last_twelve_months_and_the_flag_at_the_isa_threshold(world, family, manager):
    rowan, morgan, kit = family                            # this contact, received now
    contact_about(world, rowan, days_ago=400)               # outside the window
    contact_about(world, rowan, days_ago=100)
    assert history.history(manager, rowan).recent == 2
    flag = history.repeat_flag(rowan)
    assert (flag.count, flag.threshold, flag.months, flag.raised) == (2, 3, 12, False)
    contact_about(world, rowan, days_ago=300)
    assert history.repeat_flag(rowan).raised and history.repeat_flag(rowan).count == 3
    # The threshold is the ISA's: one that asks for 4 does not flag 3.
    _, agreement = isa.current()
    stricter = Agreement(agreement.doc.model_copy(update={"repeat_contacts": RepeatContacts(
        clause="7.1", contacts=4, months=12)}))
    assert not history.repeat_flag(rowan, stricter).raised
    assert history.months_before(dt.datetime(2026, 3, 31, 9, 0), 1) == dt.datetime(2026, 2, 28, 9, 0)


def test_the_isa_setting_defaults_to_three_contacts_in_twelve_months(settings, police_worker):
    from pathlib import Path

    source = Path(settings.MASH_ISA_FILE).read_text()
    assert "repeat_contacts" not in source
    assert parse(source).repeat_contacts == RepeatContacts(clause="none", contacts=3, months=12)
    loaded = parse(source + "\nrepeat_contacts: {clause: \"7.1\", contacts: 4, months: 6}\n").repeat_contacts
    assert (loaded.contacts, loaded.months, loaded.clause) == (4, 6, "7.1")
    client = Client()
    client.force_login(police_worker)
    page = text(client.get("/isa/"))
    assert "A child with 3 or more contacts in 12 months is flagged" in page and "MASH Hub's default" in page


@pytest.fixture
def repeat_child(world, family, rated_enquiry):
    rowan = family[0]
    contact_about(world, rowan, days_ago=30)
    contact_about(world, rowan, days_ago=200)
    return rated_enquiry


def test_no_further_action_needs_a_rationale_when_contacts_repeat(repeat_child, manager):
    with pytest.raises(IsaViolation) as refused:
        cases.decide(repeat_child, by=manager, outcome="no_further_action", rationale="Parents engaging")
    assert refused.value.field == "repeat_contacts_rationale" and "3 contacts in 12 months" in refused.value.message
    decision = cases.decide(repeat_child, by=manager, outcome="no_further_action", rationale="Parents engaging",
                            repeat_contacts_rationale="Each contact was a different, resolved worry")
    assert decision.repeat_contacts == 3
    assert decision.repeat_contacts_rationale == "Each contact was a different, resolved worry"
    assert "Each contact was a different, resolved worry" not in all_text_in_the_database()


def test_the_enquiry_page_flags_repeat_contacts_to_the_team_and_asks_for_the_rationale(
        world, repeat_child, manager, police_worker):
    world.ask(repeat_child)
    ref = repeat_child.reference
    client = Client()
    client.force_login(police_worker)
    page = text(client.get(f"/enquiries/{ref}/"))
    assert "Previous contacts and household" in page and "Repeat contacts" not in page
    client.force_login(manager)
    page = text(client.get(f"/enquiries/{ref}/"))
    assert "Repeat contacts: 3 in 12 months" in page and "Kit Exampleton" in page
    form = {"decision-outcome": "no_further_action", "decision-rationale": "Parents engaging"}
    refused = client.post(f"/enquiries/{ref}/decision/", form)
    assert refused.status_code == 422 and "say why no further action is right" in text(refused)
    done = client.post(f"/enquiries/{ref}/decision/", {**form, "decision-repeat_contacts_rationale": "Resolved each time"})
    assert done.status_code == 302
    assert "Resolved each time" in text(client.get(f"/enquiries/{ref}/"))


def test_the_api_decision_needs_the_same_rationale(repeat_child, manager):
    api = Api(manager)
    path = f"/enquiries/{repeat_child.reference}/decision"
    body = {"outcome": "no_further_action", "rationale": "Parents engaging"}
    refused = api.post(path, body)
    assert refused.status_code == 422 and refused.json()["field"] == "repeat_contacts_rationale"
    done = api.post(path, {**body, "repeat_contacts_rationale": "Resolved each time"})
    assert done.status_code == 201 and done.json()["decision"]["repeat_contacts"] == 3
    assert repeat_child.decisions.get().repeat_contacts_rationale == "Resolved each time"


def test_amending_a_decision_to_no_further_action_needs_the_same_rationale(repeat_child, manager):
    cases.decide(repeat_child, by=manager, outcome="early_help", rationale="Family asked for support",
                 recipient_type="early_help", receiving_team="Early Help Hub")
    amend = dict(reason="The family declined early help", outcome="no_further_action", rationale="Declined")
    with pytest.raises(IsaViolation) as refused:
        cases.amend_decision(repeat_child, by=manager, **amend)
    assert refused.value.field == "repeat_contacts_rationale"
    decision = cases.amend_decision(repeat_child, by=manager, **amend,
                                    repeat_contacts_rationale="Each contact was resolved; consent withdrawn")
    assert decision.version == 2 and decision.repeat_contacts == 3
    response = Api(manager).post(f"/enquiries/{repeat_child.reference}/decision/amendments",
                                 {**amend, "reason": "Again"})
    assert response.status_code == 422 and response.json()["field"] == "repeat_contacts_rationale"
