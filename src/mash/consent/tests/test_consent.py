"""Consent and sharing without consent: what the contact says, what a record must hold, and the gate
every share outside the council passes (`basis_for`), on the services, the API and the web page.

Every person here is synthetic.
"""

import pytest

from mash.cases import services as cases
from mash.consent import services as consent
from mash.consent.models import ConsentOverride, ConsentRecord
from mash.consent.services import ConsentRequired
from mash.core.errors import DomainError, PermissionDenied, ValidationFailed
from mash.partners import services as isa
from mash.sharing import services as sharing
from mash.testing.world import child_data, contact_data

JUSTIFICATION = "Bruising seen twice in a week and the child is afraid to go home: risk of significant harm."


def _rated(manager, **contact):
    """A rated enquiry about Rowan Exampleton, its contact as given."""
    enquiry = cases.record_contact(by=manager, **contact_data(**contact))
    cases.rate(enquiry, by=manager, rating="amber", rationale="Injuries seen by school staff")
    return enquiry


@pytest.fixture
def assigned_worker(council_worker):
    return council_worker


# --- What the contact said ------------------------------------------------------------------------

@pytest.mark.django_db
def test_consent_given_at_intake_covers_the_mash_enquiry_with_every_partner(new_enquiry):
    """Consent given at intake becomes a given record for the child: the MASH enquiry, every partner agency."""
    record = new_enquiry.consent_records.get()
    _, agreement = isa.current()
    assert record.person_id == new_enquiry.child_id
    assert record.status == "given" and not record.is_withdrawn
    assert record.purposes == ["mash_enquiry"]
    assert sorted(record.agencies) == sorted(p.id for p in agreement.doc.partners)
    assert "essex-police" in record.agencies and "education" in record.agencies


@pytest.mark.django_db
def test_consent_refused_at_intake_is_a_refused_record(manager):
    """Consent refused at intake becomes a refused record for the child, covering nothing."""
    enquiry = cases.record_contact(by=manager, **contact_data(consent_at_intake="refused"))
    record = enquiry.consent_records.get()
    assert (record.person_id, record.status, record.purposes, record.agencies) == (
        enquiry.child_id, "refused", [], [])


@pytest.mark.django_db
@pytest.mark.parametrize("intake", ["not_sought", "unknown"])
def test_consent_not_sought_at_intake_records_nothing(manager, intake):
    """Consent not sought (or not known) at intake creates no consent record."""
    enquiry = cases.record_contact(by=manager, **contact_data(consent_at_intake=intake))
    assert not ConsentRecord.objects.filter(enquiry=enquiry).exists()


# --- What a record must hold ------------------------------------------------------------------------

@pytest.mark.django_db
def test_consent_not_sought_needs_its_reason(new_enquiry, manager):
    """Consent recorded as not sought must say why: the error names not_sought_reason."""
    with pytest.raises(ValidationFailed) as exc:
        consent.record_consent(new_enquiry, by=manager, status="not_sought")
    assert "not_sought_reason" in exc.value.errors
    record = consent.record_consent(new_enquiry, by=manager, status="not_sought",
                                    not_sought_reason="prejudice_investigation")
    assert record.state_label == "Not sought: seeking consent would prejudice an investigation"


@pytest.mark.django_db
def test_consent_given_needs_who_gave_it_and_what_it_covers(new_enquiry, manager):
    """Given consent without who gave it or what it covers is refused, naming both fields."""
    with pytest.raises(ValidationFailed) as exc:
        consent.record_consent(new_enquiry, by=manager, status="given")
    assert {"given_by", "purposes"} <= set(exc.value.errors)
    with pytest.raises(ValidationFailed) as exc:
        consent.record_consent(new_enquiry, by=manager, status="given", given_by="The child's mother",
                               purposes=["mash_enquiry"])
    assert "agencies" in exc.value.errors  # consent to the MASH enquiry names its agencies


