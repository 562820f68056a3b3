"""Contacts and MASH enquiries: intake, the queue, an enquiry's detail, and the manager's steps.

Reads go through the gate (mash.cases.selectors); writes through mash.cases.services and
mash.sharing.services, which check the policy again and the state machine. The output schemas read
what the selectors hand out: an enquiry of the queue, and the CaseRecord `case_record` redacts for
the caller (a part they may not read is None or empty there, so it is null or empty here).
"""

import datetime as dt
from typing import Annotated, Literal

from django.db.models import Case, F, IntegerField, Value, When
from django.http import HttpResponse
from ninja import Field, Path, Query, Router, Schema

from mash.access.guard import guarded_operation
from mash.access.rules import ASSIGN, CLOSE, DECIDE, MARK_READY, RATE, RECORD_CONTACT, REQUEST_INFORMATION, VIEW_ENQUIRY
from mash.core.api import (MAX_ID, REFERENCE_PATTERN, InputSchema, access, case_policy, created, listing, read,
                           responses)
from mash.people.api.matches import MatchOut
from mash.people.matching import Details
from mash.people.selectors.identity import offers
from mash.sharing import services as sharing
from mash.sharing.api import ContributionEntry, current_agreement

from . import selectors, services
from .models import Enquiry
from .selectors import CaseRecord
from .states import OPEN_STATES, EnquiryState

router = Router(tags=["enquiries"])

Reference = Annotated[str, Path(pattern=REFERENCE_PATTERN, description="the enquiry's reference: MASH-2026-000123")]


# --- Input ----------------------------------------------------------------------------------

class PersonIn(InputSchema):
    first_name: str = ""
    last_name: str = ""
    other_names: str = ""
    date_of_birth: dt.date | None = None
    date_of_birth_estimated: bool = Field(False, description="the date of birth is an estimate")
    unborn: bool = Field(False, description="not born yet (a pre-birth contact): give expected_date, not date_of_birth")
    expected_date: dt.date | None = Field(None, description="the expected date of birth of a child not born yet")
    gender: str = Field("unknown", description="female, male, other or unknown")
    nhs_number: str = ""
    upn: str = Field("", description="unique pupil number")
    address_line_1: str = ""
    address_line_2: str = ""
    town: str = ""
    postcode: str = ""
    person_id: int | None = Field(None, ge=1, le=MAX_ID,
                                  description="an existing person (from POST /people/matches) the contact is "
                                              "about; leave out to record a new person")
    identity_reason: str = Field("", max_length=2000,
                                 description="why this is the same person as person_id: needed with person_id")


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


class _DecisionFields(InputSchema):
    outcome: str
    rationale: str
    recipient_type: str = ""
    receiving_team: str = Field("", max_length=200)
    receiving_professional: str = Field("", max_length=150, description="username of the receiving professional")


class DecisionIn(_DecisionFields):
    repeat_contacts_rationale: str = Field("", description="why no further action is right although the child's "
                                           "contacts reach the ISA's repeat-contact threshold (needed then: 422 "
                                           "with field repeat_contacts_rationale without it)")


class DecisionAmendmentIn(DecisionIn):
    reason: str = Field(description="why the decision is being amended")


class NoteIn(InputSchema):
    note: str = ""


# --- Output: the schemas read the enquiry, and the case record `case_record` redacted for the caller --

def _enquiry_of(obj) -> Enquiry:
    """The enquiry a summary is of: a row of the queue, or a case record's."""
    return obj.enquiry if isinstance(obj, CaseRecord) else obj


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

    @staticmethod
    def resolve_reference(obj) -> str:
        return _enquiry_of(obj).reference or ""

    @staticmethod
    def resolve_state(obj) -> str:
        return _enquiry_of(obj).state

    @staticmethod
    def resolve_state_label(obj) -> str:
        return _enquiry_of(obj).get_state_display()

    @staticmethod
    def resolve_rag(obj) -> str | None:
        return _enquiry_of(obj).rag or None

    @staticmethod
    def resolve_received_at(obj):
        return _enquiry_of(obj).contact.received_at

    @staticmethod
    def resolve_decision_due_at(obj):
        return _enquiry_of(obj).decision_due_at

    @staticmethod
    def resolve_overdue(obj) -> bool:
        return _enquiry_of(obj).is_overdue

    @staticmethod
    def resolve_seconds_remaining(obj) -> int | None:
        remaining = _enquiry_of(obj).time_remaining
        return int(remaining.total_seconds()) if remaining is not None else None

    @staticmethod
    def resolve_child_name(obj) -> str:
        return _enquiry_of(obj).child.full_name

    @staticmethod
    def resolve_concern_categories(obj) -> list[str]:
        return list(_enquiry_of(obj).contact.concern_categories)


