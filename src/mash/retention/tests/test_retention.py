"""Retention per the ISA: the boundaries, delete and anonymise, crypto-shredding, legal holds, tombstones."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from mash.audit.models import AuditEvent
from mash.cases import services as cases
from mash.cases.models import Contact, Decision, Enquiry, EnquiryEvent, RagRatingRecord
from mash.core.dates import add_months
from mash.core.errors import ValidationFailed
from mash.disclosure.models import DisclosurePackage, DisposalPermit
from mash.keys import keyring
from mash.keys import services as keys
from mash.keys.models import PersonKey
from mash.people.models import Person, Relationship
from mash.retention import services as retention
from mash.retention.models import Disposal, LegalHold
from mash.sharing import services as sharing
from mash.sharing.models import Contribution, ContributionItem, InformationRequest
from mash.testing.cases import INCIDENT, RATIONALE, sent
from mash.testing.database import all_text_in_the_database, raw
from mash.testing.world import contact_data


def decided_on(enquiry) -> dt.date:
    return timezone.localtime(Decision.objects.get(enquiry=enquiry, superseded_by__isnull=True).decided_at).date()


@pytest.fixture
def nfa(asked_enquiry, manager, police_worker):
    """An enquiry decided "no further action" (ISA 8.1: kept 12 months, then deleted), with a police answer."""
    request = asked_enquiry.information_requests.get(partner__slug="essex-police")
    sharing.contribute(request, by=police_worker, kind="share", lawful_basis="crime-and-disorder-act-1998-s115",
                       decision_reason="Relevant", items=[dict(category="police_incidents", content=INCIDENT,
                                                               relevance_note="At the address")])
    cases.decide(asked_enquiry, by=manager, outcome="no_further_action", rationale="Below the threshold.")
    return asked_enquiry


@pytest.mark.django_db
def test_an_enquiry_is_kept_through_the_day_before_its_period_ends(nfa):
    due = add_months(decided_on(nfa), 12)
    result = retention.run(today=due - dt.timedelta(days=1))
    assert result.due == [] and Enquiry.objects.filter(pk=nfa.pk).exists()
    result = retention.run(today=due)
    assert [d.enquiry_reference for d in result.disposed] == [nfa.reference]
    assert not Enquiry.objects.filter(pk=nfa.pk).exists()


@pytest.mark.django_db
def test_the_period_runs_from_the_current_decision(nfa, manager):
    first = decided_on(nfa)
    Decision.objects.filter(enquiry=nfa).update(decided_at=timezone.now() - dt.timedelta(days=400))
    cases.amend_decision(nfa, by=manager, reason="New information", outcome="no_further_action",
                         rationale="Still below the threshold.")
    assert retention.run(today=add_months(first, 12) - dt.timedelta(days=1)).due == []
    assert len(retention.run(today=add_months(first, 12)).disposed) == 1


@pytest.mark.django_db
def test_deleting_removes_every_row_destroys_the_keys_and_leaves_a_tombstone(nfa):
    child, contact = nfa.child_id, nfa.contact_id
    mother = Relationship.objects.get(child_id=child).person_id
    key = PersonKey.objects.get(person_id=child)
    due = add_months(decided_on(nfa), 12)
    retention.run(today=due)
    for model, lookup in ((Enquiry, {"pk": nfa.pk}), (Contact, {"pk": contact}),
                          (RagRatingRecord, {"enquiry_id": nfa.pk}), (EnquiryEvent, {"enquiry_id": nfa.pk}),
                          (Decision, {"enquiry_id": nfa.pk}), (InformationRequest, {"enquiry_id": nfa.pk}),
                          (Contribution, {"enquiry_id": nfa.pk}), (ContributionItem, {"contribution__enquiry_id": nfa.pk}),
                          (Person, {"pk__in": [child, mother]}), (Relationship, {"child_id": child})):
        assert not model.objects.filter(**lookup).exists(), model
    key.refresh_from_db()
    assert key.is_shredded and bytes(key.wrapped) == b"" and str(key.key_id) in keyring.shredded()
    tombstone = Disposal.objects.get(enquiry_id=nfa.pk)
    assert (tombstone.enquiry_reference, tombstone.isa_clause, tombstone.action, tombstone.due_on) == (
        nfa.reference, "8.1", "delete", due)
    assert tombstone.rows["items"] == 1 and tombstone.keys_destroyed == 1
    event = AuditEvent.objects.get(action="retention delete")
    assert event.object_ref == nfa.reference and "clause 8.1" in event.detail
    assert INCIDENT not in all_text_in_the_database()
    assert not DisposalPermit.objects.exists()


@pytest.mark.django_db
def test_anonymising_keeps_the_counts_and_empties_the_words(decided_case):
    package = sent(decided_case)
    enquiry = decided_case.enquiry
    due = add_months(decided_on(enquiry), 300)  # section 17: ISA 8.4, 300 months, then anonymised
    assert retention.run(today=due - dt.timedelta(days=1)).due == []
    [tombstone] = retention.run(today=due).disposed
    assert tombstone.action == "anonymise" and tombstone.isa_clause == "8.4"
    enquiry.refresh_from_db()
    assert enquiry.rag == "amber" and enquiry.state and Decision.objects.get(enquiry=enquiry).outcome == "section_17"
    assert Decision.objects.get(enquiry=enquiry).rationale == ""
    assert set(ContributionItem.objects.filter(contribution__enquiry=enquiry).values_list("content", flat=True)) == {""}
    assert DisclosurePackage.objects.get(pk=package.pk).content is None
    child = Person.objects.get(pk=enquiry.child_id)
    assert child.anonymised_at and child.last_name == "Anonymised" and not child.nhs_number and not child.first_name
    assert PersonKey.objects.get(person_id=child.pk).is_shredded
    everything = all_text_in_the_database()
    for text in (RATIONALE, INCIDENT, "Exampleton", "943 476 5919".replace(" ", "")):
        assert text not in everything, text


@pytest.mark.django_db
def test_a_legal_hold_keeps_an_enquiry_until_lifted(nfa, manager):
    due = add_months(decided_on(nfa), 12)
    hold = retention.place_hold(by=manager, reason="Disclosure ordered in care proceedings",
                                enquiry_reference=nfa.reference)
    result = retention.run(today=due)
    assert result.disposed == [] and [d.enquiry for d in result.held] == [nfa]
    assert Enquiry.objects.filter(pk=nfa.pk).exists()
    retention.lift_hold(hold.pk, by=manager, reason="Proceedings concluded")
    assert len(retention.run(today=due).disposed) == 1
    assert AuditEvent.objects.filter(action__in=["place legal hold", "lift legal hold"]).count() == 2


@pytest.mark.django_db
def test_a_hold_on_the_child_keeps_all_their_enquiries(nfa, manager):
    retention.place_hold(by=manager, reason="Child safeguarding practice review", person_id=nfa.child_id)
    assert retention.run(today=add_months(decided_on(nfa), 12)).disposed == []
    with pytest.raises(ValidationFailed):
        retention.place_hold(by=manager, reason="", enquiry_reference=nfa.reference)


@pytest.mark.django_db
def test_a_dry_run_changes_nothing(nfa):
    due = add_months(decided_on(nfa), 12)
    result = retention.run(today=due, dry_run=True)
    assert [d.enquiry for d in result.due] == [nfa] and result.disposed == []
    assert Enquiry.objects.filter(pk=nfa.pk).exists() and not Disposal.objects.exists()
    assert not PersonKey.objects.filter(shredded_at__isnull=False).exists()


@pytest.mark.django_db
def test_a_person_with_another_live_enquiry_keeps_their_key(nfa, manager):
    again = cases.record_contact(by=manager, **contact_data(concern="A second concern, months later."))
    Enquiry.objects.filter(pk=again.pk).update(child_id=nfa.child_id)
    Contact.objects.filter(pk=again.contact_id).update(child_id=nfa.child_id)
    keys.forget_cached_keys()
    retention.run(today=add_months(decided_on(nfa), 12))
    assert not PersonKey.objects.get(person_id=nfa.child_id).is_shredded
    assert Person.objects.filter(pk=nfa.child_id).exists()


@pytest.mark.django_db
def test_the_command_reports_and_disposes(nfa, capsys):
    due = add_months(decided_on(nfa), 12)
    call_command("retention", "run", "--dry-run", "--today", due.isoformat())
    out = capsys.readouterr().out
    assert "Would dispose of 1" in out and nfa.reference in out and "clause 8.1" in out
    assert Enquiry.objects.filter(pk=nfa.pk).exists()
    call_command("retention", "run", "--today", due.isoformat())
    assert f"Disposed of {nfa.reference}: deleted" in capsys.readouterr().out


OLD_NAME, AMENDED_FOR = "Quillonbeck", "Court order RVZ-4471 changed the name"


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["delete", "anonymise"])
def test_a_disposed_person_s_amendment_history_goes_with_them(nfa, manager, action, monkeypatch):
    """The earlier names and the reasons for amending them are removed in the disposal's transaction."""
    from mash.people import services as people

    child = Person.objects.get(pk=nfa.child_id)
    mother = Relationship.objects.get(child_id=child.pk).person
    people.amend_person(child, {"other_names": OLD_NAME}, reason=AMENDED_FOR, by=manager)
    people.amend_person(child, {"other_names": "Sky"}, reason=AMENDED_FOR + " again", by=manager)
    people.amend_person(mother, {"town": OLD_NAME}, reason=AMENDED_FOR, by=manager)
    people.amend_person(mother, {"town": "Tilbury"}, reason=AMENDED_FOR, by=manager)
    if action == "anonymise":
        monkeypatch.setattr(retention, "_due", _anonymised(retention._due))
    retention.run(today=add_months(decided_on(nfa), 12))
    assert Disposal.objects.get(enquiry_id=nfa.pk).action == action
    everything = all_text_in_the_database()
    assert OLD_NAME not in everything and AMENDED_FOR not in everything
    from mash.people.models import PersonRevision

    assert not PersonRevision.objects.filter(person_id__in=[child.pk, mother.pk]).exists()