@pytest.mark.django_db
def test_consent_of_a_person_not_on_the_case_is_refused(new_enquiry, manager):
    """Only the child or someone recorded around the child can have consent recorded on the enquiry."""
    other = cases.record_contact(by=manager, **contact_data(
        child=child_data(first_name="Sky", last_name="Otherton", nhs_number=""), related_people=[]))
    with pytest.raises(ValidationFailed) as exc:
        consent.record_consent(new_enquiry, by=manager, person_id=other.child_id, status="refused",
                               given_by="Sky Otherton")
    assert "person_id" in exc.value.errors
    mother = new_enquiry.child.relationships.get().person
    record = consent.record_consent(new_enquiry, by=manager, person_id=mother.pk, status="refused",
                                    given_by="Morgan Exampleton, by telephone")
    assert record.person_id == mother.pk


@pytest.mark.django_db
def test_consent_to_agencies_outside_the_isa_is_refused(new_enquiry, manager):
    """Consent can only cover agencies that are partners to the current ISA."""
    with pytest.raises(ValidationFailed) as exc:
        consent.record_consent(new_enquiry, by=manager, status="given", given_by="The child's mother",
                               purposes=["mash_enquiry"], agencies=["essex-police", "no-such-agency"])
    assert any("no-such-agency" in m for m in exc.value.errors["agencies"])


# --- The gate on requests to agencies ----------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("intake, why", [("refused", "refused"), ("not_sought", "no consent is recorded")])
def test_request_needs_consent(manager, intake, why):
    """Asking agencies is refused (422, naming consent) when the child's consent is refused or not recorded."""
    enquiry = _rated(manager, consent_at_intake=intake)
    with pytest.raises(ConsentRequired) as exc:
        sharing.request_information(enquiry, by=manager, partners=["essex-police"])
    assert exc.value.status == 422
    assert "consent" in exc.value.message.lower() and why in exc.value.message
    assert not enquiry.information_requests.exists()


@pytest.mark.django_db
def test_a_managers_sharing_without_consent_is_approved_at_once(manager):
    """A manager's record of sharing without consent is approved as made, and lets the request go ahead."""
    enquiry = _rated(manager, consent_at_intake="refused")
    override = consent.propose_override(enquiry, by=manager, justification=JUSTIFICATION,
                                        lawful_basis="children-act-1989-s47", purposes=["mash_enquiry"])
    assert override.status == "approved" and override.decided_by == manager and override.decided_at
    assert override.isa_clause == "4.2" and override.lawful_basis_clause
    [made] = sharing.request_information(enquiry, by=manager, partners=["essex-police"])
    assert made.consent_override == override and made.consent_record is None


@pytest.mark.django_db
def test_a_workers_proposal_allows_nothing_until_a_manager_approves_it(manager, assigned_worker):
    """An assigned worker's proposal waits ("proposed") and allows no sharing until a manager approves it."""
    enquiry = _rated(manager, consent_at_intake="refused")
    cases.assign(enquiry, by=manager, member=assigned_worker.username)
    proposed = consent.propose_override(enquiry, by=assigned_worker, justification=JUSTIFICATION,
                                        lawful_basis="children-act-1989-s17", purposes=["mash_enquiry"])
    assert proposed.status == "proposed" and proposed.decided_by is None
    with pytest.raises(ConsentRequired) as exc:
        sharing.request_information(enquiry, by=manager, partners=["essex-police"])
    assert "not yet approved" in exc.value.message
    with pytest.raises(PermissionDenied):
        consent.decide_override(proposed, by=assigned_worker, approve=True)  # only a manager approves
    approved = consent.decide_override(proposed, by=manager, approve=True)
    assert approved.status == "approved" and approved.decided_by == manager
    [made] = sharing.request_information(enquiry, by=manager, partners=["essex-police"])
    assert made.consent_override == approved


@pytest.mark.django_db
def test_rejected_sharing_without_consent_never_allows_sharing(manager, assigned_worker):
    """Rejecting needs a note; a rejected proposal allows nothing and cannot be decided again."""
    enquiry = _rated(manager, consent_at_intake="refused")
    cases.assign(enquiry, by=manager, member=assigned_worker.username)
    proposed = consent.propose_override(enquiry, by=assigned_worker, justification=JUSTIFICATION,
                                        lawful_basis="children-act-1989-s17", purposes=["mash_enquiry"])
    with pytest.raises(ValidationFailed) as exc:
        consent.decide_override(proposed, by=manager, approve=False, note="  ")
    assert "note" in exc.value.errors
    rejected = consent.decide_override(proposed, by=manager, approve=False,
                                       note="The concern does not reach the threshold of significant harm")
    assert rejected.status == "rejected"
    with pytest.raises(ConsentRequired):
        sharing.request_information(enquiry, by=manager, partners=["essex-police"])
    with pytest.raises(DomainError, match="already rejected"):
        consent.decide_override(rejected, by=manager, approve=True)
    with pytest.raises(ConsentRequired):
        sharing.request_information(enquiry, by=manager, partners=["essex-police"])