# Read from the enquiry the contact opened, with `possible_matches` set by record_contact.
class ContactRecordedOut(EnquirySummaryOut):
    possible_matches: list[MatchOut] = Field(description="people already known who may be the child, best first, "
                                                         "within the caller's need-to-know (when the child was "
                                                         "recorded as a new person): record a follow-up with "
                                                         "person_id, or ask a MASH manager to review them")


class PersonOut(Schema):
    first_name: str
    last_name: str
    full_name: str
    other_names: str
    date_of_birth: dt.date | None
    date_of_birth_estimated: bool
    unborn: bool
    expected_date: dt.date | None
    gender: str
    nhs_number: str
    upn: str
    address: str
    postcode: str


# Read from a relationship of the child's: the person's details, and how they are related.
class RelatedPersonOut(PersonOut):
    relationship: str
    relationship_label: str
    lives_with_child: bool
    parental_responsibility: bool

    resolve_first_name = read("person.first_name")
    resolve_last_name = read("person.last_name")
    resolve_full_name = read("person.full_name")
    resolve_other_names = read("person.other_names")
    resolve_date_of_birth = read("person.date_of_birth")
    resolve_date_of_birth_estimated = read("person.date_of_birth_estimated")
    resolve_unborn = read("person.unborn")
    resolve_expected_date = read("person.expected_date")
    resolve_gender = read("person.gender")
    resolve_nhs_number = read("person.nhs_number")
    resolve_upn = read("person.upn")
    resolve_address = read("person.address")
    resolve_postcode = read("person.postcode")

    @staticmethod
    def resolve_relationship_label(rel) -> str:
        return rel.get_relationship_display()


# Read from the contact (a RedactedRow), only where the caller reads the reporter.
class ReporterOut(Schema):
    type: str
    type_label: str
    name: str
    organisation: str
    partner: str | None = Field(description="the reporter's agency, by ISA id")
    phone: str
    email: str

    resolve_type = read("reporter_type")

    @staticmethod
    def resolve_type_label(contact) -> str:
        return contact.get_reporter_type_display()

    resolve_name = read("reporter_name")
    resolve_organisation = read("reporter_organisation")

    @staticmethod
    def resolve_partner(contact) -> str | None:
        return contact.reporter_partner.slug if contact.reporter_partner_id else None

    resolve_phone = read("reporter_phone")
    resolve_email = read("reporter_email")


# Read from the case record's contact, a RedactedRow: a column the caller may not read is empty.
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

    @staticmethod
    def resolve_reporter_type_label(contact) -> str:
        return contact.get_reporter_type_display()

    @staticmethod
    def resolve_reporter(contact):
        # The reporter's columns are all the REPORTER part (access.columns.CONTACT): case_record's
        # reporter_visible, asked of the row itself.
        return contact if contact.may_read("reporter_type") else None


class RatingOut(Schema):
    rating: str
    rationale: str
    rated_by: str
    rated_at: dt.datetime
    decision_due_at: dt.datetime
    isa_version: str
    isa_clause: str

    resolve_rated_by = read("rated_by.display_name")
    resolve_isa_version = read("isa_version.version")


class RequestBrief(Schema):
    id: int
    partner_slug: str
    partner_name: str
    status: str
    status_label: str
    question: str
    requested_at: dt.datetime

    resolve_partner_slug = read("partner.slug")
    resolve_partner_name = read("partner.name")

    @staticmethod
    def resolve_status_label(r) -> str:
        return r.get_status_display()


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
    repeat_contacts: int | None = Field(description="the child's contacts in the ISA's repeat-contact window when "
                                        "decided, if they reached its threshold")
    repeat_contacts_rationale: str = Field(description="why no further action despite the repeat contacts")

    @staticmethod
    def resolve_outcome_label(d) -> str:
        return d.get_outcome_display()

    @staticmethod
    def resolve_receiving_professional(d) -> str | None:
        return d.receiving_professional.username if d.receiving_professional else None

    resolve_decided_by = read("decided_by.display_name")
    resolve_isa_version = read("isa_version.version")


