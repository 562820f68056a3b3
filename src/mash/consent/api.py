"""Consent on an enquiry, and sharing without consent, for the MASH team.

Reads go through mash.access.policy (the CONSENT part of an enquiry is the team's); changes through
mash.consent.services, which check the policy again.
"""

import datetime as dt
from typing import Annotated

from ninja import Field, Path, Router, Schema

from mash.access import policy
from mash.access.guard import guarded_operation
from mash.access.rules import APPROVE_OVERRIDE, PROPOSE_OVERRIDE, READ_FIELD, RECORD_CONSENT
from mash.cases import selectors as cases
from mash.core.api import MAX_ID, REFERENCE_PATTERN, InputSchema, access, case_policy, created, responses

from . import selectors, services
from .models import ConsentOverride, ConsentRecord

router = Router(tags=["consent"])

Reference = Annotated[str, Path(pattern=REFERENCE_PATTERN, description="the enquiry's reference")]
RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="the consent record's id")]
OverrideId = Annotated[int, Path(ge=1, le=MAX_ID, description="the id of the sharing without consent")]


class ConsentRecordOut(Schema):
    id: int
    person_id: int
    person_name: str
    status: str
    state: str = Field(description="the status, or withdrawn")
    state_label: str
    not_sought_reason: str
    given_by: str
    notes: str
    purposes: list[str]
    agencies: list[str]
    recorded_by: str
    recorded_at: dt.datetime
    withdrawn_at: dt.datetime | None
    withdrawn_by: str | None
    withdrawal_reason: str


class OverrideOut(Schema):
    id: int
    status: str
    status_label: str
    justification: str = Field(description="the significant-harm justification")
    lawful_basis: str
    lawful_basis_clause: str
    purposes: list[str]
    isa_version: str
    isa_clause: str
    proposed_by: str
    proposed_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str


class ConsentPositionOut(Schema):
    child_state: str | None = Field(description="the child's current consent: sought, given, refused, "
                                                "not_sought, withdrawn, or null when none is recorded")
    shared_without_consent: bool = Field(description="an approved sharing without consent is on the enquiry")
    records: list[ConsentRecordOut] = Field(description="every consent record, oldest first")
    sharing_without_consent: list[OverrideOut]


def record_out(r: ConsentRecord) -> dict:
    return {"id": r.pk, "person_id": r.person_id, "person_name": r.person.full_name, "status": r.status,
            "state": r.state, "state_label": r.state_label, "not_sought_reason": r.not_sought_reason,
            "given_by": r.given_by, "notes": r.notes, "purposes": list(r.purposes), "agencies": list(r.agencies),
            "recorded_by": r.recorded_by.display_name, "recorded_at": r.recorded_at, "withdrawn_at": r.withdrawn_at,
            "withdrawn_by": r.withdrawn_by.display_name if r.withdrawn_by_id else None,
            "withdrawal_reason": r.withdrawal_reason}


def override_out(o: ConsentOverride) -> dict:
    return {"id": o.pk, "status": o.status, "status_label": o.get_status_display(), "justification": o.justification,
            "lawful_basis": o.lawful_basis, "lawful_basis_clause": o.lawful_basis_clause,
            "purposes": list(o.purposes), "isa_version": o.isa_version.version, "isa_clause": o.isa_clause,
            "proposed_by": o.proposed_by.display_name, "proposed_at": o.proposed_at,
            "decided_by": o.decided_by.display_name if o.decided_by_id else None, "decided_at": o.decided_at,
            "decision_note": o.decision_note}


def _record(user, reference, record_id):
    return selectors.consent_record(user, cases.enquiry(user, reference), record_id)


def _override(user, reference, override_id):
    return selectors.consent_override(user, cases.enquiry(user, reference), override_id)


def position_out(user, enquiry) -> dict:
    found = policy.consent_position(user, enquiry)
    return {"child_state": found.child_record.state if found.child_record else None,
            "shared_without_consent": found.shared_without_consent,
            "records": [record_out(r) for r in found.records],
            "sharing_without_consent": [override_out(o) for o in found.overrides]}