@pytest.mark.django_db
def test_sharing_without_consent_needs_a_lawful_basis_the_isa_allows_for_it(manager):
    """A lawful basis outside the ISA's without-consent list is refused, naming the ones allowed."""
    enquiry = _rated(manager, consent_at_intake="refused")
    _, agreement = isa.current()
    allowed = agreement.consent.without_consent.lawful_bases
    assert "uk-gdpr-6-1-e" not in allowed  # a basis of the ISA, but not for sharing without consent
    with pytest.raises(ValidationFailed) as exc:
        consent.propose_override(enquiry, by=manager, justification=JUSTIFICATION, lawful_basis="uk-gdpr-6-1-e",
                                 purposes=["mash_enquiry"])
    [message] = exc.value.errors["lawful_basis"]
    assert "4.2" in message and all(b in message for b in allowed)
    with pytest.raises(ValidationFailed) as exc:
        consent.propose_override(enquiry, by=manager, justification="", lawful_basis="children-act-1989-s47",
                                 purposes=[])
    assert {"justification", "purposes"} <= set(exc.value.errors)
    assert not ConsentOverride.objects.filter(enquiry=enquiry).exists()


# --- Withdrawal ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_withdrawn_consent_is_honoured(rated_enquiry, manager):
    """After the intake consent is withdrawn, asking another agency is refused and says it was withdrawn."""
    record = rated_enquiry.consent_records.get()
    [police] = sharing.request_information(rated_enquiry, by=manager, partners=["essex-police"])
    assert police.consent_record == record and police.consent_override is None
    with pytest.raises(ValidationFailed) as exc:
        consent.withdraw_consent(record, by=manager, reason=" ")
    assert "reason" in exc.value.errors
    withdrawn = consent.withdraw_consent(record, by=manager, reason="The child's mother rang to withdraw consent")
    assert withdrawn.state == "withdrawn" and withdrawn.withdrawn_by == manager and withdrawn.withdrawn_at
    with pytest.raises(ConsentRequired) as exc:
        sharing.request_information(rated_enquiry, by=manager, partners=["education"])
    assert "withdrawn" in exc.value.message
    with pytest.raises(DomainError, match="already withdrawn"):
        consent.withdraw_consent(withdrawn, by=manager, reason="Again")


@pytest.mark.django_db
def test_only_consent_that_was_given_can_be_withdrawn(manager):
    """Refused consent has nothing to withdraw."""
    enquiry = _rated(manager, consent_at_intake="refused")
    with pytest.raises(DomainError, match="Only consent that was given"):
        consent.withdraw_consent(enquiry.consent_records.get(), by=manager, reason="Changed their mind")


@pytest.mark.django_db
def test_a_request_records_the_override_after_consent_is_withdrawn(rated_enquiry, manager):
    """Each request records what it relied on: the consent record, or else the approved override."""
    record = rated_enquiry.consent_records.get()
    [police] = sharing.request_information(rated_enquiry, by=manager, partners=["essex-police"])
    consent.withdraw_consent(record, by=manager, reason="The child's mother withdrew consent")
    override = consent.propose_override(rated_enquiry, by=manager, justification=JUSTIFICATION,
                                        lawful_basis="children-act-1989-s47", purposes=["mash_enquiry"])
    [education] = sharing.request_information(rated_enquiry, by=manager, partners=["education"])
    police.refresh_from_db()
    assert (police.consent_record, police.consent_override) == (record, None)
    assert (education.consent_record, education.consent_override) == (None, override)


