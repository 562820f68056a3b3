"""Disclosure packages: only relevant, permitted parts go on, on a lawful basis the ISA gives, with consent
of their own (or approved sharing without it); what is sent never changes, and it can be withdrawn or expire.

The case (the fixture `decided_case`, mash.testing.cases): Rowan Exampleton's enquiry, decided (section 17,
to the receiving professional "social-worker"), after Essex Police, Education and the GPs answered.
Every person here is synthetic.
"""

import datetime as dt
import json
from unittest import mock

import pytest
from django.db import DatabaseError, transaction

from mash.access import gate, rules
from mash.disclosure import selectors
from mash.accounts.models import Role
from mash.audit.models import AuditEvent, Kind
from mash.cases import services as cases
from mash.consent import services as consent
from mash.consent.services import ConsentRequired
from mash.core.errors import DomainError, IsaViolation, ValidationFailed
from mash.disclosure import services as disclosure
from mash.disclosure.models import DisclosurePackage
from mash.keys.fields import Sealed
from mash.oversight import reports
from mash.partners import services as isa
from mash.sharing import services as sharing
from mash.sharing.models import ContributionItem
from mash.testing.cases import ATTENDANCE, ATTENDANCE_WHY, INCIDENT, RATIONALE
from mash.testing.cases import CONSENT_GIVEN_BY as MOTHER
from mash.testing.cases import draft, onward_consent, selection, sent
from mash.testing.pages import pdf_text
from mash.testing.world import child_data, contact_data
from mash.training.models import TrainingRecord

JUSTIFICATION = "The child may be at risk of significant harm at home: the mother refuses any sharing."


def approved_override(decided_case):
    return consent.propose_override(decided_case.enquiry, by=decided_case.manager, justification=JUSTIFICATION,
                                    lawful_basis="children-act-1989-s47", purposes=["onward_disclosure"])


def api_body(decided_case, **overrides) -> dict:
    body = dict(recipient_type="social_worker", recipient=decided_case.recipient.username,
                lawful_basis="children-act-1989-s17",
                selection=selection(decided_case.items["school_attendance"]))
    body.update(overrides)
    return body


