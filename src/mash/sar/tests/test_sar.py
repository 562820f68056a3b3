"""Subject access requests: logging and the clock's steps, compiling everything held about a generated
person, the reviewer's exemptions, and a pack from which withheld and redacted content is absent."""

import datetime as dt
import io
import json
from types import SimpleNamespace

import pytest
from django.utils import timezone
from pypdf import PdfReader

from mash.accounts.models import Role
from mash.audit.models import AuditEvent, Kind
from mash.cases import services as cases
from mash.consent import services as consent
from mash.core.errors import InvalidTransition, ValidationFailed
from mash.disclosure import services as disclosure
from mash.sar import services
from mash.sar.models import ItemDecision, ItemSource, SarItem, SarStatus
from mash.sar.pack import build_content, render_pdf
from mash.sharing import services as sharing
from mash.sharing.models import ContributionItem

TODAY = timezone.localdate
SEALED_TEXT = "Covert observation of the address under Operation Kestrel."
HELD_TEXT = "Clinical notes held in confidence about a wrist injury."
WITHHELD_TEXT = "Informant says the uncle visits at night."
MOTHER = "Morgan Exampleton"


@pytest.fixture
def dpo(make_user):
    return make_user(Role.DPO, username="dpo")


@pytest.fixture
def hub(asked_enquiry, manager, police_worker, education_worker, receiving_professional, make_user):
    """An enquiry about Rowan (mother: Morgan) with every kind of record: normal, restricted, sealed and
    withheld items, a decline, confidential information held, a decision, a package, consent, sharing
    without consent. The concern names the mother."""
    enquiry = asked_enquiry
    gp = make_user(Role.MASH_WORKER, "nhs-england-gps", username="gp-worker")
    probation = make_user(Role.MASH_WORKER, "essex-probation", username="probation-worker")
    sharing.request_information(enquiry, by=manager, partners=["nhs-england-gps", "essex-probation"])
    req = {r.partner.slug: r for r in enquiry.information_requests.select_related("partner")}
    sharing.contribute(req["essex-police"], by=police_worker, kind="share",
                       lawful_basis="crime-and-disorder-act-1998-s115", decision_reason="Relevant", items=[
                           dict(category="police_incidents", content=f"Officers called after {MOTHER} reported a row.",
                                relevance_note="Conflict at home", occurred_on="2025-03-02"),
                           dict(category="intelligence", content=WITHHELD_TEXT, relevance_note="Possible risk"),
                           dict(category="arrests", content=SEALED_TEXT, relevance_note="Open investigation",
                                confidentiality="sealed"),
                       ])
    sharing.contribute(req["education"], by=education_worker, kind="share", lawful_basis="uk-gdpr-6-1-e",
                       decision_reason="Relevant", items=[
                           dict(category="school_attendance", content="Attendance 81% this term.",
                                relevance_note="Falling", confidentiality="restricted")])
    sharing.contribute(req["nhs-england-gps"], by=gp, kind="confidential_held",
                       lawful_basis="uk-gdpr-9-2-g-dpa-sch1-para18", decision_reason="Held in confidence",
                       confidential_reason="clinical_confidentiality", items=[
                           dict(category="gp_consultations", content=HELD_TEXT, relevance_note="Earlier injury")])
    sharing.contribute(req["essex-probation"], by=probation, kind="decline", decision_reason="Nothing held")
    override = consent.propose_override(enquiry, by=manager, justification="Risk of significant harm at home",
                                        lawful_basis="children-act-1989-s47", purposes=["onward_disclosure"])
    cases.decide(enquiry, by=manager, outcome="section_17", rationale="Child in need assessment",
                 recipient_type="social_worker", receiving_professional=receiving_professional.username)
    school = ContributionItem.objects.get(category="school_attendance")
    police = ContributionItem.objects.get(category="police_incidents")
    package = disclosure.send_package(disclosure.create_package(
        enquiry, by=manager, recipient_type="social_worker", recipient=receiving_professional.username,
        lawful_basis="children-act-1989-s17",
        selection={"child": ["date_of_birth"], "items": {str(police.pk): ["content"]}}), by=manager)
    child = enquiry.child
    mother = child.relationships.get().person
    return SimpleNamespace(enquiry=enquiry, child=child, mother=mother, override=override, package=package,
                           school=school, police=police, manager=manager)


def log(dpo, people, **overrides):
    data = dict(requester_name="Rowan's parent", requester_relationship="parent",
                requester_contact="1 Sample Street, Grays", received_on=TODAY() - dt.timedelta(days=3),
                person_ids=[p.pk for p in people], identity_verified=True, identity_method="Passport seen")
    data.update(overrides)
    return services.log_request(by=dpo, **data)


