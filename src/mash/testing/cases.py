"""The named cases the conftest fixtures build, each on the asked enquiry (Rowan Exampleton, rated amber,
Essex Police and Education asked), and the steps tests take on them.

- `decided_case`: decided (section 17, to the receiving professional) after Essex Police, Education and
  the GPs shared normal, restricted, sealed and confidential items; for packages, encryption, retention.
- `full_case`: every kind of record about Rowan and her mother, Morgan: normal, restricted,
  sealed and withheld items, a decline, confidential information held, sharing without consent, a
  decision and a package sent; for subject access requests.
- `case_with_files`: police items at three levels and Education's confidential information held, each
  with a PDF attached; a council worker assigned; for attachments.

Every person here is synthetic.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from django.utils import timezone

# --- decided_case ------------------------------------------------------------------------------------------

CONSENT_GIVEN_BY = "Morgan Exampleton, the child's mother, by telephone"
RATIONALE = "Repeated unexplained bruising and the child's fear of going home meet the threshold for section 17."
ATTENDANCE = "Attendance 81% this term, down from 97% last year."
ATTENDANCE_WHY = "Attendance began to fall when the new adult moved into the household."
INCIDENT = "Officers attended a loud argument at the address on 2 March 2025; no arrests."


def items_of(enquiry) -> dict:
    """The enquiry's contribution items, by category."""
    from mash.sharing.models import ContributionItem

    return {i.category: i for i in ContributionItem.objects.filter(contribution__enquiry=enquiry)}


def decided_case(world, enquiry) -> SimpleNamespace:
    """A decided enquiry whose agencies shared normal, restricted, sealed and confidential items."""
    from mash.cases import services as cases
    from mash.sharing import services as sharing

    manager, recipient = world.user("manager"), world.user("receiving_professional")
    gp_worker = world.user("gp_worker")
    sharing.request_information(enquiry, by=manager, partners=["nhs-england-gps"])
    request = {r.partner.slug: r for r in enquiry.information_requests.select_related("partner")}
    sharing.contribute(request["essex-police"], by=world.user("police_worker"), kind="share",
                       lawful_basis="crime-and-disorder-act-1998-s115", decision_reason="Relevant to the concern",
                       items=[
                           dict(category="police_incidents", content=INCIDENT, occurred_on="2025-03-02",
                                relevance_note="Conflict between the adults at home"),
                           dict(category="intelligence", content="Unverified report of a visiting adult with a knife.",
                                relevance_note="Possible risk from a visitor"),
                           dict(category="domestic_abuse", content="DASH risk assessment graded medium in 2024.",
                                relevance_note="Earlier domestic abuse", confidentiality="restricted"),
                           dict(category="arrests", content="An adult of the household is under investigation.",
                                relevance_note="Open investigation", confidentiality="sealed"),
                       ])
    sharing.contribute(request["education"], by=world.user("education_worker"), kind="share",
                       lawful_basis="uk-gdpr-6-1-e", decision_reason="Relevant to the concern", items=[
                           dict(category="school_attendance", content=ATTENDANCE, occurred_on="2025-01-31",
                                relevance_note=ATTENDANCE_WHY),
                           dict(category="exclusions", content="One fixed-term suspension in January 2025.",
                                relevance_note="Behaviour has changed"),
                       ])
    sharing.contribute(request["nhs-england-gps"], by=gp_worker, kind="confidential_held",
                       lawful_basis="uk-gdpr-9-2-g-dpa-sch1-para18", decision_reason="Held in confidence",
                       confidential_reason="clinical_confidentiality", items=[
                           dict(category="gp_consultations", content="Seen for a wrist injury in February 2025.",
                                relevance_note="An earlier injury")])
    cases.decide(enquiry, by=manager, outcome="section_17", rationale=RATIONALE, recipient_type="social_worker",
                 receiving_professional=recipient.username)
    return SimpleNamespace(enquiry=enquiry, manager=manager, recipient=recipient, items=items_of(enquiry))