def post_json(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


# --- 1. The lawful basis --------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_package_needs_a_lawful_basis(client, decided_case):
    """No lawful basis: refused, 400 naming lawful_basis, by the service and the API."""
    with pytest.raises(ValidationFailed) as exc:
        draft(decided_case, lawful_basis="")
    assert "lawful_basis" in exc.value.errors and exc.value.status == 400
    client.force_login(decided_case.manager)
    response = post_json(client, f"/api/v1/enquiries/{decided_case.enquiry.reference}/packages",
                         api_body(decided_case, lawful_basis=""))
    assert response.status_code == 400
    assert "lawful_basis" in response.json()["errors"]
    assert not DisclosurePackage.objects.exists()


@pytest.mark.django_db
def test_a_package_needs_a_lawful_basis_the_isa_gives_for_the_recipient(client, decided_case):
    """A basis the ISA's onward-disclosure rule does not list for the recipient type is 422, naming the clause."""
    with pytest.raises(IsaViolation) as exc:
        draft(decided_case, lawful_basis="crime-and-disorder-act-1998-s115")
    assert exc.value.status == 422 and exc.value.field == "lawful_basis"
    assert "clause 7.1" in exc.value.message
    with pytest.raises(IsaViolation, match="clause 7.2"):  # early help: not the Children Act
        draft(decided_case, recipient_type="early_help", lawful_basis="children-act-1989-s17")
    client.force_login(decided_case.manager)
    response = post_json(client, f"/api/v1/enquiries/{decided_case.enquiry.reference}/packages",
                         api_body(decided_case, lawful_basis="crime-and-disorder-act-1998-s115"))
    assert response.status_code == 422
    assert "clause 7.1" in response.json()["detail"] and response.json()["field"] == "lawful_basis"
    assert not DisclosurePackage.objects.exists()


# --- 2. What may go on ----------------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("category", ["arrests", "gp_consultations"])
def test_sealed_items_never_go_on(client, decided_case, category):
    """A sealed item, or an item of confidential information held, is refused with 422: it is sealed."""
    item = decided_case.items[category]
    with pytest.raises(IsaViolation) as exc:
        draft(decided_case, selection=selection(item))
    assert exc.value.status == 422 and "sealed" in exc.value.message
    client.force_login(decided_case.manager)
    response = post_json(client, f"/api/v1/enquiries/{decided_case.enquiry.reference}/packages",
                         api_body(decided_case, selection=selection(decided_case.items["school_attendance"], item)))
    assert response.status_code == 422 and "sealed" in response.json()["detail"]
    assert not DisclosurePackage.objects.exists()


@pytest.mark.django_db
def test_every_item_of_confidential_information_held_is_sealed(decided_case):
    """An item of a "confidential information held" answer is refused even if its own level says normal."""
    item = decided_case.items["gp_consultations"]
    ContributionItem.objects.filter(pk=item.pk).update(confidentiality="normal")  # reached another way
    with pytest.raises(IsaViolation, match="sealed"):
        draft(decided_case, selection=selection(item))


@pytest.mark.django_db
def test_restricted_items_do_not_go_on(client, decided_case):
    """An item its agency restricted to the MASH managers is refused with 422: it is restricted."""
    with pytest.raises(IsaViolation) as exc:
        draft(decided_case, selection=selection(decided_case.items["domestic_abuse"]))
    assert exc.value.status == 422 and "restricted" in exc.value.message
    client.force_login(decided_case.manager)
    response = post_json(client, f"/api/v1/enquiries/{decided_case.enquiry.reference}/packages",
                         api_body(decided_case, selection=selection(decided_case.items["domestic_abuse"])))
    assert response.status_code == 422 and "restricted" in response.json()["detail"]


@pytest.mark.django_db
def test_police_intelligence_never_goes_to_a_social_worker(client, decided_case):
    """A category outside the rule's list (police intelligence, clause 7.1) is refused with 422."""
    with pytest.raises(IsaViolation) as exc:
        draft(decided_case, selection=selection(decided_case.items["police_incidents"],
                                                decided_case.items["intelligence"]))
    assert exc.value.status == 422
    assert "police intelligence" in exc.value.message.lower() and "clause 7.1" in exc.value.message
    client.force_login(decided_case.manager)
    response = post_json(client, f"/api/v1/enquiries/{decided_case.enquiry.reference}/packages",
                         api_body(decided_case, selection=selection(decided_case.items["intelligence"])))
    assert response.status_code == 422
    # The same incident may go: police incidents are in clause 7.1.
    assert draft(decided_case, selection=selection(decided_case.items["police_incidents"])).status == "draft"


@pytest.mark.django_db
def test_an_item_of_another_enquiry_is_refused(client, decided_case, education_worker):
    """An item that belongs to another enquiry is refused with 400 on selection.items."""
    manager = decided_case.manager
    other = cases.record_contact(by=manager, **contact_data(
        child=child_data(first_name="Sky", last_name="Otherton", nhs_number=""), related_people=[]))
    cases.rate(other, by=manager, rating="green", rationale="Low level need")
    [request] = sharing.request_information(other, by=manager, partners=["education"])
    sharing.contribute(request, by=education_worker, kind="share", lawful_basis="uk-gdpr-6-1-e",
                       decision_reason="Relevant", items=[dict(category="school_attendance",
                                                               content="Attendance 99%", relevance_note="Good")])
    foreign = ContributionItem.objects.get(contribution__enquiry=other)
    with pytest.raises(ValidationFailed) as exc:
        draft(decided_case, selection=selection(foreign))
    assert any("not part of this enquiry" in m for m in exc.value.errors["selection.items"])
    client.force_login(manager)
    response = post_json(client, f"/api/v1/enquiries/{decided_case.enquiry.reference}/packages",
                         api_body(decided_case, selection=selection(foreign)))
    assert response.status_code == 400 and "selection.items" in response.json()["errors"]


# --- 3. Consent to onward disclosure --------------------------------------------------------------------------

@pytest.mark.django_db
def test_onward_disclosure_needs_consent_of_its_own(client, decided_case):
    """The intake consent (the MASH enquiry) does not cover passing information on: sending is 422."""
    package = draft(decided_case)
    with pytest.raises(ConsentRequired) as exc:
        disclosure.send_package(package, by=decided_case.manager)
    assert exc.value.status == 422 and "consent" in exc.value.message.lower()
    client.force_login(decided_case.manager)
    response = client.post(f"/api/v1/packages/{package.pk}/sent", content_type="application/json")
    assert response.status_code == 422 and "consent" in response.json()["detail"].lower()
    assert response.json()["field"] == "consent"
    package.refresh_from_db()
    assert package.status == "draft" and package.content is None and package.sent_at is None


@pytest.mark.django_db
def test_sending_on_consent_records_what_it_relied_on(decided_case):
    """Sent on consent: the consent record, the ISA version and clauses, and expiry a year on are fixed."""
    record = onward_consent(decided_case)
    package = disclosure.send_package(draft(decided_case), by=decided_case.manager)
    version, agreement = isa.current()
    assert package.status == "sent" and package.sent_by == decided_case.manager
    assert package.consent_state == "given"
    assert (package.consent_record, package.consent_override) == (record, None)
    assert package.isa_version == version and package.isa_clause == "7.1"
    assert package.lawful_basis_clause == agreement.lawful_basis("children-act-1989-s17").clause != ""
    assert package.expires_at == package.sent_at + dt.timedelta(days=365)
    assert package.content["items"][0]["content"] == ATTENDANCE


@pytest.mark.django_db
def test_sending_on_approved_sharing_without_consent(decided_case):
    """Sent on a manager's approved sharing without consent: consent_state is without_consent."""
    consent.record_consent(decided_case.enquiry, by=decided_case.manager, status="refused", given_by=MOTHER,
                           purposes=["onward_disclosure"])
    override = approved_override(decided_case)
    package = disclosure.send_package(draft(decided_case), by=decided_case.manager)
    assert package.consent_state == "without_consent"
    assert (package.consent_record, package.consent_override) == (None, override)


@pytest.mark.django_db
def test_sharing_without_consent_awaiting_approval_does_not_send(decided_case, make_user):
    """A worker's proposal to share without consent does not let a package go until a manager approves it."""
    worker = make_user(Role.MASH_WORKER, "thurrock-council", username="council-worker")
    cases.assign(decided_case.enquiry, by=decided_case.manager, member=worker.username)
    proposed = consent.propose_override(decided_case.enquiry, by=worker, justification=JUSTIFICATION,
                                        lawful_basis="children-act-1989-s47", purposes=["onward_disclosure"])
    package = draft(decided_case)
    with pytest.raises(ConsentRequired, match="not yet approved"):
        disclosure.send_package(package, by=decided_case.manager)
    consent.decide_override(proposed, by=decided_case.manager, approve=True)
    assert disclosure.send_package(package, by=decided_case.manager).consent_override == proposed


@pytest.mark.django_db
def test_the_web_send_explains_missing_consent(client, decided_case):
    """Sending from the package page without consent answers 422 and says consent is needed; nothing is sent."""
    package = draft(decided_case)
    client.force_login(decided_case.manager)
    response = client.post(f"/packages/{package.pk}/send/")
    assert response.status_code == 422
    assert "Consent is needed for passing the relevant parts on" in response.content.decode()
    package.refresh_from_db()
    assert package.status == "draft"


@pytest.mark.django_db
def test_sending_is_a_disclosure_in_the_audit_log(decided_case):
    """Sending is recorded as a disclosure naming the child, the recipient and what it relied on."""
    package = sent(decided_case)
    event = AuditEvent.objects.get(kind=Kind.DISCLOSURE, action="enquiry.send_package")
    assert event.actor_id == decided_case.manager.pk and decided_case.enquiry.child_id in event.people
    assert f"package {package.pk} to {decided_case.recipient.username}" in event.detail
    assert "clause 7.1" in event.detail and "given" in event.detail


# --- 4. The preview is what the recipient sees ----------------------------------------------------------------

@pytest.mark.django_db
def test_the_preview_is_exactly_what_the_recipient_sees(client, decided_case):
    """The manager's preview of the draft equals what the recipient reads once sent; nothing unchosen is in it."""
    onward_consent(decided_case)
    attendance = decided_case.items["school_attendance"]
    package = draft(decided_case, selection=selection(attendance, decided_case.items["police_incidents"],
                                                      fields=("content",)))
    client.force_login(decided_case.manager)
    preview = client.get(f"/api/v1/packages/{package.pk}").json()
    assert preview["status"] == "draft"
    client.force_login(decided_case.recipient)
    assert client.get(f"/api/v1/packages/{package.pk}").status_code == 404  # nothing reaches them before it is sent
    disclosure.send_package(package, by=decided_case.manager)
    seen = client.get(f"/api/v1/packages/{package.pk}").json()
    assert seen["content"] == preview["content"]
    content = seen["content"]
    assert content["child"] == {"full_name": "Rowan Exampleton", "date_of_birth": "2016-05-04"}
    assert "rationale" not in content["decision"] and content["decision"]["outcome"] == "section_17"
    assert [set(i) for i in content["items"]] == [{"agency", "category", "category_label", "content"}] * 2
    text = json.dumps(seen)
    for unchosen in (ATTENDANCE_WHY, RATIONALE, "9434765919", "943 476 5919", "1 Sample Street", "2025-03-02"):
        assert unchosen not in text
    assert seen["selection"] is None and seen["withdrawal_reason"] is None  # the team's, not the recipient's
    # The web page renders the same content: the chosen information, nothing unchosen.
    page = client.get(f"/packages/{package.pk}/").content.decode()
    assert "Rowan Exampleton" in page and ATTENDANCE in page and INCIDENT in page
    assert ATTENDANCE_WHY not in page and RATIONALE not in page and "943 476 5919" not in page


@pytest.mark.django_db
def test_a_chosen_field_goes_on(decided_case):
    """What is chosen does go: the decision's reasons, the NHS number, why an item is relevant."""
    package = sent(decided_case, selection=selection(decided_case.items["school_attendance"], child=("nhs_number",),
                                            decision=("rationale",), fields=("content", "relevance_note")))
    assert package.content["decision"]["rationale"] == RATIONALE
    assert package.content["child"]["nhs_number"] == decided_case.enquiry.child.nhs_number != ""
    assert package.content["items"][0]["relevance_note"] == ATTENDANCE_WHY


# --- 5. What was sent never changes ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_sent_package_cannot_be_updated(client, decided_case):
    """The service and the API refuse to change a sent package, or to send it again."""
    package = sent(decided_case)
    client.force_login(decided_case.manager)
    response = client.put(f"/api/v1/packages/{package.pk}",
                          data=json.dumps(api_body(decided_case, cover_note="Changed")),
                          content_type="application/json")
    assert response.status_code == 409 and "cannot be changed" in response.json()["detail"]
    with pytest.raises(DomainError, match="cannot be changed"):
        disclosure.update_package(package, by=decided_case.manager, recipient_type="social_worker",
                                  recipient=decided_case.recipient.username, lawful_basis="children-act-1989-s17",
                                  selection=selection(decided_case.items["school_attendance"],
                                                      decided_case.items["exclusions"]))
    package.refresh_from_db()
    assert len(package.content["items"]) == 1
    with pytest.raises(DomainError, match="already sent"):
        disclosure.send_package(package, by=decided_case.manager)


@pytest.mark.django_db
@pytest.mark.parametrize("change", [
    # Encrypted columns: a forged ciphertext (the ORM refuses plaintext for them before the trigger does).
    {"content": Sealed("enc1:Zm9yZ2Vk")},
    {"cover_note": Sealed("enc1:Zm9yZ2Vk")},
    {"expires_at": dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc)},
    {"recipient_team": "Duty team", "recipient": None},
    {"consent_state": "given", "lawful_basis": "uk-gdpr-6-1-e"},
    {"status": "draft"},
])
def test_the_database_refuses_to_change_a_sent_package(decided_case, change):
    """Reaching the table another way: the database (a trigger) refuses any change to a sent package."""
    package = sent(decided_case)
    with pytest.raises(DatabaseError, match="cannot be changed"), transaction.atomic():
        DisclosurePackage.objects.filter(pk=package.pk).update(**change)
    fresh = DisclosurePackage.objects.get(pk=package.pk)
    assert (fresh.content, fresh.status, fresh.expires_at) == (package.content, "sent", package.expires_at)


