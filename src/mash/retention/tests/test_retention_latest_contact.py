"""Retention counts from the child's latest contact (issue 20, item 8): a child's enquiries closed with no
further action stay while the latest contact's period runs, so a pattern of repeat contacts stays visible
while it is live; then everything goes as before. A child's records merged into one are one child."""

import datetime as dt

import pytest
from django.utils import timezone

from mash.audit.models import AuditEvent
from mash.cases import services as cases
from mash.cases.models import Contact, Decision, Enquiry
from mash.consent.services import record_from_intake
from mash.core.dates import add_months
from mash.core.errors import ValidationFailed
from mash.keys.models import PersonKey
from mash.people.models import (IdentityDecision, LocalIdentifier, MatchKey, Merge, NameKind, Person, PersonAddress,
                                PersonName, Relationship)
from mash.retention import services as retention
from mash.retention.models import Disposal
from mash.testing.world import child_data

DAY = dt.timedelta(days=1)


def _at(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def _decided_nfa(world, enquiry, on: dt.date):
    """The enquiry rated, asked and closed with no further action, received the day before `on`, decided `on`."""
    world.ask(world.rate(enquiry))
    cases.decide(enquiry, by=world.user("manager"), outcome="no_further_action", rationale="Below the threshold.")
    Decision.objects.filter(enquiry=enquiry).update(decided_at=_at(on))
    Contact.objects.filter(pk=enquiry.contact_id).update(received_at=_at(on - DAY))
    return enquiry


def _another_contact(world, child, on: dt.date):
    """A later contact about the same child, recorded against the same person (what matching at intake does)."""
    mother = Relationship.objects.filter(child=child).first().person
    contact = Contact.objects.create(received_at=_at(on), recorded_by=world.user("manager"), reporter_type="school",
                                     child=child, concern="Again arrived at school hungry and withdrawn.",
                                     concern_categories=["neglect"], consent_at_intake="given")
    enquiry = Enquiry.objects.create(contact=contact, child=child)
    enquiry.reference = f"MASH-{on:%Y}-{enquiry.pk:06d}"
    enquiry.save(update_fields=["reference"])
    Relationship.objects.create(child=child, person=mother, relationship="mother")
    record_from_intake(enquiry, by=world.user("manager"), consent_at_intake="given", notes="")
    return enquiry


def _indexed(world, child: int, mother: int) -> None:
    """What the person index holds about them: a previous name, an earlier address, an agency's id, blocking
    keys, and the manager's decision at intake that the child was a new person."""
    PersonName.objects.create(person_id=mother, kind=NameKind.PREVIOUS, first_name="Morgan", last_name="Formerton")
    PersonAddress.objects.create(person_id=mother, address_line_1="9 Old Lane", postcode="RM16 2AB")
    LocalIdentifier.objects.create(person_id=child, agency=world.partner("essex-police"), value="NOM-12345")
    MatchKey.objects.bulk_create([MatchKey(person_id=child, key="dob:2016-05-04"),
                                  MatchKey(person_id=mother, key="name:FRMR")])
    IdentityDecision.objects.create(person_id=child, outcome="new", decided_by=world.user("manager"))


def _disposed(result) -> list[str]:
    return [t.enquiry_reference for t in result.disposed]


@pytest.mark.django_db
def test_a_first_nfa_contact_is_kept_while_the_second_one_a_year_later_runs(world, new_enquiry):
    first_on = timezone.localdate() - dt.timedelta(days=500)
    second_on = first_on + dt.timedelta(days=365)
    first = _decided_nfa(world, new_enquiry, first_on)
    second = _decided_nfa(world, _another_contact(world, first.child, second_on), second_on)
    child, mother = first.child_id, Relationship.objects.filter(child_id=first.child_id).first().person_id
    _indexed(world, child, mother)

    # Past its own date (12 months from its decision), the first stays: the pattern is live.
    assert retention.run(today=add_months(first_on, 12)).due == []
    assert retention.run(today=add_months(second_on, 12) - DAY).due == []
    assert Enquiry.objects.filter(pk=first.pk).exists()

    # When the latest contact's period ends, both go, and the people with them, as before.
    result = retention.run(today=add_months(second_on, 12))
    assert sorted(_disposed(result)) == sorted([first.reference, second.reference])
    tombstone = Disposal.objects.get(enquiry_id=first.pk)
    assert (tombstone.decided_on, tombstone.due_on) == (first_on, add_months(second_on, 12))
    event = AuditEvent.objects.get(action="retention delete", object_ref=first.reference)
    assert f"kept with the child's latest contact {second.reference}" in event.detail
    assert not Person.objects.filter(pk__in=[child, mother]).exists()
    assert PersonKey.objects.get(person_id=child).is_shredded
    for model in (PersonName, PersonAddress, LocalIdentifier, MatchKey, IdentityDecision):
        assert not model.objects.exists(), model


@pytest.mark.django_db
def test_while_the_latest_contact_is_undecided_nothing_of_the_child_falls_due(world, new_enquiry):
    first_on = timezone.localdate() - dt.timedelta(days=500)
    first = _decided_nfa(world, new_enquiry, first_on)
    scheduled = retention.schedule(today=add_months(first_on, 12))
    assert [d.enquiry.pk for d in scheduled] == [first.pk]
    # A contact recorded after the schedule was read: the disposal checks again and keeps the first.
    later = _another_contact(world, first.child, timezone.localdate() - DAY)
    with pytest.raises(ValidationFailed):
        retention.dispose(scheduled[0])
    assert Enquiry.objects.filter(pk=first.pk).exists() and not Disposal.objects.exists()
    assert retention.schedule(today=add_months(first_on, 12)) == []
    assert later.state != "decided"


@pytest.mark.django_db
def test_a_child_s_records_merged_into_one_are_counted_and_disposed_of_as_one_child(world, new_enquiry):
    first_on = timezone.localdate() - dt.timedelta(days=500)
    second_on = first_on + dt.timedelta(days=365)
    first = _decided_nfa(world, new_enquiry, first_on)
    # A duplicate record of the same child, made by an earlier contact before matching, since merged.
    second = _decided_nfa(world, world.new_enquiry(child=child_data(nhs_number="")), second_on)
    kept, duplicate = first.child_id, second.child_id
    Person.objects.filter(pk=duplicate).update(merged_into=kept)
    Merge.objects.create(kept_id=kept, merged_id=duplicate, reason="Same child: same name and date of birth",
                         merged_by=world.user("manager"))
    IdentityDecision.objects.create(person_id=kept, candidate_id=duplicate, outcome="same",
                                    decided_by=world.user("manager"))

    assert retention.run(today=add_months(first_on, 12)).due == []
    # A hold on the child (the record kept) holds what the merged record has too.
    hold = retention.place_hold(by=world.user("manager"), reason="Practice review", person_id=kept)
    held = retention.run(today=add_months(second_on, 12))
    assert held.disposed == [] and {d.enquiry.pk for d in held.held} == {first.pk, second.pk}
    retention.lift_hold(hold.pk, by=world.user("manager"), reason="Review concluded")

    result = retention.run(today=add_months(second_on, 12))
    assert sorted(_disposed(result)) == sorted([first.reference, second.reference]) and result.failed == []
    assert not Person.objects.filter(pk__in=[kept, duplicate]).exists()
    assert all(k.is_shredded for k in PersonKey.objects.filter(person_id__in=[kept, duplicate]))
    assert not Merge.objects.exists() and not IdentityDecision.objects.exists()
