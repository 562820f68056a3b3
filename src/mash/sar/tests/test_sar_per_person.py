"""Subject access per person (issue 20, item 8): the DPO finds each real person once, the compile gathers
over every record of theirs with no section repeated, and the subject's own details are never proposed
for redaction as someone else's.

The issue's knock-on, with synthetic people: a request for the mother found two identical people, the
pack repeated her sections, and the redaction tool proposed her own address as someone else's data.
Both ways one mother can be held: two contacts recorded against one person, and two duplicate records
(of the mother and of the child) merged into one.
"""

import datetime as dt

import pytest
from django.utils import timezone

from mash.cases.models import Contact, Enquiry
from mash.people.models import NameKind, Person, PersonAddress, PersonName, Relationship
from mash.sar import selectors, services
from mash.sar.models import ItemSource
from mash.testing.cases import log_sar
from mash.testing.world import child_data, contact_data

HOME = dict(address_line_1="4 Sample Road", town="Grays", postcode="RM17 6SL")
MOTHER = dict(first_name="Jade", last_name="Examplefield", date_of_birth="1990-03-08", relationship="mother",
              lives_with_child=True, parental_responsibility=True, **HOME)
UNCLE = dict(first_name="Kit", last_name="Otherton", relationship="other", address_line_1="2 Far Lane",
             postcode="SS17 0AA")
CONCERN = ("Jade Examplefield rang from 4 Sample Road, RM17 6SL: Rowan has bruises and is scared of Kit Otherton, "
           "who stays at 2 Far Lane. Jade was known as Jade Formerton; she lived at 9 Old Lane.")


def _first_contact(world):
    child = child_data(first_name="Rowan", last_name="Examplefield", nhs_number="", **HOME)
    return world.new_enquiry(child=child, related_people=[MOTHER, UNCLE], concern=CONCERN, reporter_name="Sam Caller")


def _second_contact(world, child, mother, days_later=30):
    """A later contact about the same child naming the same mother, recorded against the same people
    (what matching at intake does): a contact, its enquiry and the family link recorded again."""
    first = child.contacts.order_by("received_at").first()
    contact = Contact.objects.create(
        received_at=first.received_at + dt.timedelta(days=days_later), recorded_by=world.user("manager"),
        reporter_type="police", reporter_name="Officer Lee Testwell", child=child, concern=CONCERN,
        concern_categories=["physical_abuse"], consent_at_intake="given")
    enquiry = Enquiry.objects.create(contact=contact, child=child)
    enquiry.reference = f"MASH-{contact.received_at:%Y}-{enquiry.pk:06d}"
    enquiry.save(update_fields=["reference"])
    Relationship.objects.create(child=child, person=mother, relationship="mother", lives_with_child=True,
                                parental_responsibility=True)
    return enquiry


def _her_history(mother):
    PersonName.objects.create(person=mother, kind=NameKind.PREVIOUS, first_name="Jade", last_name="Formerton")
    PersonAddress.objects.create(person=mother, address_line_1="9 Old Lane", town="Grays", postcode="RM16 2AB",
                                 to_date=dt.date(2020, 1, 31))


def _mother_of(enquiry):
    return Relationship.objects.get(child=enquiry.child, relationship="mother").person


HER_OWN = ["Jade Examplefield", "Jade", "Examplefield", "4 Sample Road", "RM17 6SL", "Jade Formerton", "Formerton",
           "9 Old Lane", "8 March 1990"]


def _assert_once_each_and_her_own_not_proposed(items):
    sections = [(i.source, i.title, tuple(sorted(i.fields.items()))) for i in items]
    assert len(sections) == len(set(sections)), "a section is repeated"
    assert sum(i.source == ItemSource.PERSON for i in items) == 1
    family = [i for i in items if i.source == ItemSource.RELATIONSHIP]
    assert [i.fields["Person"] for i in family] == ["Rowan Examplefield"]
    proposed = {t.lower() for i in items for t in i.proposed_redactions}
    assert not proposed & {t.lower() for t in HER_OWN}, proposed & {t.lower() for t in HER_OWN}
    contacts = [i for i in items if i.source == ItemSource.CONTACT]
    assert len(contacts) == 2
    for contact in contacts:  # other people's details still are
        assert {"Kit Otherton", "2 Far Lane", "Rowan"} <= set(contact.proposed_redactions)