@pytest.mark.django_db
def test_the_database_refuses_to_change_a_withdrawn_package(decided_case):
    """A withdrawn package does not change at all, not even its withdrawal or its status."""
    package = sent(decided_case)
    disclosure.withdraw_package(package, by=decided_case.manager, reason="Sent to the wrong team")
    for change in ({"withdrawal_reason": Sealed("enc1:Zm9yZ2Vk")}, {"status": "sent"},
                   {"content": Sealed("enc1:Zm9yZ2Vk")}):
        with pytest.raises(DatabaseError), transaction.atomic():
            DisclosurePackage.objects.filter(pk=package.pk).update(**change)
    fresh = DisclosurePackage.objects.get(pk=package.pk)
    assert (fresh.status, fresh.withdrawal_reason) == ("withdrawn", "Sent to the wrong team")


@pytest.mark.django_db
def test_the_database_keeps_sent_packages(decided_case):
    """Deleting a sent (or withdrawn) package is refused by the database; a draft may go."""
    package = sent(decided_case)
    with pytest.raises(DatabaseError), transaction.atomic():
        DisclosurePackage.objects.filter(pk=package.pk).delete()
    disclosure.withdraw_package(package, by=decided_case.manager, reason="Sent in error")
    with pytest.raises(DatabaseError), transaction.atomic():
        DisclosurePackage.objects.filter(pk=package.pk).delete()
    assert DisclosurePackage.objects.filter(pk=package.pk).exists()
    unsent = draft(decided_case)
    DisclosurePackage.objects.filter(pk=unsent.pk).delete()
    assert not DisclosurePackage.objects.filter(pk=unsent.pk).exists()


