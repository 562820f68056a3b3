"""A child's chronology (issue 20 item 6): every event of the child's enquiries, in date order, as the gate
lets each user read it; page, API and PDF; filters; 404 outside need-to-know; audited; bounded queries."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from mash.audit import services as audit
from mash.audit.models import AuditEvent, Kind
from mash.cases import services as cases
from mash.consent import services as consent
from mash.core.errors import NotFound, ValidationFailed
from mash.keys.services import key_cache
from mash.people.models import Person
from mash.people.selectors.chronology import child_records, chronology
from mash.testing import cases as named
from mash.testing.api import Api
from mash.testing.pages import pdf_text

SEALED = "An adult of the household is under investigation."   # Essex Police, sealed (named.decided_case)
HELD = "Seen for a wrist injury in February 2025."              # the GPs' confidential information held
RESTRICTED = "DASH risk assessment graded medium in 2024."       # Essex Police, restricted


def without_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())


def read(user, person_id, **filters):
    return chronology(user, child_records(user, person_id), **filters)


def texts(found) -> str:
    """Everything a chronology says, as one string."""
    parts = []
    for e in found.events:
        parts += [e.text, e.detail, e.agency, *e.markers, *(i.content for i in e.items)]
    return "\n".join(parts)


def second_enquiry(world, child, days_ago=2):
    """Another contact about the same child (the existing person chosen at intake)."""
    return world.new_enquiry(child={"person_id": child.pk, "identity_reason": "Same NHS number"},
                             related_people=[], reporter_type="police",
                             received_at=timezone.now() - dt.timedelta(days=days_ago))


@pytest.fixture
def two_enquiries(world):
    """Rowan's first contact ten days ago (Essex Police and Education asked), a second two days ago (no
    agency asked); then the first is rated, so its rating comes after the second contact."""
    first = world.new_enquiry(received_at=timezone.now() - dt.timedelta(days=10))
    second = second_enquiry(world, first.child)
    world.ask(world.rate(first))
    return first, second


def test_events_of_every_enquiry_in_date_order(world, two_enquiries, manager):
    first, second = two_enquiries
    found = read(manager, first.child_id)
    assert found.references == [first.reference, second.reference]
    assert [(e.kind, e.reference) for e in found.events] == [
        ("contact", first.reference), ("contact", second.reference),
        ("consent", first.reference), ("consent", second.reference),  # consent at intake, recorded as entered
        ("rating", first.reference), ("request", first.reference), ("request", first.reference)]
    assert [e.at for e in found.events] == sorted(e.at for e in found.events)
    contact = found.events[0]
    assert contact.text == "Contact received from school or education setting: Physical abuse"
    assert found.events[2].text == "Consent recorded for Rowan Exampleton: given"
    assert found.events[4].text == "Rated amber" and found.events[4].detail == "Injuries seen by school staff"


def test_sealed_items_are_markers_and_only_their_agency_reads_them(world, decided_case, manager, police_worker,
                                                                    education_worker):
    child = decided_case.enquiry.child_id
    team = texts(read(manager, child))
    assert "Confidential information held: 1 further item sealed to Essex Police" in team
    assert "Confidential information held by NHS England" in team  # the GPs' whole answer: a marker
    assert RESTRICTED in team and named.INCIDENT in team
    assert SEALED not in team and HELD not in team and "Held in confidence" not in team
    police = read(police_worker, child)
    assert SEALED in texts(police) and RESTRICTED in texts(police)  # its own, sealed or not
    assert [i.confidentiality for e in police.events for i in e.items if i.content == SEALED] == ["Sealed"]
    assert {e.agency for e in police.events if e.kind in ("answer", "request")} == {"Essex Police"}
    education = texts(read(education_worker, child))
    assert SEALED not in education and "sealed to Essex Police" not in education and HELD not in education
    assert named.INCIDENT not in education and named.ATTENDANCE in education


def test_an_agency_sees_only_the_enquiries_it_was_asked_about(world, two_enquiries, police_worker, manager):
    first, second = two_enquiries
    found = read(police_worker, first.child_id)
    assert found.references == [first.reference]
    # An asked agency reads the current rating and the categories, not the rationale or who reported.
    assert [(e.kind, e.text, e.detail) for e in found.events if e.kind in ("contact", "rating")] == [
        ("contact", "Contact received: Physical abuse", ""), ("rating", "Rated amber", "")]
    assert [e.agency for e in found.events if e.kind == "request"] == ["Essex Police"]
    with pytest.raises(NotFound):
        child_records(world.user("sarc_worker"), first.child_id)  # an agency never asked
    with pytest.raises(NotFound):
        child_records(manager, 10**9)


def test_filters_by_agency_and_kind(world, decided_case, manager):
    child = decided_case.enquiry.child_id
    police = read(manager, child, agency="essex-police")
    assert police.events and {e.agency for e in police.events} == {"Essex Police"}
    assert {e.kind for e in police.events} == {"request", "answer"}
    ratings = read(manager, child, kind="rating")
    assert [e.kind for e in ratings.events] == ["rating"]
    both = read(manager, child, agency="education", kind="answer")
    assert [(e.kind, e.agency) for e in both.events] == [("answer", world.partner("education").name)]
    with pytest.raises(ValidationFailed) as refused:
        read(manager, child, kind="gossip", agency="nowhere")
    assert set(refused.value.errors) == {"kind", "agency"}


def test_page_and_api_say_the_same_and_each_read_is_audited(client, decided_case, manager):
    child = decided_case.enquiry.child_id
    client.force_login(manager)
    enquiry_page = client.get(f"/enquiries/{decided_case.enquiry.reference}/").content.decode()
    assert f'href="/people/{child}/chronology/">Chronology for Rowan Exampleton</a>' in enquiry_page
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    page = client.get(f"/people/{child}/chronology/", {"agency": "essex-police"})
    assert page.status_code == 200
    body = page.content.decode()
    api = Api(manager).get(f"/people/{child}/chronology", agency="essex-police").json()
    assert api["person_id"] == child and api["merged"] is False and api["agency"] == "essex-police"
    assert len(api["events"]) == body.count('<td class="govuk-table__cell mash-nowrap">') > 0
    for event in api["events"]:
        assert escape(event["text"]) in body and event["enquiry_reference"] in body
        for item in event["items"]:
            assert escape(item["content"]) in body
    events = AuditEvent.objects.filter(id__gt=before or 0, action="read chronology", kind=Kind.READ)
    assert events.count() == 2  # the page and the API
    for e in events:
        assert child in e.people and decided_case.enquiry.reference in e.object_ref
        assert "filters: agency Essex Police" in e.detail and e.actor_id == manager.pk
    # A filter not on the list: the page says so (and shows every event); the API refuses it.
    refused = client.get(f"/people/{child}/chronology/", {"kind": "gossip"})
    assert refused.status_code == 400 and "Choose a kind of event from the list" in refused.content.decode()
    assert Api(manager).get(f"/people/{child}/chronology", kind="gossip").json()["errors"] == {
        "kind": ["Choose a kind of event from the list"]}


def test_pdf_renders_for_those_who_may_read_it_and_is_gated(client, decided_case, manager, world):
    child = decided_case.enquiry.child_id
    client.force_login(manager)
    response = client.get(f"/people/{child}/chronology/pdf/", {"kind": "answer"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Rowan Exampleton" in text and "Essex Police" in text and "1 further item sealed" in text
    assert SEALED not in text and manager.display_name in text
    exports = AuditEvent.objects.filter(action="export chronology", kind=Kind.EXPORT, actor_id=manager.pk)
    assert [child in e.people and "filters: kind agency answer" in e.detail for e in exports] == [True]
    client.force_login(world.user("sarc_worker"))
    assert client.get(f"/people/{child}/chronology/pdf/").status_code == 404


def test_outside_need_to_know_looks_like_no_such_person(client, decided_case, world):
    child = decided_case.enquiry.child_id
    outsider = world.user("sarc_worker")
    client.force_login(outsider)
    missing, hidden = client.get("/people/999999/chronology/"), client.get(f"/people/{child}/chronology/")
    assert missing.status_code == hidden.status_code == 404
    assert without_csrf(missing) == without_csrf(hidden)
    api = Api(outsider)
    assert api.get("/people/999999/chronology").json() == api.get(f"/people/{child}/chronology").json()
    assert api.get(f"/people/{child}/chronology").status_code == 404
    assert AuditEvent.objects.filter(kind=Kind.DENIAL, object_type="person", object_ref=str(child)).exists()


def test_a_merged_record_answers_for_the_record_kept(client, world, two_enquiries, manager):
    first, _ = two_enquiries
    other = world.new_enquiry(child={"first_name": "Ro", "last_name": "Exampleton", "nhs_number": ""},
                              related_people=[])
    Person.objects.filter(pk=other.child_id).update(merged_into=first.child_id)  # as a merge leaves it
    client.force_login(manager)
    response = client.get(f"/people/{other.child_id}/chronology/?kind=contact")
    assert response.status_code == 302
    assert response["Location"] == f"/people/{first.child_id}/chronology/?kind=contact"
    answer = Api(manager).get(f"/people/{other.child_id}/chronology").json()
    assert answer["person_id"] == first.child_id and answer["asked_for"] == other.child_id and answer["merged"]
    assert other.reference in answer["enquiries"]  # the merged record's enquiries are the kept person's


def test_queries_do_not_grow_with_the_events(world, decided_case, manager):
    """Each kind of event is one query for every enquiry together (answers: `contribution_views`, per
    enquiry), so more ratings, decisions, packages and consent records cost no more queries."""
    child = decided_case.enquiry.child_id

    def count() -> int:
        # As in a request: its keys cache and its reads written as one audit event.
        token = audit.begin_request(RequestFactory().get("/"))
        try:
            with key_cache(), CaptureQueriesContext(connection) as queries:
                read(manager, child)
        finally:
            audit.end_request(token)
        return len(queries)

    count()  # warm: the ISA, content types
    before = count()
    enquiry = decided_case.enquiry
    consent.record_consent(enquiry, by=manager, status="given", given_by=named.CONSENT_GIVEN_BY,
                           purposes=["onward_disclosure"])
    cases.amend_decision(enquiry, by=manager, reason="Typo", outcome="section_17", rationale="Amended rationale",
                         recipient_type="social_worker", receiving_professional=decided_case.recipient.username)
    named.sent(decided_case)
    named.sent(decided_case)
    assert count() == before


def test_packages_and_consent_for_the_team_in_words_never_their_text(full_case, manager, police_worker):
    mothers = consent.record_consent(full_case.enquiry, by=manager, person_id=full_case.mother.pk, status="given",
                                     given_by="Herself", notes="NOTE-NOT-SHOWN", purposes=["onward_disclosure"])
    consent.withdraw_consent(mothers, by=manager, reason="REASON-NOT-SHOWN")
    team = read(manager, full_case.child.pk)
    said = [e.text for e in team.events if e.kind == "consent"]
    assert said[-2:] == ["Consent recorded for Morgan Exampleton: given", "Consent withdrawn for Morgan Exampleton"]
    assert "NOT-SHOWN" not in texts(team)
    # The mother is named, so the read is in her audit trail too.
    assert full_case.mother.pk in AuditEvent.objects.filter(action="read chronology").latest("id").people
    said = [e.text for e in team.events if e.kind in ("package", "consent")]
    assert f"Disclosure package {full_case.package.pk} sent to {full_case.package.addressed_to} " \
           "(children's social care social worker)" in said
    assert "Sharing without consent approved by a MASH manager" in said
    assert any(t.startswith("Sharing without consent proposed (lawful basis: Children Act 1989, section 47")
               for t in said)
    assert "children-act-1989-s47" not in texts(team) and "Risk of significant harm at home" not in texts(team)
    assert not [e for e in read(police_worker, full_case.child.pk).events if e.kind in ("package", "consent")]


def test_an_assigned_team_member_reads_normal_items_and_markers_for_the_rest(case_with_files):
    assigned, enquiry = case_with_files["users"]["assigned"], case_with_files["enquiry"]
    found = read(assigned, enquiry.child_id)
    said = texts(found)
    assert "Incident at home" in said and "DA call-out" not in said and "Covert source" not in said
    answer = next(e for e in found.events if e.kind == "answer" and e.agency == "Essex Police")
    assert answer.markers == ["Confidential information held: 1 further item sealed to Essex Police",
                              "Confidential information held: 1 further item restricted to the MASH managers and "
                              "Essex Police"]
    assert "Rated amber" in said and "Injuries seen by school staff" in said  # the team reads the rationale