# Read from an assignment.
class TeamMemberOut(Schema):
    username: str
    name: str
    partner: str | None
    assigned_at: dt.datetime

    resolve_username = read("user.username")
    resolve_name = read("user.display_name")

    @staticmethod
    def resolve_partner(a) -> str | None:
        return a.user.partner.slug if a.user.partner_id else None


class EventOut(Schema):
    action: str
    from_state: str
    to_state: str
    by: str
    at: dt.datetime
    note: str

    resolve_by = read("by.display_name")


# Read from a CaseRecord (cases.selectors.case_record): each part the caller may not read is already
# None or empty there. (Comments, not docstrings: a docstring would change the OpenAPI document.)
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

    @staticmethod
    def resolve_readable_parts(record: CaseRecord) -> list[str]:
        return sorted(record.readable)

    @staticmethod
    def resolve_related_people(record: CaseRecord) -> list:
        return record.relationships

    @staticmethod
    def resolve_history(record: CaseRecord) -> list:
        return record.events

    @staticmethod
    def resolve_allowed_actions(record: CaseRecord) -> list[str]:
        return record.actions


class AssignmentIn(InputSchema):
    member: str = Field(max_length=150, description="username of the MASH team member")
    note: str = ""


def enquiry_detail(user, reference: str) -> CaseRecord:
    """The enquiry as the caller may read it: case_record leaves out what they may not (EnquiryDetailOut)."""
    enquiry = selectors.enquiry(user, reference)
    return selectors.case_record(user, enquiry, current_agreement())


# --- Operations -----------------------------------------------------------------------------

@router.post("/contacts", response=responses({201: ContactRecordedOut}, 400, 422),
             openapi_extra=access(case_policy(RECORD_CONTACT)),
             summary="Record a contact; opens its MASH enquiry, awaiting a RAG rating")
@guarded_operation(RECORD_CONTACT)
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
    # The enquiry the service has just created: only what the caller themselves submitted, and the people
    # already known (within the caller's need-to-know) who may be the child, when recorded as a new person.
    enquiry.possible_matches = [] if payload.child.person_id else offers(
        request.user, Details.of(enquiry.child), exclude=[enquiry.child_id])
    return created(enquiry)


@router.get("/enquiries", response=responses({200: list[EnquirySummaryOut]}, 422),
            openapi_extra=listing(case_policy(VIEW_ENQUIRY)),
            summary="The caller's queue: open enquiries, awaiting rating first, then by decision deadline")
@guarded_operation(VIEW_ENQUIRY)
def list_enquiries(request, response: HttpResponse,
                   state: Literal[tuple(EnquiryState.values)] | None = None,  # type: ignore[valid-type]
                   q: str = Query("", max_length=100, description="search: a reference, NHS number, UPN or the "
                                                                 "child's name; only among what the caller may see"),
                   limit: int = Query(100, ge=1, le=500, description="at most this many (X-Total-Count: all)"),
                   offset: int = Query(0, ge=0, le=10_000_000)):
    qs = selectors.search_enquiries(request.user, q) if q.strip() else selectors.enquiries(request.user)
    if state:
        qs = qs.filter(state=state)
    elif not q.strip():
        qs = qs.filter(state__in=OPEN_STATES)
    qs = qs.annotate(
        awaiting=Case(When(state=EnquiryState.AWAITING_RATING, then=Value(0)), default=Value(1),
                      output_field=IntegerField())
    ).order_by("awaiting", F("decision_due_at").asc(nulls_last=True), "contact__received_at", "pk")
    response["X-Total-Count"] = str(qs.count())
    return list(qs[offset:offset + limit])


@router.get("/enquiries/{reference}", response=responses({200: EnquiryDetailOut}, 404, 422),
            openapi_extra=access(case_policy(VIEW_ENQUIRY)), summary="One enquiry, redacted for the caller")
@guarded_operation(VIEW_ENQUIRY)  # enquiry_detail reads it through the gate
def get_enquiry(request, reference: Reference):
    return enquiry_detail(request.user, reference)


