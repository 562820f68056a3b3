"""Contacts and MASH enquiries: intake, the queue, an enquiry's detail, and the manager's steps.

Reads go through mash.access.policy; writes through mash.cases.services and mash.sharing.services,
which check the policy again and the state machine.
"""

import datetime as dt
from typing import Annotated, Literal

from django.db.models import Case, F, IntegerField, Value, When
from django.http import HttpResponse
from ninja import Field, Path, Query, Router, Schema

from mash.access import policy
from mash.core.api import REFERENCE_PATTERN, InputSchema, access, case_policy, created, listing, responses
from mash.sharing import services as sharing
from mash.sharing.api import ContributionEntry, contribution_out, current_agreement

from . import services
from .states import OPEN_STATES, EnquiryState

router = Router(tags=["enquiries"])

Reference = Annotated[str, Path(pattern=REFERENCE_PATTERN, description="the enquiry's reference: MASH-2026-000123")]


# --- Input ----------------------------------------------------------------------------------

class PersonIn(InputSchema):
    first_name: str = ""
    last_name: str = ""
    other_names: str = ""
    date_of_birth: dt.date | None = None
    gender: str = Field("unknown", description="female, male, other or unknown")
    nhs_number: str = ""
    upn: str = Field("", description="unique pupil number")
    address_line_1: str = ""
    address_line_2: str = ""
    town: str = ""
    postcode: str = ""


class RelatedPersonIn(PersonIn):
    relationship: str = Field(description="mother, father, step_parent, parents_partner, carer, grandparent, "
                                          "sibling, household_member or other")
    lives_with_child: bool = False
    parental_responsibility: bool = False


class ContactIn(InputSchema):
    child: PersonIn
    reporter_type: str = Field(description="who reported the concern, e.g. school, police, public, anonymous")
    reporter_name: str = Field("", max_length=200)
    reporter_organisation: str = Field("", max_length=200)
    reporter_partner: str | None = Field(None, max_length=80, description="the reporter's agency, by ISA id")
    reporter_phone: str = Field("", max_length=40)
    reporter_email: str = Field("", max_length=254)
    concern: str
    concern_categories: list[str]
    consent_at_intake: str = Field(description="given, refused, not_sought or unknown")
    consent_notes: str = ""
    received_at: dt.datetime | None = Field(None, description="when the contact came in; now when left out")
    related_people: list[RelatedPersonIn] = []


class RatingIn(InputSchema):
    rating: str = Field(description="red, amber or green")
    rationale: str


class InformationRequestsIn(InputSchema):
    partners: list[str] = Field(description="the agencies to ask, by ISA id")
    question: str = ""


class DecisionIn(InputSchema):
    outcome: str
    rationale: str
    recipient_type: str = ""
    receiving_team: str = Field("", max_length=200)
    receiving_professional: str = Field("", max_length=150, description="username of the receiving professional")


class DecisionAmendmentIn(DecisionIn):
    reason: str = Field(description="why the decision is being amended")


class NoteIn(InputSchema):
    note: str = ""


# --- Output ---------------------------------------------------------------------------------

class EnquirySummaryOut(Schema):
    reference: str
    state: str
    state_label: str
    rag: str | None
    received_at: dt.datetime
    decision_due_at: dt.datetime | None
    overdue: bool
    seconds_remaining: int | None = Field(description="until the decision is due; negative once overdue")
    child_name: str
    concern_categories: list[str]


class PersonOut(Schema):
    first_name: str
    last_name: str
    full_name: str
    other_names: str
    date_of_birth: dt.date | None
    gender: str
    nhs_number: str
    upn: str
    address: str
    postcode: str


class RelatedPersonOut(PersonOut):
    relationship: str
    relationship_label: str
    lives_with_child: bool
    parental_responsibility: bool


class ReporterOut(Schema):
    type: str
    type_label: str
    name: str
    organisation: str
    partner: str | None = Field(description="the reporter's agency, by ISA id")
    phone: str
    email: str


class ContactOut(Schema):
    received_at: dt.datetime
    reporter_type: str = Field(description="who reported the concern: for the MASH team only (empty for others)")
    reporter_type_label: str
    reporter: ReporterOut | None = Field(description="who reported the concern: for the MASH team only")
    concern: str
    concern_categories: list[str]
    concern_category_labels: list[str]
    consent_at_intake: str = Field(description="consent at intake: for the MASH team only (empty for others)")
    consent_notes: str = Field(description="for the MASH team only (empty for others)")