# --- 6. Withdrawal --------------------------------------------------------------------------------------------

def _recipient_urls(package) -> list[str]:
    pk = package.pk
    return [f"/packages/{pk}/", f"/packages/{pk}/pdf/", f"/api/v1/packages/{pk}", f"/api/v1/packages/{pk}/pdf"]


def _listed(client, package) -> bool:
    return any(p["id"] == package.pk for p in client.get("/api/v1/packages").json())


@pytest.mark.django_db
def test_a_withdrawn_package_leaves_its_recipient(client, decided_case):
    """Withdrawal needs a reason; afterwards the recipient gets 404 on the page, the API and the PDF."""
    package = sent(decided_case)
    client.force_login(decided_case.recipient)
    assert [client.get(u).status_code for u in _recipient_urls(package)] == [200] * 4
    with pytest.raises(ValidationFailed) as exc:
        disclosure.withdraw_package(package, by=decided_case.manager, reason="  ")
    assert "reason" in exc.value.errors
    withdrawn = disclosure.withdraw_package(package, by=decided_case.manager, reason="Sent before the strategy meeting")
    assert withdrawn.status == "withdrawn" and withdrawn.withdrawn_by == decided_case.manager and withdrawn.withdrawn_at
    assert [client.get(u).status_code for u in _recipient_urls(package)] == [404] * 4
    assert not _listed(client, package)
    with pytest.raises(DomainError, match="already withdrawn"):
        disclosure.withdraw_package(package, by=decided_case.manager, reason="Again")