@pytest.mark.django_db
def test_logging_checks_every_field(dpo):
    with pytest.raises(ValidationFailed) as exc:
        services.log_request(by=dpo, requester_name="", requester_relationship="cousin", requester_contact="",
                             received_on=TODAY() + dt.timedelta(days=1), person_ids=[], identity_verified=True)
    assert set(exc.value.errors) == {"requester_name", "requester_relationship", "requester_contact",
                                     "received_on", "person_ids", "identity_method"}


@pytest.mark.django_db
def test_the_clock_steps(dpo, hub):
    received = TODAY() - dt.timedelta(days=20)
    sar = log(dpo, [hub.child], received_on=received, identity_verified=False, awaiting_identity=True)
    assert sar.reference.startswith(f"SAR-{received.year}-")
    assert services.clock_of(sar).paused
    services.verify_identity(sar, by=dpo, method="Birth certificate and council tax bill",
                             verified_on=received + dt.timedelta(days=6))
    clock = services.clock_of(sar)
    assert not clock.paused and clock.paused_days == 6
    with pytest.raises(InvalidTransition):
        services.resume(sar, by=dpo)
    services.pause(sar, by=dpo, reason="clarification", started_on=received + dt.timedelta(days=10))
    with pytest.raises(InvalidTransition):
        services.pause(sar, by=dpo, reason="clarification")
    with pytest.raises(ValidationFailed):
        services.resume(sar, by=dpo, ended_on=received + dt.timedelta(days=9))
    services.resume(sar, by=dpo, ended_on=received + dt.timedelta(days=12))
    with pytest.raises(ValidationFailed) as exc:
        services.extend(sar, by=dpo, months=3, reason="")
    assert set(exc.value.errors) == {"months", "reason"}
    services.extend(sar, by=dpo, months=2, reason="Records from four agencies over six years")
    sar.refresh_from_db()
    from mash.core.dates import add_months
    assert services.clock_of(sar).deadline == add_months(received, 3) + dt.timedelta(days=8)
    assert AuditEvent.objects.filter(object_ref=sar.reference, action="sar.extend").exists()


def _sources(sar, person):
    return {(i.source, i.source_id) for i in sar.items.filter(person=person)}


@pytest.mark.django_db
def test_the_compile_holds_everything_about_the_child(dpo, hub):
    sar = log(dpo, [hub.child])
    services.compile_request(sar, by=dpo)
    got = _sources(sar, hub.child)
    enquiry = hub.enquiry
    expected = {(ItemSource.PERSON, hub.child.pk), (ItemSource.CONTACT, enquiry.contact.pk),
                (ItemSource.PACKAGE, hub.package.pk), (ItemSource.OVERRIDE, hub.override.pk),
                (ItemSource.RECIPIENTS, hub.child.pk)}
    expected |= {(ItemSource.RELATIONSHIP, r.pk) for r in hub.child.relationships.all()}
    expected |= {(ItemSource.RATING, r.pk) for r in enquiry.ratings.all()}
    expected |= {(ItemSource.DECISION, d.pk) for d in enquiry.decisions.all()}
    expected |= {(ItemSource.CONSENT, c.pk) for c in hub.child.consent_records.all()}
    for c in enquiry.contributions.all():
        if c.kind == "share":
            expected |= {(ItemSource.ITEM, i.pk) for i in c.items.all()}
        else:
            expected.add((ItemSource.CONTRIBUTION, c.pk))
    assert got == expected
    # Sealed and confidential-held content is never compiled, only that it exists; withheld by default.
    sealed = sar.items.filter(sealed=True)
    assert sealed.count() == 2
    assert all(i.fields == {} and i.decision == ItemDecision.WITHHOLD and i.neither_confirm_nor_deny
               for i in sealed)
    dump = json.dumps(list(sar.items.values("fields", "title")))
    assert SEALED_TEXT not in dump and HELD_TEXT not in dump
    # Who received the child's data, from the audit log and the package sent.
    recipients = sar.items.get(source=ItemSource.RECIPIENTS).fields
    assert "Essex Police" in recipients and hub.package.addressed_to in recipients
    # The mother is a third party in the child's records: proposed for redaction where named.
    police = sar.items.get(source=ItemSource.ITEM, source_id=hub.police.pk)
    assert MOTHER in police.proposed_redactions and "Morgan" in police.proposed_redactions
    assert "Exampleton" not in police.proposed_redactions  # the child's own surname
    compiled = AuditEvent.objects.get(kind=Kind.READ, action="sar.compile", object_ref=sar.reference)
    assert compiled.people == [hub.child.pk]