def selection(*items, child=("date_of_birth",), decision=(), fields=("content", "occurred_on")) -> dict:
    return {"child": list(child), "decision": list(decision), "items": {str(i.pk): list(fields) for i in items}}


def draft(case, **overrides):
    """A draft package of the decided case, to the receiving professional: the school attendance item."""
    from mash.disclosure import services as disclosure

    data = dict(recipient_type="social_worker", recipient=case.recipient.username, lawful_basis="children-act-1989-s17",
                selection=selection(case.items["school_attendance"]), cover_note="For the strategy discussion.")
    data.update(overrides)
    return disclosure.create_package(case.enquiry, by=case.manager, **data)


def onward_consent(case):
    from mash.consent import services as consent

    return consent.record_consent(case.enquiry, by=case.manager, status="given", given_by=CONSENT_GIVEN_BY,
                                  purposes=["onward_disclosure"], notes="Agreed to the school information going on")


def sent(case, **overrides):
    """A package sent on the child's consent to onward disclosure (recorded first if it is not yet)."""
    from mash.consent import services as consent
    from mash.disclosure import services as disclosure

    record = consent.current_record(case.enquiry)
    if not (record and "onward_disclosure" in record.purposes and not record.is_withdrawn):
        onward_consent(case)
    return disclosure.send_package(draft(case, **overrides), by=case.manager)


# --- full_case ------------------------------------------------------------------------------------

MOTHER = "Morgan Exampleton"
SEALED_TEXT = "Covert observation of the address under Operation Kestrel."
HELD_TEXT = "Clinical notes held in confidence about a wrist injury."
WITHHELD_TEXT = "Informant says the uncle visits at night."


def _every_kind_of_answer(world, enquiry) -> None:
    from mash.sharing import services as sharing

    sharing.request_information(enquiry, by=world.user("manager"), partners=["nhs-england-gps", "essex-probation"])
    req = {r.partner.slug: r for r in enquiry.information_requests.select_related("partner")}
    sharing.contribute(req["essex-police"], by=world.user("police_worker"), kind="share",
                       lawful_basis="crime-and-disorder-act-1998-s115", decision_reason="Relevant", items=[
                           dict(category="police_incidents", content=f"Officers called after {MOTHER} reported a row.",
                                relevance_note="Conflict at home", occurred_on="2025-03-02"),
                           dict(category="intelligence", content=WITHHELD_TEXT, relevance_note="Possible risk"),
                           dict(category="arrests", content=SEALED_TEXT, relevance_note="Open investigation",
                                confidentiality="sealed"),
                       ])
    sharing.contribute(req["education"], by=world.user("education_worker"), kind="share", lawful_basis="uk-gdpr-6-1-e",
                       decision_reason="Relevant", items=[
                           dict(category="school_attendance", content="Attendance 81% this term.",
                                relevance_note="Falling", confidentiality="restricted")])
    sharing.contribute(req["nhs-england-gps"], by=world.user("gp_worker"), kind="confidential_held",
                       lawful_basis="uk-gdpr-9-2-g-dpa-sch1-para18", decision_reason="Held in confidence",
                       confidential_reason="clinical_confidentiality", items=[
                           dict(category="gp_consultations", content=HELD_TEXT, relevance_note="Earlier injury")])
    sharing.contribute(req["essex-probation"], by=world.user("probation_worker"), kind="decline",
                       decision_reason="Nothing held")


