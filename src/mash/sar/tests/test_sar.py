"""Subject access requests: logging and the clock's steps, compiling everything held about a generated
person, the reviewer's exemptions, and a pack from which withheld and redacted content is absent."""

import datetime as dt
import io
import json

import pytest
from django.utils import timezone
from pypdf import PdfReader

from mash.audit.models import AuditEvent, Kind
from mash.core.errors import InvalidTransition, ValidationFailed
from mash.sar import services
from mash.sar.models import ItemDecision, ItemSource, SarItem, SarStatus
from mash.sar.pack import build_content, render_pdf
from mash.testing.cases import HELD_TEXT, MOTHER, SEALED_TEXT, WITHHELD_TEXT, decide_all, log_sar

TODAY = timezone.localdate


@pytest.mark.django_db
def test_logging_checks_every_field(dpo):
    with pytest.raises(ValidationFailed) as exc:
        services.log_request(by=dpo, requester_name="", requester_relationship="cousin", requester_contact="",
                             received_on=TODAY() + dt.timedelta(days=1), person_ids=[], identity_verified=True)
    assert set(exc.value.errors) == {"requester_name", "requester_relationship", "requester_contact",
                                     "received_on", "person_ids", "identity_method"}


@pytest.mark.django_db
def test_the_clock_steps(dpo, full_case):
    received = TODAY() - dt.timedelta(days=20)
    sar = log_sar(dpo, [full_case.child], received_on=received, identity_verified=False, awaiting_identity=True)
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
def test_the_compile_holds_everything_about_the_child(dpo, full_case):
    sar = log_sar(dpo, [full_case.child])
    services.compile_request(sar, by=dpo)
    got = _sources(sar, full_case.child)
    enquiry = full_case.enquiry
    expected = {(ItemSource.PERSON, full_case.child.pk), (ItemSource.CONTACT, enquiry.contact.pk),
                (ItemSource.PACKAGE, full_case.package.pk), (ItemSource.OVERRIDE, full_case.override.pk),
                (ItemSource.RECIPIENTS, full_case.child.pk)}
    expected |= {(ItemSource.RELATIONSHIP, r.pk) for r in full_case.child.relationships.all()}
    expected |= {(ItemSource.RATING, r.pk) for r in enquiry.ratings.all()}
    expected |= {(ItemSource.DECISION, d.pk) for d in enquiry.decisions.all()}
    expected |= {(ItemSource.CONSENT, c.pk) for c in full_case.child.consent_records.all()}
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
    assert "Essex Police" in recipients and full_case.package.addressed_to in recipients
    # The mother is a third party in the child's records: proposed for redaction where named.
    police = sar.items.get(source=ItemSource.ITEM, source_id=full_case.police.pk)
    assert MOTHER in police.proposed_redactions and "Morgan" in police.proposed_redactions
    assert "Exampleton" not in police.proposed_redactions  # the child's own surname
    compiled = AuditEvent.objects.get(kind=Kind.READ, action="sar.compile", object_ref=sar.reference)
    assert compiled.people == [full_case.child.pk]


@pytest.mark.django_db
def test_a_parent_s_own_request_finds_the_enquiries_that_record_them(dpo, full_case):
    sar = log_sar(dpo, [full_case.mother], requester_name=MOTHER, requester_relationship="self")
    services.compile_request(sar, by=dpo)
    got = _sources(sar, full_case.mother)
    assert (ItemSource.PERSON, full_case.mother.pk) in got
    assert (ItemSource.CONTACT, full_case.enquiry.contact.pk) in got
    assert {(ItemSource.RELATIONSHIP, r.pk) for r in full_case.mother.related_to.all()} <= got
    # Now the child is the third party, and the contact's reporter too.
    relationship = sar.items.get(source=ItemSource.RELATIONSHIP)
    assert "Rowan Exampleton" in relationship.proposed_redactions
    assert "Pat Reporter" in sar.items.get(source=ItemSource.CONTACT).proposed_redactions


@pytest.mark.django_db
def test_the_pack_leaves_out_what_is_withheld_or_redacted(dpo, full_case):
    sar = log_sar(dpo, [full_case.child])
    services.compile_request(sar, by=dpo)
    police = sar.items.get(source=ItemSource.ITEM, source_id=full_case.police.pk)
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
    decide_all(sar, dpo, {
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
def test_social_work_data_needs_the_serious_harm_test(dpo, full_case):
    sar = log_sar(dpo, [full_case.child])
    services.compile_request(sar, by=dpo)
    decision = sar.items.get(source=ItemSource.DECISION)
    assert decision.social_work
    with pytest.raises(ValidationFailed) as exc:
        services.decide_item(decision, by=dpo, decision="disclose")
    assert "serious_harm_checked" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services.decide_item(decision, by=dpo, decision="withhold", exemption="serious_harm", reason="Harm")
    assert "serious_harm_opinion" in exc.value.errors
    school = sar.items.get(source=ItemSource.ITEM, source_id=full_case.school.pk)
    with pytest.raises(ValidationFailed) as exc:
        services.decide_item(school, by=dpo, decision="withhold", exemption="serious_harm", reason="Harm")
    assert "social work data only" in str(exc.value.errors["exemption"])
    services.decide_item(school, by=dpo, decision="disclose")  # education records: no serious-harm test


@pytest.mark.django_db
def test_the_pages(client, dpo, full_case, manager):
    client.force_login(dpo)
    empty = client.post("/sar/new/", {})
    # Nobody found yet: choosing who it is about starts at the search box, where the summary leads.
    assert empty.status_code == 400
    assert '<a href="#q">Choose at least one person the request is about</a>' in empty.content.decode()
    found = client.get("/sar/new/?q=Rowan")
    assert found.status_code == 200 and b"Rowan Exampleton" in found.content
    response = client.post("/sar/new/", {
        "q": "Rowan", "person_ids": [str(full_case.child.pk)], "requester_name": "A parent",
        "requester_relationship": "parent", "requester_contact": "1 Sample Street",
        "received_on_day": "31", "received_on_month": "1", "received_on_year": "2026", "identity": "awaiting"})
    assert response.status_code == 302
    reference = response["Location"].rstrip("/").rsplit("/", 1)[1]
    old = log_sar(dpo, [full_case.child], received_on=TODAY() - dt.timedelta(days=70))
    page = client.get("/sar/")
    text = page.content.decode()
    assert reference in text and "Clock stopped" in text
    assert old.reference in text and "Overdue by" in text
    assert client.get(f"/sar/{reference}/").status_code == 200
    assert client.post(f"/sar/{old.reference}/compile/").status_code == 302
    item = SarItem.objects.filter(sar=old, source=ItemSource.ITEM, source_id=full_case.police.pk).get()
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
def test_the_api_journey(client, dpo, full_case):
    client.force_login(dpo)

    def post(url, body=None):
        return client.post(url, json.dumps(body or {}), content_type="application/json")

    made = post("/api/v1/sars", {"requester_name": "Rowan's parent", "requester_relationship": "parent",
                                 "requester_contact": "1 Sample Street", "received_on": str(TODAY()),
                                 "person_ids": [full_case.child.pk], "awaiting_identity": True})
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