@pytest.mark.django_db
def test_an_asked_agency_sees_the_basis_but_never_the_justification(client, manager, police_worker):
    """The agency asked without consent is told the lawful basis it relied on, never the justification's text."""
    enquiry = _rated(manager, consent_at_intake="refused")
    consent.propose_override(enquiry, by=manager, justification=JUSTIFICATION,
                             lawful_basis="children-act-1989-s47", purposes=["mash_enquiry"])
    [request] = sharing.request_information(enquiry, by=manager, partners=["essex-police"])
    client.force_login(police_worker)
    response = client.get(f"/api/v1/information-requests/{request.pk}")
    assert response.status_code == 200
    assert "children-act-1989-s47" in response.json()["consent_basis"]
    for url in (f"/api/v1/information-requests/{request.pk}", f"/api/v1/enquiries/{enquiry.reference}",
                f"/requests/{request.pk}/", f"/enquiries/{enquiry.reference}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Bruising seen twice" not in response.content.decode(), url
    client.force_login(manager)  # the team reads it
    assert JUSTIFICATION in client.get(f"/enquiries/{enquiry.reference}/consent/").content.decode()


# --- The API ----------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_api_shows_the_consent_position_to_the_manager(client, rated_enquiry, manager):
    """GET /api/v1/enquiries/{ref}/consent shows the manager the records and the sharing without consent."""
    consent.propose_override(rated_enquiry, by=manager, justification=JUSTIFICATION,
                             lawful_basis="children-act-1989-s47", purposes=["onward_disclosure"])
    client.force_login(manager)
    response = client.get(f"/api/v1/enquiries/{rated_enquiry.reference}/consent")
    assert response.status_code == 200
    body = response.json()
    assert body["child_state"] == "given" and body["shared_without_consent"] is True
    [record] = body["records"]
    assert record["person_name"] == "Rowan Exampleton" and record["purposes"] == ["mash_enquiry"]
    [override] = body["sharing_without_consent"]
    assert override["status"] == "approved" and override["lawful_basis"] == "children-act-1989-s47"
    assert override["justification"] == JUSTIFICATION


@pytest.mark.django_db
def test_api_records_consent_and_explains_what_is_missing(client, rated_enquiry, manager):
    """POST /api/v1/enquiries/{ref}/consent: not sought without a reason is 400 naming not_sought_reason."""
    client.force_login(manager)
    url = f"/api/v1/enquiries/{rated_enquiry.reference}/consent"
    response = client.post(url, {"status": "not_sought"}, content_type="application/json")
    assert response.status_code == 400
    assert "not_sought_reason" in response.json()["errors"]
    response = client.post(url, {"status": "given", "given_by": "The child's mother",
                                 "purposes": ["onward_disclosure"]}, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["purposes"] == ["onward_disclosure"]
    assert consent.current_record(rated_enquiry).purposes == ["onward_disclosure"]


@pytest.mark.django_db
def test_api_sharing_without_consent_and_withdrawal(client, rated_enquiry, manager, assigned_worker):
    """Through the API: a worker proposes, a manager rejects only with a note, consent is withdrawn once;
    ids of another enquiry are 404."""
    other = cases.record_contact(by=manager, **contact_data(
        child=child_data(first_name="Sky", last_name="Otherton", nhs_number=""), related_people=[]))
    ref = rated_enquiry.reference
    cases.assign(rated_enquiry, by=manager, member=assigned_worker.username)
    client.force_login(assigned_worker)
    response = client.post(f"/api/v1/enquiries/{ref}/sharing-without-consent",
                           {"justification": JUSTIFICATION, "lawful_basis": "uk-gdpr-6-1-e",
                            "purposes": ["onward_disclosure"]}, content_type="application/json")
    assert response.status_code == 400 and "lawful_basis" in response.json()["errors"]
    response = client.post(f"/api/v1/enquiries/{ref}/sharing-without-consent",
                           {"justification": JUSTIFICATION, "lawful_basis": "children-act-1989-s17",
                            "purposes": ["onward_disclosure"]}, content_type="application/json")
    assert response.status_code == 201 and response.json()["status"] == "proposed"
    override_id = response.json()["id"]
    decision = f"/api/v1/enquiries/{ref}/sharing-without-consent/{override_id}/decision"
    assert client.post(decision, {"approve": True}, content_type="application/json").status_code == 403
    client.force_login(manager)
    response = client.post(decision, {"approve": False}, content_type="application/json")
    assert response.status_code == 400 and "note" in response.json()["errors"]
    assert client.post(f"/api/v1/enquiries/{other.reference}/sharing-without-consent/{override_id}/decision",
                       {"approve": True}, content_type="application/json").status_code == 404
    response = client.post(decision, {"approve": False, "note": "Below the threshold"},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    record = rated_enquiry.consent_records.get()
    assert client.post(f"/api/v1/enquiries/{other.reference}/consent/{record.pk}/withdrawal",
                       {"reason": "Withdrawn"}, content_type="application/json").status_code == 404
    withdrawal = f"/api/v1/enquiries/{ref}/consent/{record.pk}/withdrawal"
    response = client.post(withdrawal, {"reason": "The mother withdrew consent"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["state"] == "withdrawn"
    assert client.post(withdrawal, {"reason": "Again"}, content_type="application/json").status_code == 409
    assert client.get(f"/api/v1/enquiries/{ref}/consent").json()["child_state"] == "withdrawn"


@pytest.mark.django_db
def test_api_request_without_consent_is_422(client, manager):
    """Asking agencies through the API without consent answers 422: detail about consent, field "consent"."""
    enquiry = _rated(manager, consent_at_intake="refused")
    client.force_login(manager)
    response = client.post(f"/api/v1/enquiries/{enquiry.reference}/information-requests",
                           {"partners": ["essex-police"]}, content_type="application/json")
    assert response.status_code == 422
    assert "consent" in response.json()["detail"].lower() and response.json()["field"] == "consent"


@pytest.mark.django_db
def test_api_consent_is_the_mash_teams_not_an_asked_agencys(client, asked_enquiry, police_worker):
    """An asked agency's worker may see the enquiry but not its consent: 403."""
    client.force_login(police_worker)
    assert client.get(f"/api/v1/enquiries/{asked_enquiry.reference}").status_code == 200
    assert client.get(f"/api/v1/enquiries/{asked_enquiry.reference}/consent").status_code == 403


# --- The web page ------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_consent_page_renders_for_the_manager(client, rated_enquiry, manager):
    """The consent page shows the manager the child and the form to record consent."""
    client.force_login(manager)
    response = client.get(f"/enquiries/{rated_enquiry.reference}/consent/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Rowan Exampleton" in page and "Record consent" in page


@pytest.mark.django_db
def test_consent_page_shows_what_is_wrong_with_the_form(client, rated_enquiry, manager):
    """A refused consent form is shown again with 400 and the service's message; nothing is recorded."""
    client.force_login(manager)
    response = client.post(f"/enquiries/{rated_enquiry.reference}/consent/record/",
                           {"consent-person_id": str(rated_enquiry.child_id), "consent-status": "not_sought"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose why consent was not sought" in page
    assert rated_enquiry.consent_records.count() == 1
    response = client.post(f"/enquiries/{rated_enquiry.reference}/consent/record/",
                           {"consent-person_id": str(rated_enquiry.child_id), "consent-status": "not_sought",
                            "consent-not_sought_reason": "risk_to_child"})
    assert response.status_code == 302
    assert consent.current_record(rated_enquiry).not_sought_reason == "risk_to_child"


@pytest.mark.django_db
def test_consent_page_refuses_a_rejection_without_a_note(client, rated_enquiry, manager, assigned_worker):
    """Rejecting sharing without consent on the page without a note is shown again with 400 and the reason."""
    cases.assign(rated_enquiry, by=manager, member=assigned_worker.username)
    proposed = consent.propose_override(rated_enquiry, by=assigned_worker, justification=JUSTIFICATION,
                                        lawful_basis="children-act-1989-s17", purposes=["onward_disclosure"])
    client.force_login(manager)
    url = f"/enquiries/{rated_enquiry.reference}/consent/without/{proposed.pk}/"
    response = client.post(url, {f"decide-{proposed.pk}-decision": "reject"})
    assert response.status_code == 400 and "Give the reason for rejecting it" in response.content.decode()
    proposed.refresh_from_db()
    assert proposed.status == "proposed"
    response = client.post(url, {f"decide-{proposed.pk}-decision": "approve"})
    assert response.status_code == 302
    proposed.refresh_from_db()
    assert proposed.status == "approved" and proposed.decided_by == manager