def _anonymised(due):
    def anonymise(decision):
        found = due(decision)
        found.action = "anonymise"
        return found
    return anonymise


HOLD_REASON, LIFT_REASON = "Claim HX-2231 against the council names the child", "Claim HX-2231 settled"


@pytest.mark.django_db
def test_a_hold_s_reasons_are_encrypted_under_the_held_person_s_key(nfa, manager):
    on_enquiry = retention.place_hold(by=manager, reason=HOLD_REASON, enquiry_reference=nfa.reference)
    on_person = retention.place_hold(by=manager, reason=HOLD_REASON + " (person)", person_id=nfa.child_id)
    retention.lift_hold(on_person.pk, by=manager, reason=LIFT_REASON)
    everything = all_text_in_the_database()
    assert HOLD_REASON not in everything and LIFT_REASON not in everything
    assert raw(LegalHold, on_enquiry.pk, "reason").startswith("enc1:")
    assert LegalHold.objects.get(pk=on_enquiry.pk).reason == HOLD_REASON
    lifted = LegalHold.objects.get(pk=on_person.pk)
    assert (lifted.reason, lifted.lift_reason) == (HOLD_REASON + " (person)", LIFT_REASON)


@pytest.mark.django_db
def test_the_holds_command_lists_a_hold_whose_key_was_destroyed(nfa, manager, capsys):
    """A backup restored with its holds while the shred register destroys the person's key."""
    hold = retention.place_hold(by=manager, reason=HOLD_REASON, person_id=nfa.child_id)
    keys.shred([nfa.child_id])
    keys.forget_cached_keys()
    call_command("retention", "holds")
    out = capsys.readouterr().out
    assert f"{hold.pk}  person {nfa.child_id}" in out and "(unreadable: the person's data key was destroyed)" in out
    call_command("retention", "schedule", "--days", "1000")
    assert "HELD: (unreadable: the person's data key was destroyed)" in capsys.readouterr().out