def full_case(world, enquiry) -> SimpleNamespace:
    """An enquiry about Rowan (mother: Morgan) with every kind of record: normal, restricted, sealed and
    withheld items, a decline, confidential information held, a decision, a package, consent, sharing
    without consent. The concern names the mother."""
    from mash.cases import services as cases
    from mash.consent import services as consent
    from mash.disclosure import services as disclosure
    from mash.sharing.models import ContributionItem

    manager, recipient = world.user("manager"), world.user("receiving_professional")
    _every_kind_of_answer(world, enquiry)
    override = consent.propose_override(enquiry, by=manager, justification="Risk of significant harm at home",
                                        lawful_basis="children-act-1989-s47", purposes=["onward_disclosure"])
    cases.decide(enquiry, by=manager, outcome="section_17", rationale="Child in need assessment",
                 recipient_type="social_worker", receiving_professional=recipient.username)
    school = ContributionItem.objects.get(category="school_attendance")
    police = ContributionItem.objects.get(category="police_incidents")
    package = disclosure.send_package(disclosure.create_package(
        enquiry, by=manager, recipient_type="social_worker", recipient=recipient.username,
        lawful_basis="children-act-1989-s17",
        selection={"child": ["date_of_birth"], "items": {str(police.pk): ["content"]}}), by=manager)
    child = enquiry.child
    mother = child.relationships.get().person
    return SimpleNamespace(enquiry=enquiry, child=child, mother=mother, override=override, package=package,
                           school=school, police=police, manager=manager)


def log_sar(dpo, people, **overrides):
    """A subject access request about `people`, received three days ago, the requester's identity seen."""
    from mash.sar import services

    data = dict(requester_name="Rowan's parent", requester_relationship="parent",
                requester_contact="1 Sample Street, Grays", received_on=timezone.localdate() - dt.timedelta(days=3),
                person_ids=[p.pk for p in people], identity_verified=True, identity_method="Passport seen")
    data.update(overrides)
    return services.log_request(by=dpo, **data)


def decide_all(sar, dpo, special):
    """Every item not sealed decided: as `special` says for its id, else the proposed redactions
    confirmed, else disclosed."""
    from mash.sar import services

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


# --- case_with_files -----------------------------------------------------------------------------------------

PDF_BYTES = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\nFILE-SECRET-MARKER\n%%EOF\n"


def case_with_files(world, enquiry) -> dict:
    """Police shared three items (normal, restricted, sealed); education holds confidential information.
    A council worker is assigned; each item has a PDF."""
    from mash.attachments import services
    from mash.cases import services as cases
    from mash.sharing import services as sharing

    manager, police_worker, education_worker = (world.user(n) for n in ("manager", "police_worker",
                                                                         "education_worker"))
    assigned = world.user("council_worker")
    cases.assign(enquiry, by=manager, member="council-worker")
    police_request = enquiry.information_requests.get(partner__slug="essex-police")
    sharing.contribute(police_request, by=police_worker, kind="share", lawful_basis="dpa-2018-part-3",
                       decision_reason="Relevant", items=[
                           dict(category="police_incidents", content="Incident at home", relevance_note="Recent"),
                           dict(category="domestic_abuse", content="DA call-out", relevance_note="Risk",
                                confidentiality="restricted"),
                           dict(category="intelligence", content="Covert source", relevance_note="Risk",
                                confidentiality="sealed")])
    education_request = enquiry.information_requests.get(partner__slug="education")
    sharing.contribute(education_request, by=education_worker, kind="confidential_held",
                       decision_reason="Court order", lawful_basis="uk-gdpr-6-1-e",
                       confidential_reason="court_restriction",
                       items=[dict(category="school_safeguarding_concerns", content="Held back",
                                   relevance_note="Court")])
    items = items_of(enquiry)
    files = {}
    for category, who in (("police_incidents", police_worker), ("domestic_abuse", police_worker),
                          ("intelligence", police_worker), ("school_safeguarding_concerns", education_worker)):
        files[category] = services.add_attachment(items[category], by=who, filename=f"{category}.pdf",
                                                  content_type="application/pdf", data=PDF_BYTES)
    users = {"manager": manager, "assigned": assigned, "police": police_worker, "education": education_worker,
             "unasked": world.user("sarc_worker"), "dpo": world.user("dpo"),
             "recipient": world.user("receiving_professional")}
    return {"enquiry": enquiry, "items": items, "files": files, "users": users,
            "police_request": police_request, "education_request": education_request}