@pytest.mark.django_db
def test_two_contacts_naming_one_mother_give_her_sections_once_and_never_her_own_details(world, dpo):
    first = _first_contact(world)
    mother = _mother_of(first)
    _her_history(mother)
    second = _second_contact(world, first.child, mother)
    sar = log_sar(dpo, [mother, mother])
    assert sar.subjects.count() == 1
    items = services.compile_request(sar, by=dpo)
    _assert_once_each_and_her_own_not_proposed(items)
    assert {i.enquiry_reference for i in items if i.source == ItemSource.CONTACT} == {first.reference,
                                                                                       second.reference}
    details = next(i for i in items if i.source == ItemSource.PERSON).fields
    assert details["Previous names"] == "Jade Formerton"
    assert details["Other addresses"] == "9 Old Lane, Grays, RM16 2AB"
    contact_item = next(i for i in items if i.enquiry_reference == second.reference and i.source == ItemSource.CONTACT)
    assert "Officer Lee Testwell" in contact_item.proposed_redactions
    # Compiled again: nothing added twice (the DPO's compile is a read of her data: that adds who read it).
    again = services.compile_request(sar, by=dpo)
    assert len([i for i in again if i.source != ItemSource.RECIPIENTS]) == len(items)


@pytest.mark.django_db
def test_duplicate_records_merged_into_one_are_one_person_to_find_and_to_compile(world, dpo):
    first = _first_contact(world)
    later = world.new_enquiry(child=child_data(first_name="Rowan", last_name="Examplefield", nhs_number="", **HOME),
                              related_people=[MOTHER], concern=CONCERN, reporter_name="Officer Lee Testwell")
    kept, merged = _mother_of(first), _mother_of(later)
    _her_history(merged)  # what the duplicate alone held is hers too
    Person.objects.filter(pk=merged.pk).update(merged_into=kept)
    Person.objects.filter(pk=later.child_id).update(merged_into=first.child_id)

    found = selectors.sar_people(dpo, "Examplefield")
    assert sorted((p.first_name, p.pk) for p in found) == [("Jade", kept.pk), ("Rowan", first.child_id)]
    assert [p.pk for p in selectors.sar_people(dpo, "Formerton")] == [kept.pk]  # a previous name finds her

    sar = log_sar(dpo, [kept, merged])  # both records chosen: one subject, the record kept
    assert list(sar.subjects.values_list("person_id", flat=True)) == [kept.pk]
    items = services.compile_request(sar, by=dpo)
    assert {i.person_id for i in items} == {kept.pk}
    _assert_once_each_and_her_own_not_proposed(items)


@pytest.mark.django_db
def test_a_request_logged_before_the_merge_compiles_once_for_the_person(world, dpo):
    first = _first_contact(world)
    later = world.new_enquiry(child=child_data(first_name="Rowan", last_name="Examplefield", nhs_number="", **HOME),
                              related_people=[MOTHER], concern=CONCERN)
    kept, merged = _mother_of(first), _mother_of(later)
    sar = log_sar(dpo, [kept, merged])
    before = services.compile_request(sar, by=dpo)
    assert sum(i.source == ItemSource.PERSON for i in before) == 2  # two people, as far as anyone knew
    Person.objects.filter(pk=merged.pk).update(merged_into=kept)
    Person.objects.filter(pk=later.child_id).update(merged_into=first.child_id)
    after = services.compile_request(sar, by=dpo)
    # Nothing compiled is dropped (it may already be reviewed), and nothing is added twice: the second
    # record's details and recipients items are the person's own, the same enquiries are the same items.
    assert len([i for i in after if i.source != ItemSource.RECIPIENTS]) == len(before)
    assert sum(i.source == ItemSource.RECIPIENTS for i in after) == 1


@pytest.mark.django_db
def test_the_search_page_offers_each_person_once(client, world, dpo):
    first = _first_contact(world)
    later = world.new_enquiry(child=child_data(first_name="Rowan", last_name="Examplefield", nhs_number="", **HOME),
                              related_people=[MOTHER], concern=CONCERN)
    Person.objects.filter(pk=_mother_of(later).pk).update(merged_into=_mother_of(first))
    client.force_login(dpo)
    page = client.get("/sar/new/?q=Jade+Examplefield").content.decode()
    assert page.count("Jade Examplefield, born 08/03/1990") == 1
    assert f'name="person_ids" type="checkbox" value="{_mother_of(first).pk}"' in page