@pytest.mark.django_db
def test_a_lifted_hold_on_an_anonymised_person_keeps_who_and_when_not_why(decided_case, manager, capsys):
    enquiry = decided_case.enquiry
    hold = retention.place_hold(by=manager, reason=HOLD_REASON, person_id=enquiry.child_id)
    retention.lift_hold(hold.pk, by=manager, reason=LIFT_REASON)
    [tombstone] = retention.run(today=add_months(decided_on(enquiry), 300)).disposed
    assert tombstone.action == "anonymise"
    hold.refresh_from_db()
    assert hold.lifted_by == manager and (hold.reason, hold.lift_reason) == ("", "")
    call_command("retention", "holds", "--all")
    out = capsys.readouterr().out
    assert f"{hold.pk}  person {enquiry.child_id}" in out and "lifted" in out and HOLD_REASON not in out


@pytest.mark.django_db
def test_the_migration_encrypts_hold_reasons_written_before(nfa, manager):
    import importlib
    from types import SimpleNamespace

    from django.db import connection

    on_enquiry = retention.place_hold(by=manager, reason="x", enquiry_reference=nfa.reference)
    on_person = retention.place_hold(by=manager, reason="y", person_id=nfa.child_id)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE retention_legalhold SET reason = %s WHERE id = %s", [HOLD_REASON, on_enquiry.pk])
        cursor.execute("UPDATE retention_legalhold SET reason = %s, lift_reason = %s WHERE id = %s",
                       [HOLD_REASON + " (person)", LIFT_REASON, on_person.pk])
    migration = importlib.import_module("mash.retention.migrations.0002_encrypt_hold_reasons")
    migration.encrypt_existing(None, SimpleNamespace(connection=connection))
    everything = all_text_in_the_database()
    assert HOLD_REASON not in everything and LIFT_REASON not in everything
    assert LegalHold.objects.get(pk=on_enquiry.pk).reason == HOLD_REASON
    again = LegalHold.objects.get(pk=on_person.pk)
    assert (again.reason, again.lift_reason) == (HOLD_REASON + " (person)", LIFT_REASON)