class ConsentIn(InputSchema):
    person_id: int | None = Field(None, ge=1, le=MAX_ID, description="the child (default) or a person around them")
    status: str = Field(description="sought, given, refused or not_sought")
    not_sought_reason: str = Field("", description="for not_sought: risk_to_child, prejudice_investigation or "
                                                   "not_practicable")
    given_by: str = Field("", max_length=200, description="who gave or refused consent")
    notes: str = ""
    purposes: list[str] = Field([], description="for consent given: mash_enquiry and/or onward_disclosure")
    agencies: list[str] = Field([], description="for consent to the MASH enquiry: partner agencies by ISA id")


class ConsentWithdrawalIn(InputSchema):
    reason: str = Field(description="what the person said, or why consent is withdrawn")


class OverrideIn(InputSchema):
    justification: str = Field(description="why the child or an adult may be at risk of significant harm")
    lawful_basis: str = Field(description="a lawful basis the ISA allows for sharing without consent")
    purposes: list[str] = Field(description="mash_enquiry and/or onward_disclosure")


class OverrideDecisionIn(InputSchema):
    approve: bool
    note: str = Field("", description="required when rejecting")


@router.get("/enquiries/{reference}/consent", response=responses({200: ConsentPositionOut}, 404, 422),
            openapi_extra=access(case_policy(policy.READ_FIELD)),
            summary="Consent on the enquiry, and any sharing without consent (the MASH team)")
@guarded_operation(READ_FIELD, load=cases.enquiry)
def get_consent(request, enquiry, reference: Reference):
    return position_out(request.user, enquiry)


@router.post("/enquiries/{reference}/consent", response=responses({201: ConsentRecordOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(policy.RECORD_CONSENT)),
             summary="Record consent: sought, given (with its scope), refused, or not sought (with the reason)")
@guarded_operation(RECORD_CONSENT, load=cases.enquiry, require=RECORD_CONSENT)
def record_consent(request, enquiry, reference: Reference, payload: ConsentIn):
    record = services.record_consent(enquiry, by=request.user, **payload.model_dump())
    return created(record_out(ConsentRecord.objects.select_related("person", "recorded_by").get(pk=record.pk)))


@router.post("/enquiries/{reference}/consent/{record_id}/withdrawal",
             response=responses({200: ConsentRecordOut}, 400, 404, 409, 422),
             openapi_extra=access(case_policy(policy.RECORD_CONSENT)),
             summary="Record that consent was withdrawn; packages sent on it are withdrawn too")
@guarded_operation(RECORD_CONSENT, load=_record)
def withdraw_consent(request, record, reference: Reference, record_id: RecordId, payload: ConsentWithdrawalIn):
    record = services.withdraw_consent(record, by=request.user, reason=payload.reason)
    return record_out(ConsentRecord.objects.select_related("person", "recorded_by", "withdrawn_by").get(pk=record.pk))


@router.post("/enquiries/{reference}/sharing-without-consent",
             response=responses({201: OverrideOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(policy.PROPOSE_OVERRIDE)),
             summary="Record why information must be shared without consent; a manager's record is approved as "
                     "made, a worker's waits for a manager")
@guarded_operation(PROPOSE_OVERRIDE, load=cases.enquiry, require=PROPOSE_OVERRIDE)
def propose_override(request, enquiry, reference: Reference, payload: OverrideIn):
    override = services.propose_override(enquiry, by=request.user, **payload.model_dump())
    return created(override_out(override))


@router.post("/enquiries/{reference}/sharing-without-consent/{override_id}/decision",
             response=responses({200: OverrideOut}, 400, 404, 409, 422),
             openapi_extra=access(case_policy(policy.APPROVE_OVERRIDE)),
             summary="A MASH manager approves, or rejects with a reason, sharing without consent")
@guarded_operation(APPROVE_OVERRIDE, load=_override)
def decide_override(request, override, reference: Reference, override_id: OverrideId, payload: OverrideDecisionIn):
    return override_out(services.decide_override(override, by=request.user, approve=payload.approve,
                                                 note=payload.note))