class RatingOut(Schema):
    rating: str
    rationale: str
    rated_by: str
    rated_at: dt.datetime
    decision_due_at: dt.datetime
    isa_version: str
    isa_clause: str


class RequestBrief(Schema):
    id: int
    partner_slug: str
    partner_name: str
    status: str
    status_label: str
    question: str
    requested_at: dt.datetime


class DecisionOut(Schema):
    version: int
    outcome: str
    outcome_label: str
    rationale: str
    recipient_type: str
    receiving_team: str
    receiving_professional: str | None = Field(description="username")
    decided_by: str
    decided_at: dt.datetime
    amendment_reason: str
    isa_version: str
    retention_clause: str


class TeamMemberOut(Schema):
    username: str
    name: str
    partner: str | None
    assigned_at: dt.datetime


class EventOut(Schema):
    action: str
    from_state: str
    to_state: str
    by: str
    at: dt.datetime
    note: str


class EnquiryDetailOut(EnquirySummaryOut):
    readable_parts: list[str] = Field(description="the parts of the enquiry the caller may read; the others "
                                                  "are left out (null or empty) by need-to-know")
    child: PersonOut
    related_people: list[RelatedPersonOut]
    contact: ContactOut
    outcome: str | None = Field(description="the decision's outcome, once decided")
    outcome_label: str | None
    ratings: list[RatingOut]
    team: list[TeamMemberOut] = Field(description="MASH team members assigned to the enquiry")
    information_requests: list[RequestBrief] = Field(description="the requests the caller may see")
    contributions: list[ContributionEntry]
    decision: DecisionOut | None
    earlier_decisions: list[DecisionOut] = Field(description="superseded versions, newest first")
    history: list[EventOut]
    allowed_actions: list[str] = Field(description="what the caller may do next")


class AssignmentIn(InputSchema):
    member: str = Field(max_length=150, description="username of the MASH team member")
    note: str = ""


def _summary(enquiry) -> dict:
    remaining = enquiry.time_remaining
    return {
        "reference": enquiry.reference or "",
        "state": enquiry.state,
        "state_label": enquiry.get_state_display(),
        "rag": enquiry.rag or None,
        "received_at": enquiry.contact.received_at,
        "decision_due_at": enquiry.decision_due_at,
        "overdue": enquiry.is_overdue,
        "seconds_remaining": int(remaining.total_seconds()) if remaining is not None else None,
        "child_name": enquiry.child.full_name,
        "concern_categories": list(enquiry.contact.concern_categories),
    }


def _person(p) -> dict:
    return {
        "first_name": p.first_name, "last_name": p.last_name, "full_name": p.full_name,
        "other_names": p.other_names, "date_of_birth": p.date_of_birth, "gender": p.gender,
        "nhs_number": p.nhs_number, "upn": p.upn, "address": p.address, "postcode": p.postcode,
    }


def _decision(d) -> dict:
    return {
        "version": d.version, "outcome": d.outcome, "outcome_label": d.get_outcome_display(),
        "rationale": d.rationale, "recipient_type": d.recipient_type, "receiving_team": d.receiving_team,
        "receiving_professional": d.receiving_professional.username if d.receiving_professional else None,
        "decided_by": d.decided_by.display_name, "decided_at": d.decided_at,
        "amendment_reason": d.amendment_reason, "isa_version": d.isa_version.version,
        "retention_clause": d.retention_clause,
    }


