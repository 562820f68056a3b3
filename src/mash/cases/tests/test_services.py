import datetime as dt

import pytest
from django.utils import timezone

from mash.cases import services
from mash.cases.models import Decision, RagRatingRecord
from mash.core.errors import NotFound, PermissionDenied, ValidationFailed
from mash.people.models import PersonRevision
from mash.people.services import amend_person
from mash.sharing import services as sharing
from mash.sharing.models import RequestStatus
from mash.testing.world import child_data, contact_data


def errors(**overrides):
    with pytest.raises(ValidationFailed) as exc:
        services.record_contact(by=overrides.pop("by"), **contact_data(**overrides))
    return exc.value.errors


def test_contact_validation_reports_every_error_together(manager):
    found = errors(by=manager, concern=" ", concern_categories=["neglect", "made_up"],
                   received_at=timezone.now() + dt.timedelta(days=1),
                   child=child_data(nhs_number="943 476 5918", postcode="nowhere"),
                   related_people=[dict(first_name="A", last_name="B", relationship="mother", nhs_number="123")])
    assert found["concern"] == ["Enter the concern"]
    assert "Unknown concern category 'made_up'" in found["concern_categories"]
    assert found["received_at"] == ["The time received cannot be in the future"]
    assert "check digit" in found["child.nhs_number"][0]
    assert "postcode" in found["child.postcode"][0]
    assert "related_people[0].nhs_number" in found


def test_contact_needs_a_category_and_an_anonymous_reporter_has_no_name(manager):
    assert errors(by=manager, concern_categories=[])["concern_categories"] == ["Choose at least one concern category"]
    assert "anonymous" in errors(by=manager, reporter_type="anonymous")["reporter_name"][0]


def test_contact_opens_an_enquiry_awaiting_rating(new_enquiry):
    assert new_enquiry.state == "awaiting_rating"
    assert new_enquiry.reference.startswith("MASH-")
    assert new_enquiry.child.nhs_number == "9434765919"
    assert new_enquiry.child.relationships.get().person.first_name == "Morgan"


def test_only_the_mash_team_records_contacts(make_user):
    with pytest.raises(PermissionDenied):
        services.record_contact(by=make_user("auditor"), **contact_data())


def test_rating_sets_the_deadline_from_the_isa_and_keeps_history(new_enquiry, manager, isa_version):
    first = services.rate(new_enquiry, by=manager, rating="red", rationale="injury")
    assert first.decision_due_at - first.rated_at == dt.timedelta(hours=4)
    assert (first.isa_version, first.isa_clause) == (isa_version, "5.2")
    second = services.rate(new_enquiry, by=manager, rating="green", rationale="new information")
    assert second.decision_due_at - second.rated_at == dt.timedelta(hours=72)
    assert list(RagRatingRecord.objects.filter(enquiry=new_enquiry).values_list("rating", flat=True)) == ["red", "green"]
    new_enquiry.refresh_from_db()
    assert (new_enquiry.rag, new_enquiry.decision_due_at) == ("green", second.decision_due_at)


def test_rating_needs_a_valid_rating_and_rationale(new_enquiry, manager):
    with pytest.raises(ValidationFailed) as exc:
        services.rate(new_enquiry, by=manager, rating="purple", rationale="")
    assert set(exc.value.errors) == {"rating", "rationale"}


def test_only_a_manager_rates(asked_enquiry, police_worker, education_worker, make_user):
    with pytest.raises(PermissionDenied):
        services.rate(asked_enquiry, by=police_worker, rating="red", rationale="x")
    with pytest.raises(NotFound):  # not asked: may not even know it exists
        services.rate(asked_enquiry, by=make_user("mash_worker", "g4s-sarc"), rating="red", rationale="x")


def test_handed_on_outcomes_need_a_recipient(rated_enquiry, manager, make_user):
    with pytest.raises(ValidationFailed) as exc:
        services.decide(rated_enquiry, by=manager, outcome="section_17", rationale="needs assessment")
    assert set(exc.value.errors) == {"receiving_team", "recipient_type"}
    auditor = make_user("auditor", username="not-a-receiver")
    with pytest.raises(ValidationFailed, match="not a receiving professional"):
        services.decide(rated_enquiry, by=manager, outcome="section_17", rationale="x", recipient_type="social_worker",
                        receiving_professional=auditor.username)


def test_decision_amendment_keeps_the_earlier_version(asked_enquiry, manager, receiving_professional, isa_version):
    first = services.decide(asked_enquiry, by=manager, outcome="early_help", rationale="family support",
                            recipient_type="early_help", receiving_team="Early Help Hub")
    assert first.retention_clause == "8.3" and first.isa_version == isa_version
    assert set(asked_enquiry.information_requests.values_list("status", flat=True)) == {RequestStatus.LAPSED}
    with pytest.raises(ValidationFailed, match="reason"):
        services.amend_decision(asked_enquiry, by=manager, reason="", outcome="section_17", rationale="x")
    second = services.amend_decision(asked_enquiry, by=manager, reason="New police information",
                                     outcome="section_17", rationale="needs assessment", recipient_type="social_worker",
                                     receiving_professional=receiving_professional.username)
    assert (second.version, second.supersedes) == (2, first)
    first.refresh_from_db()
    assert (first.outcome, first.rationale) == ("early_help", "family support")
    assert services.current_decision(asked_enquiry) == second
    assert Decision.objects.filter(enquiry=asked_enquiry).count() == 2


def test_amending_a_person_keeps_a_revision(new_enquiry, manager):
    child = new_enquiry.child
    with pytest.raises(ValidationFailed, match="reason"):
        amend_person(child, {"first_name": "Robin"}, reason=" ", by=manager)
    revision = amend_person(child, {"first_name": "Robin", "postcode": "rm16 2xj"}, reason="Spelling", by=manager)
    child.refresh_from_db()
    assert (child.first_name, child.postcode) == ("Robin", "RM16 2XJ")
    assert revision.previous == {"first_name": "Rowan", "postcode": "RM17 6SL"}
    assert PersonRevision.objects.count() == 1
    assert amend_person(child, {"first_name": "Robin"}, reason="again", by=manager) is None


def test_request_information_checks_partners(rated_enquiry, manager):
    with pytest.raises(ValidationFailed, match="not a partner to the current ISA"):
        sharing.request_information(rated_enquiry, by=manager, partners=["acme-ltd"])
    sharing.request_information(rated_enquiry, by=manager, partners=["essex-police"])
    with pytest.raises(ValidationFailed, match="Already asked: Essex Police"):
        sharing.request_information(rated_enquiry, by=manager, partners=["essex-police"])