@pytest.mark.django_db
def test_withdrawing_consent_withdraws_the_packages_sent_on_it(client, decided_case):
    """Consent withdrawn: every package sent on it is withdrawn, saying so, and its recipient loses it."""
    record = onward_consent(decided_case)
    package = disclosure.send_package(draft(decided_case), by=decided_case.manager)
    assert package.consent_record == record
    consent.withdraw_consent(record, by=decided_case.manager, reason="The mother withdrew consent to passing it on")
    package.refresh_from_db()
    assert package.status == "withdrawn" and "consent" in package.withdrawal_reason.lower()
    client.force_login(decided_case.recipient)
    assert [client.get(u).status_code for u in _recipient_urls(package)] == [404] * 4
    with pytest.raises(ConsentRequired, match="withdrawn"):  # and nothing more goes on it
        disclosure.send_package(draft(decided_case), by=decided_case.manager)


@pytest.mark.django_db
def test_withdrawing_consent_leaves_packages_sent_without_consent(client, decided_case):
    """A package that relied on approved sharing without consent is not withdrawn with consent."""
    override = approved_override(decided_case)
    on_override = disclosure.send_package(draft(decided_case), by=decided_case.manager)
    assert on_override.consent_override == override
    record = onward_consent(decided_case)
    on_consent = disclosure.send_package(draft(decided_case), by=decided_case.manager)
    assert on_consent.consent_record == record
    consent.withdraw_consent(record, by=decided_case.manager, reason="The mother withdrew consent")
    on_override.refresh_from_db()
    on_consent.refresh_from_db()
    assert (on_override.status, on_consent.status) == ("sent", "withdrawn")
    client.force_login(decided_case.recipient)
    assert client.get(f"/api/v1/packages/{on_override.pk}").status_code == 200
    assert client.get(f"/api/v1/packages/{on_consent.pk}").status_code == 404