def enquiry_detail(user, reference: str) -> dict:
    """The enquiry as the caller may read it: policy.case_record leaves out what they may not."""
    enquiry = policy.enquiry(user, reference)
    record = policy.case_record(user, enquiry, current_agreement())
    child, contact = record.child, record.contact
    data = _summary(enquiry)
    data.update(
        readable_parts=sorted(record.readable),
        child=_person(child),
        related_people=[
            dict(_person(rel.person), relationship=rel.relationship,
                 relationship_label=rel.get_relationship_display(), lives_with_child=rel.lives_with_child,
                 parental_responsibility=rel.parental_responsibility)
            for rel in record.relationships
        ],
        contact={
            "received_at": contact.received_at,
            "reporter_type": contact.reporter_type,
            "reporter_type_label": contact.get_reporter_type_display(),
            "reporter": {
                "type": contact.reporter_type,
                "type_label": contact.get_reporter_type_display(),
                "name": contact.reporter_name,
                "organisation": contact.reporter_organisation,
                "partner": contact.reporter_partner.slug if contact.reporter_partner_id else None,
                "phone": contact.reporter_phone,
                "email": contact.reporter_email,
            } if record.reporter_visible else None,
            "concern": contact.concern,
            "concern_categories": list(contact.concern_categories),
            "concern_category_labels": contact.concern_category_labels(),
            "consent_at_intake": contact.consent_at_intake,
            "consent_notes": contact.consent_notes,
        },
        outcome=record.outcome,
        outcome_label=record.outcome_label,
        ratings=[
            {"rating": r.rating, "rationale": r.rationale, "rated_by": r.rated_by.display_name,
             "rated_at": r.rated_at, "decision_due_at": r.decision_due_at, "isa_version": r.isa_version.version,
             "isa_clause": r.isa_clause}
            for r in record.ratings
        ],
        team=[{"username": a.user.username, "name": a.user.display_name,
               "partner": a.user.partner.slug if a.user.partner_id else None, "assigned_at": a.assigned_at}
              for a in record.team],
        information_requests=[
            {"id": r.pk, "partner_slug": r.partner.slug, "partner_name": r.partner.name, "status": r.status,
             "status_label": r.get_status_display(), "question": r.question, "requested_at": r.requested_at}
            for r in record.information_requests
        ],
        contributions=[contribution_out(v) for v in record.contributions],
        decision=_decision(record.decision) if record.decision else None,
        earlier_decisions=[_decision(d) for d in record.earlier_decisions],
        history=[{"action": e.action, "from_state": e.from_state, "to_state": e.to_state, "by": e.by.display_name,
                  "at": e.at, "note": e.note} for e in record.events],
        allowed_actions=record.actions,
    )
    return data


# --- Operations -----------------------------------------------------------------------------

@router.post("/contacts", response=responses({201: EnquirySummaryOut}, 400, 422),
             openapi_extra=access(case_policy(policy.RECORD_CONTACT)),
             summary="Record a contact; opens its MASH enquiry, awaiting a RAG rating")
def record_contact(request, payload: ContactIn):
    enquiry = services.record_contact(
        by=request.user,
        child=payload.child.model_dump(exclude_unset=True),
        reporter_type=payload.reporter_type,
        reporter_name=payload.reporter_name,
        reporter_organisation=payload.reporter_organisation,
        reporter_partner=payload.reporter_partner,
        reporter_phone=payload.reporter_phone,
        reporter_email=payload.reporter_email,
        concern=payload.concern,
        concern_categories=payload.concern_categories,
        consent_at_intake=payload.consent_at_intake,
        consent_notes=payload.consent_notes,
        received_at=payload.received_at,
        related_people=[p.model_dump(exclude_unset=True) for p in payload.related_people],
    )
    # The enquiry the service has just created: only what the caller themselves submitted.
    return created(_summary(enquiry))


@router.get("/enquiries", response=responses({200: list[EnquirySummaryOut]}, 422),
            openapi_extra=listing(case_policy(policy.VIEW_ENQUIRY)),
            summary="The caller's queue: open enquiries, awaiting rating first, then by decision deadline")
def list_enquiries(request, response: HttpResponse,
                   state: Literal[tuple(EnquiryState.values)] | None = None,  # type: ignore[valid-type]
                   q: str = Query("", max_length=100, description="search: a reference, NHS number, UPN or the "
                                                                 "child's name; only among what the caller may see"),
                   limit: int = Query(100, ge=1, le=500, description="at most this many (X-Total-Count: all)"),
                   offset: int = Query(0, ge=0, le=10_000_000)):
    qs = policy.search_enquiries(request.user, q) if q.strip() else policy.enquiries(request.user)
    if state:
        qs = qs.filter(state=state)
    elif not q.strip():
        qs = qs.filter(state__in=OPEN_STATES)
    qs = qs.annotate(
        awaiting=Case(When(state=EnquiryState.AWAITING_RATING, then=Value(0)), default=Value(1),
                      output_field=IntegerField())
    ).order_by("awaiting", F("decision_due_at").asc(nulls_last=True), "contact__received_at", "pk")
    response["X-Total-Count"] = str(qs.count())
    return [_summary(e) for e in qs[offset:offset + limit]]