@pytest.mark.django_db
def test_a_parent_s_own_request_finds_the_enquiries_that_record_them(dpo, hub):
    sar = log(dpo, [hub.mother], requester_name=MOTHER, requester_relationship="self")
    services.compile_request(sar, by=dpo)
    got = _sources(sar, hub.mother)
    assert (ItemSource.PERSON, hub.mother.pk) in got
    assert (ItemSource.CONTACT, hub.enquiry.contact.pk) in got
    assert {(ItemSource.RELATIONSHIP, r.pk) for r in hub.mother.related_to.all()} <= got
    # Now the child is the third party, and the contact's reporter too.
    relationship = sar.items.get(source=ItemSource.RELATIONSHIP)
    assert "Rowan Exampleton" in relationship.proposed_redactions
    assert "Pat Reporter" in sar.items.get(source=ItemSource.CONTACT).proposed_redactions


def _decide_all(sar, dpo, special):
    for item in sar.items.all():
        if item.sealed:
            continue
        if item.pk in special:
            services.decide_item(item, by=dpo, **special[item.pk])
        elif item.proposed_redactions:  # the reviewer confirms what was proposed
            services.decide_item(item, by=dpo, decision="redact", exemption="third_party", reason="Other people",
                                 redactions=item.proposed_redactions, serious_harm_checked=True)
        else:
            services.decide_item(item, by=dpo, decision="disclose", serious_harm_checked=True)


@pytest.mark.django_db
def test_the_pack_leaves_out_what_is_withheld_or_redacted(dpo, hub):
    sar = log(dpo, [hub.child])
    services.compile_request(sar, by=dpo)
    police = sar.items.get(source=ItemSource.ITEM, source_id=hub.police.pk)
    intelligence = sar.items.get(source=ItemSource.ITEM, category__startswith="Police intelligence")
    with pytest.raises(ValidationFailed) as exc:
        services.decide_item(sar.items.get(sealed=True, source=ItemSource.ITEM), by=dpo, decision="disclose")
    assert "always withheld" in str(exc.value.errors["decision"])
    with pytest.raises(ValidationFailed) as exc:
        services.decide_item(police, by=dpo, decision="redact", exemption="third_party", reason="",
                             redactions=["Nobody Here"])
    assert set(exc.value.errors) >= {"reason", "redactions"}
    with pytest.raises(InvalidTransition):
        services.issue_pack(sar, by=dpo)  # items not reviewed
    _decide_all(sar, dpo, {
        police.pk: dict(decision="redact", exemption="third_party", reason="The mother's details",
                        redactions=police.proposed_redactions, serious_harm_checked=False),
        intelligence.pk: dict(decision="withhold", exemption="crime", reason="Would prejudice an investigation",
                              neither_confirm_nor_deny=True),
        sar.items.get(source=ItemSource.DECISION).pk: dict(
            decision="withhold", exemption="serious_harm", reason="Serious harm to the child",
            serious_harm_opinion="Team manager, children's social care: disclosure likely to cause serious harm"),
    })
    pack = services.issue_pack(sar, by=dpo)
    sar.refresh_from_db()
    assert sar.status == SarStatus.RESPONDED and sar.responded_on == TODAY()
    text = json.dumps(pack.content)
    pdf = PdfReader(io.BytesIO(render_pdf(pack.content)))
    pdf_text = " ".join(page.extract_text() for page in pdf.pages)
    for body in (text, pdf_text):
        for secret in (SEALED_TEXT, HELD_TEXT, WITHHELD_TEXT, MOTHER, "Child in need assessment",
                       "Operation Kestrel", "Clinical notes"):
            assert secret not in body, secret
        assert "Sealed item" not in body and "Confidential information held by" not in body
    assert "Officers called after [redacted] reported a row." in text
    # One withheld for serious harm is counted; the neither-confirm-nor-deny ones are not.
    assert pack.content["withheld"] == [{"exemption": "Serious harm: social work data (DPA 2018 Sch. 3 Part 3)",
                                         "items": 1}]
    sup = pack.content["supplementary"]
    assert sup["purposes"] and sup["retention"] and "ico.org.uk" in sup["complaint"] and sup["recipients"]
    assert "Information Commissioner" in pdf_text
    assert AuditEvent.objects.filter(kind=Kind.DISCLOSURE, action="sar.respond", object_ref=sar.reference).exists()
    with pytest.raises(InvalidTransition):
        services.compile_request(sar, by=dpo)