# --- 7. Expiry ------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_expired_package_leaves_its_recipient(client, decided_case):
    """When the ISA's days have passed the recipient loses the package; a minute before, they still have it."""
    package = sent(decided_case)
    # The manager looks a year on; by then they have done their next training refresher.
    TrainingRecord.objects.create(user=decided_case.manager, course="Refresher", evidence_reference="NEXT-YEAR",
                                  completed_on=package.expires_at.date() - dt.timedelta(days=30))
    for moment, expected in ((package.expires_at - dt.timedelta(minutes=1), 200),
                             (package.expires_at + dt.timedelta(minutes=1), 404)):
        with mock.patch("django.utils.timezone.now", return_value=moment):
            client.force_login(decided_case.recipient)  # a session that is valid at that moment
            assert [client.get(u).status_code for u in _recipient_urls(package)] == [expected] * 4, moment
            assert _listed(client, package) is (expected == 200)
            client.force_login(decided_case.manager)
            assert client.get(f"/api/v1/packages/{package.pk}").json()["state_label"] == (
                "Sent" if expected == 200 else "Expired")


# --- 8. Team packages -----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_team_package_reaches_every_active_member_of_the_team_and_no_one_else(client, decided_case, make_user):
    """Addressed to a team: each active receiving professional of it (any case) sees it; other teams do not."""
    colleague = make_user(Role.RECEIVING_PROFESSIONAL, username="colleague", team="ASSESSMENT TEAM")
    duty = make_user(Role.RECEIVING_PROFESSIONAL, username="duty-worker", team="Duty team")
    teamless = make_user(Role.RECEIVING_PROFESSIONAL, username="no-team")
    gone = make_user(Role.RECEIVING_PROFESSIONAL, username="left-the-team", team="Assessment team")
    package = sent(decided_case, recipient="", recipient_team="assessment team")
    assert package.recipient_id is None and package.recipient_team.lower() == "assessment team"
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    for user, sees in ((decided_case.recipient, True), (colleague, True), (duty, False), (teamless, False)):
        client.force_login(user)
        response = client.get(f"/api/v1/packages/{package.pk}")
        assert response.status_code == (200 if sees else 404), user.username
        assert _listed(client, package) is sees, user.username
        if sees:
            assert response.json()["content"]["child"]["full_name"] == "Rowan Exampleton"
    assert not gate.decide(gone, rules.VIEW_PACKAGE, package)
    assert not selectors.packages(gone).exists()


@pytest.mark.django_db
def test_a_package_goes_to_one_professional_or_one_team(client, decided_case):
    """Addressing a professional and a team at once is refused with 400."""
    with pytest.raises(ValidationFailed) as exc:
        draft(decided_case, recipient=decided_case.recipient.username, recipient_team="Assessment team")
    assert "recipient" in exc.value.errors
    client.force_login(decided_case.manager)
    response = post_json(client, f"/api/v1/enquiries/{decided_case.enquiry.reference}/packages",
                         api_body(decided_case, recipient_team="Assessment team"))
    assert response.status_code == 400 and "recipient" in response.json()["errors"]
    with pytest.raises(ValidationFailed) as exc:
        draft(decided_case, recipient="", recipient_team="No such team")
    assert "recipient_team" in exc.value.errors
    assert not DisclosurePackage.objects.exists()