@router.post("/enquiries/{reference}/rating", response=responses({201: EnquiryDetailOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(RATE)), summary="RAG-rate or re-rate the enquiry")
@guarded_operation(RATE, load=selectors.enquiry, require=RATE)
def rate(request, enquiry, reference: Reference, payload: RatingIn):
    services.rate(enquiry, by=request.user, rating=payload.rating, rationale=payload.rationale)
    return created(enquiry_detail(request.user, reference))


@router.post("/enquiries/{reference}/information-requests",
             response=responses({201: EnquiryDetailOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(REQUEST_INFORMATION)),
             summary="Ask partner agencies what they hold")
@guarded_operation(REQUEST_INFORMATION, load=selectors.enquiry, require=REQUEST_INFORMATION)
def request_information(request, enquiry, reference: Reference, payload: InformationRequestsIn):
    sharing.request_information(enquiry, by=request.user, partners=payload.partners, question=payload.question)
    return created(enquiry_detail(request.user, reference))


@router.post("/enquiries/{reference}/ready", response=responses({200: EnquiryDetailOut}, 400, 404, 409, 422),
             openapi_extra=access(case_policy(MARK_READY)), summary="Mark the enquiry ready for decision")
@guarded_operation(MARK_READY, load=selectors.enquiry, require=MARK_READY)
def mark_ready(request, enquiry, reference: Reference, payload: NoteIn | None = None):
    services.mark_ready(enquiry, by=request.user, note=payload.note if payload else "")
    return enquiry_detail(request.user, reference)


@router.post("/enquiries/{reference}/decision", response=responses({201: EnquiryDetailOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(DECIDE)), summary="Record the manager's decision")
@guarded_operation(DECIDE, load=selectors.enquiry, require=DECIDE)
def decide(request, enquiry, reference: Reference, payload: DecisionIn):
    services.decide(enquiry, by=request.user, outcome=payload.outcome, rationale=payload.rationale,
                    recipient_type=payload.recipient_type, receiving_team=payload.receiving_team,
                    receiving_professional=payload.receiving_professional,
                    repeat_contacts_rationale=payload.repeat_contacts_rationale)
    return created(enquiry_detail(request.user, reference))


@router.post("/enquiries/{reference}/decision/amendments",
             response=responses({201: EnquiryDetailOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(DECIDE)),
             summary="Amend the decision; the earlier version is kept")
@guarded_operation(DECIDE, load=selectors.enquiry, require=DECIDE)
def amend_decision(request, enquiry, reference: Reference, payload: DecisionAmendmentIn):
    services.amend_decision(enquiry, by=request.user, reason=payload.reason, outcome=payload.outcome,
                            rationale=payload.rationale, recipient_type=payload.recipient_type,
                            receiving_team=payload.receiving_team,
                            receiving_professional=payload.receiving_professional,
                            repeat_contacts_rationale=payload.repeat_contacts_rationale)
    return created(enquiry_detail(request.user, reference))


@router.post("/enquiries/{reference}/close", response=responses({200: EnquiryDetailOut}, 400, 404, 409, 422),
             openapi_extra=access(case_policy(CLOSE)), summary="Close a decided enquiry")
@guarded_operation(CLOSE, load=selectors.enquiry, require=CLOSE)
def close(request, enquiry, reference: Reference, payload: NoteIn | None = None):
    services.close(enquiry, by=request.user, note=payload.note if payload else "")
    return enquiry_detail(request.user, reference)


@router.post("/enquiries/{reference}/team", response=responses({201: EnquiryDetailOut}, 400, 404, 409, 422),
             openapi_extra=access(case_policy(ASSIGN)),
             summary="Put a MASH team member on the enquiry (case assignment)")
@guarded_operation(ASSIGN, load=selectors.enquiry, require=ASSIGN)
def assign(request, enquiry, reference: Reference, payload: AssignmentIn):
    services.assign(enquiry, by=request.user, member=payload.member, note=payload.note)
    return created(enquiry_detail(request.user, reference))


@router.post("/enquiries/{reference}/team/ended", response=responses({200: EnquiryDetailOut}, 400, 404, 409, 422),
             openapi_extra=access(case_policy(ASSIGN)),
             summary="Take a MASH team member off the enquiry; the assignment is kept as history")
@guarded_operation(ASSIGN, load=selectors.enquiry, require=ASSIGN)
def end_assignment(request, enquiry, reference: Reference, payload: AssignmentIn):
    services.end_assignment(enquiry, by=request.user, member=payload.member, note=payload.note)
    return enquiry_detail(request.user, reference)