@pytest.mark.django_db
def test_social_work_data_needs_the_serious_harm_test(dpo, hub):
    sar = log(dpo, [hub.child])
    services.compile_request(sar, by=dpo)
    decision = sar.items.get(source=ItemSource.DECISION)
    assert decision.social_work
    with pytest.raises(ValidationFailed) as exc:
        services.decide_item(decision, by=dpo, decision="disclose")
    assert "serious_harm_checked" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services.decide_item(decision, by=dpo, decision="withhold", exemption="serious_harm", reason="Harm")
    assert "serious_harm_opinion" in exc.value.errors
    school = sar.items.get(source=ItemSource.ITEM, source_id=hub.school.pk)
    with pytest.raises(ValidationFailed) as exc:
        services.decide_item(school, by=dpo, decision="withhold", exemption="serious_harm", reason="Harm")
    assert "social work data only" in str(exc.value.errors["exemption"])
    services.decide_item(school, by=dpo, decision="disclose")  # education records: no serious-harm test


@pytest.mark.django_db
def test_the_pages(client, dpo, hub, manager):
    client.force_login(dpo)
    empty = client.post("/sar/new/", {})
    # Nobody found yet: choosing who it is about starts at the search box, where the summary leads.
    assert empty.status_code == 400
    assert '<a href="#q">Choose at least one person the request is about</a>' in empty.content.decode()
    found = client.get("/sar/new/?q=Rowan")
    assert found.status_code == 200 and b"Rowan Exampleton" in found.content
    response = client.post("/sar/new/", {
        "q": "Rowan", "person_ids": [str(hub.child.pk)], "requester_name": "A parent",
        "requester_relationship": "parent", "requester_contact": "1 Sample Street",
        "received_on_day": "31", "received_on_month": "1", "received_on_year": "2026", "identity": "awaiting"})
    assert response.status_code == 302
    reference = response["Location"].rstrip("/").rsplit("/", 1)[1]
    old = log(dpo, [hub.child], received_on=TODAY() - dt.timedelta(days=70))
    page = client.get("/sar/")
    text = page.content.decode()
    assert reference in text and "Clock stopped" in text
    assert old.reference in text and "Overdue by" in text
    assert client.get(f"/sar/{reference}/").status_code == 200
    assert client.post(f"/sar/{old.reference}/compile/").status_code == 302
    item = SarItem.objects.filter(sar=old, source=ItemSource.ITEM, source_id=hub.police.pk).get()
    review = client.get(f"/sar/{old.reference}/items/{item.pk}/")
    assert review.status_code == 200 and MOTHER.encode() in review.content
    refused = client.post(f"/sar/{old.reference}/items/{item.pk}/", {"decision": "redact", "exemption": "third_party"})
    assert refused.status_code == 400 and b"Confirm at least one piece of text to redact" in refused.content
    assert client.post(f"/sar/{old.reference}/pack/").status_code == 409
    assert client.get(f"/sar/{old.reference}/pack/").status_code == 200  # the preview
    assert client.get(f"/sar/{old.reference}/pack.pdf").status_code == 404  # not issued yet
    # Nobody else reaches any of it.
    client.force_login(manager)
    assert client.get("/sar/").status_code == 404
    assert client.get(f"/sar/{old.reference}/").status_code == 404


@pytest.mark.django_db
def test_the_api_journey(client, dpo, hub):
    client.force_login(dpo)

    def post(url, body=None):
        return client.post(url, json.dumps(body or {}), content_type="application/json")

    made = post("/api/v1/sars", {"requester_name": "Rowan's parent", "requester_relationship": "parent",
                                 "requester_contact": "1 Sample Street", "received_on": str(TODAY()),
                                 "person_ids": [hub.child.pk], "awaiting_identity": True})
    assert made.status_code == 201, made.content
    ref = made.json()["reference"]
    assert made.json()["clock"]["paused"] is True
    assert post(f"/api/v1/sars/{ref}/identity", {"method": "Passport"}).json()["clock"]["paused"] is False
    items = post(f"/api/v1/sars/{ref}/compilation").json()
    for item in items:
        if not item["sealed"]:
            response = post(f"/api/v1/sars/{ref}/items/{item['id']}/decision",
                            {"decision": "disclose", "serious_harm_checked": True})
            assert response.status_code == 200, response.content
    issued = post(f"/api/v1/sars/{ref}/pack")
    assert issued.status_code == 201
    assert client.get(f"/api/v1/sars/{ref}/pack").json() == issued.json()
    pdf = client.get(f"/api/v1/sars/{ref}/pack/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(kind=Kind.EXPORT, object_ref__contains=ref).count() == 2  # JSON, PDF
    assert post(f"/api/v1/sars/{ref}/extension", {"months": 1, "reason": "x"}).status_code == 409