# --- 9. The PDF -----------------------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/packages/{pk}/pdf/", "/api/v1/packages/{pk}/pdf"])
def test_the_pdf_is_recorded_as_an_export_naming_the_child(client, decided_case, url):
    """The recipient's PDF is a PDF of the package, and the audit log records an export naming the child."""
    package = sent(decided_case)
    client.force_login(decided_case.recipient)
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = client.get(url.format(pk=package.pk))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert "Rowan Exampleton" in text and ATTENDANCE in text and ATTENDANCE_WHY not in text
    exports = AuditEvent.objects.filter(id__gt=last, kind=Kind.EXPORT, actor_id=decided_case.recipient.pk)
    assert exports.exists()
    assert all(decided_case.enquiry.child_id in e.people for e in exports)


# --- 10. The sharing report -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_sharing_report_counts_consent_and_packages(client, decided_case):
    """The report counts approved sharing without consent, packages sent with and without consent, and withdrawn."""
    approved_override(decided_case)
    disclosure.send_package(draft(decided_case), by=decided_case.manager)  # without consent
    record = onward_consent(decided_case)
    disclosure.send_package(draft(decided_case), by=decided_case.manager)  # on consent
    disclosure.send_package(draft(decided_case), by=decided_case.manager)  # on consent, withdrawn with it below
    consent.withdraw_consent(record, by=decided_case.manager, reason="The mother withdrew consent")
    draft(decided_case)  # a draft is not counted
    report = reports.sharing_report()
    assert report["without_consent"]["approved"] == 1 and report["without_consent"]["enquiries"] == 1
    assert report["without_consent"]["by_lawful_basis"] == [{"lawful_basis": "children-act-1989-s47", "count": 1}]
    expected = {"sent": 3, "with_consent": 2, "without_consent": 1, "withdrawn": 2, "live": 1, "expired": 0}
    assert {k: report["packages"][k] for k in expected} == expected
    assert report["requests"]["with_consent"] == 3  # police, education and the GPs, on the intake consent
    assert report["consent_records"]["given"] == 2 and report["consent_records"]["withdrawn"] == 1
    client.force_login(decided_case.manager)
    response = client.get("/api/v1/reports/sharing")
    assert response.status_code == 200
    body = response.json()
    assert {k: body["packages"][k] for k in expected} == expected
    assert body["without_consent"]["approved"] == 1
    assert "Exampleton" not in response.content.decode()  # counts only
    client.force_login(decided_case.recipient)
    assert client.get("/api/v1/reports/sharing").status_code == 404


# --- Consent given for one purpose, refused for another ------------------------------------------------------

@pytest.mark.django_db
def test_consent_to_onward_disclosure_leaves_the_intake_consent_in_force(decided_case):
    """Consent is per purpose: recording consent to onward disclosure does not end consent to the enquiry."""
    onward_consent(decided_case)
    basis = consent.basis_for(decided_case.enquiry, "mash_enquiry", ["nelft"])
    assert basis.consent is not None and "mash_enquiry" in basis.consent.purposes


@pytest.mark.django_db
def test_refusing_onward_disclosure_withdraws_packages_and_stops_new_ones(client, decided_case):
    """A later refusal of onward disclosure ends the consent given before it: sent packages are withdrawn."""
    package = sent(decided_case)
    client.force_login(decided_case.recipient)
    assert client.get(f"/packages/{package.pk}/").status_code == 200
    consent.record_consent(decided_case.enquiry, by=decided_case.manager, status="refused", given_by=MOTHER,
                           purposes=["onward_disclosure"])
    package.refresh_from_db()
    assert package.status == "withdrawn" and "Consent refused" in package.withdrawal_reason
    assert client.get(f"/packages/{package.pk}/").status_code == 404
    with pytest.raises(ConsentRequired, match="refused"):
        disclosure.send_package(draft(decided_case), by=decided_case.manager)
    # The refusal was of onward disclosure only: the intake consent to the MASH enquiry stands.
    assert consent.basis_for(decided_case.enquiry, "mash_enquiry", ["nelft"]).consent is not None


@pytest.mark.django_db
def test_a_refusal_without_purposes_refuses_everything(decided_case):
    """A refusal that names no purpose ends every consent given before it."""
    consent.record_consent(decided_case.enquiry, by=decided_case.manager, status="refused", given_by=MOTHER)
    with pytest.raises(ConsentRequired):
        consent.basis_for(decided_case.enquiry, "mash_enquiry", ["nelft"])
    onward_consent(decided_case)  # consent given again, later, for onward disclosure
    assert consent.basis_for(decided_case.enquiry, "onward_disclosure").consent is not None