@router.get("/enquiries/{reference}", response=responses({200: EnquiryDetailOut}, 404, 422),
            openapi_extra=access(case_policy(policy.VIEW_ENQUIRY)), summary="One enquiry, redacted for the caller")
def get_enquiry(request, reference: Reference):
    return enquiry_detail(request.user, reference)


@router.post("/enquiries/{reference}/rating", response=responses({201: EnquiryDetailOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(policy.RATE)), summary="RAG-rate or re-rate the enquiry")
def rate(request, reference: Reference, payload: RatingIn):
    enquiry = policy.enquiry(request.user, reference)
    services.rate(enquiry, by=request.user, rating=payload.rating, rationale=payload.rationale)
    return created(enquiry_detail(request.user, reference))


@router.post("/enquiries/{reference}/information-requests",
             response=responses({201: EnquiryDetailOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(policy.REQUEST_INFORMATION)),
             summary="Ask partner agencies what they hold")
def request_information(request, reference: Reference, payload: InformationRequestsIn):
    enquiry = policy.enquiry(request.user, reference)
    sharing.request_information(enquiry, by=request.user, partners=payload.partners, question=payload.question)
    return created(enquiry_detail(request.user, reference))


@router.post("/enquiries/{reference}/ready", response=responses({200: EnquiryDetailOut}, 400, 404, 409, 422),
             openapi_extra=access(case_policy(policy.MARK_READY)), summary="Mark the enquiry ready for decision")
def mark_ready(request, reference: Reference, payload: NoteIn | None = None):
    enquiry = policy.enquiry(request.user, reference)
    services.mark_ready(enquiry, by=request.user, note=payload.note if payload else "")
    return enquiry_detail(request.user, reference)


@router.post("/enquiries/{reference}/decision", response=responses({201: EnquiryDetailOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(policy.DECIDE)), summary="Record the manager's decision")
def decide(request, reference: Reference, payload: DecisionIn):
    enquiry = policy.enquiry(request.user, reference)
    services.decide(enquiry, by=request.user, outcome=payload.outcome, rationale=payload.rationale,
                    recipient_type=payload.recipient_type, receiving_team=payload.receiving_team,
                    receiving_professional=payload.receiving_professional)
    return created(enquiry_detail(request.user, reference))


@router.post("/enquiries/{reference}/decision/amendments",
             response=responses({201: EnquiryDetailOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(policy.DECIDE)),
             summary="Amend the decision; the earlier version is kept")
def amend_decision(request, reference: Reference, payload: DecisionAmendmentIn):
    enquiry = policy.enquiry(request.user, reference)
    services.amend_decision(enquiry, by=request.user, reason=payload.reason, outcome=payload.outcome,
                            rationale=payload.rationale, recipient_type=payload.recipient_type,
                            receiving_team=payload.receiving_team,
                            receiving_professional=payload.receiving_professional)
    return created(enquiry_detail(request.user, reference))


@router.post("/enquiries/{reference}/close", response=responses({200: EnquiryDetailOut}, 400, 404, 409, 422),
             openapi_extra=access(case_policy(policy.CLOSE)), summary="Close a decided enquiry")
def close(request, reference: Reference, payload: NoteIn | None = None):
    enquiry = policy.enquiry(request.user, reference)
    services.close(enquiry, by=request.user, note=payload.note if payload else "")
    return enquiry_detail(request.user, reference)


@router.post("/enquiries/{reference}/team", response=responses({201: EnquiryDetailOut}, 400, 404, 409, 422),
             openapi_extra=access(case_policy(policy.ASSIGN)),
             summary="Put a MASH team member on the enquiry (case assignment)")
def assign(request, reference: Reference, payload: AssignmentIn):
    enquiry = policy.enquiry(request.user, reference)
    services.assign(enquiry, by=request.user, member=payload.member, note=payload.note)
    return created(enquiry_detail(request.user, reference))


@router.post("/enquiries/{reference}/team/ended", response=responses({200: EnquiryDetailOut}, 400, 404, 409, 422),
             openapi_extra=access(case_policy(policy.ASSIGN)),
             summary="Take a MASH team member off the enquiry; the assignment is kept as history")
def end_assignment(request, reference: Reference, payload: AssignmentIn):
    enquiry = policy.enquiry(request.user, reference)
    services.end_assignment(enquiry, by=request.user, member=payload.member, note=payload.note)
    return enquiry_detail(request.user, reference)
