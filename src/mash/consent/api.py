"""Consent on an enquiry, and sharing without consent, for the MASH team.

Reads go through mash.consent.selectors (the CONSENT part of an enquiry is the team's); changes through
mash.consent.services, which check the policy again.
"""

import datetime as dt
from typing import Annotated

from ninja import Field, Path, Router, Schema

from mash.access.guard import guarded_operation
from mash.access.rules import APPROVE_OVERRIDE, PROPOSE_OVERRIDE, READ_FIELD, RECORD_CONSENT
from mash.cases import selectors as cases
from mash.core.api import MAX_ID, REFERENCE_PATTERN, InputSchema, access, case_policy, created, read, responses

from . import selectors, services
from .models import ConsentRecord

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

    resolve_person_name = read("person.full_name")
    resolve_recorded_by = read("recorded_by.display_name")

    @staticmethod
    def resolve_withdrawn_by(r) -> str | None:
        return r.withdrawn_by.display_name if r.withdrawn_by_id else None


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

    @staticmethod
    def resolve_status_label(o) -> str:
        return o.get_status_display()

    resolve_isa_version = read("isa_version.version")
    resolve_proposed_by = read("proposed_by.display_name")

    @staticmethod
    def resolve_decided_by(o) -> str | None:
        return o.decided_by.display_name if o.decided_by_id else None


class ConsentPositionOut(Schema):
    child_state: str | None = Field(description="the child's current consent: sought, given, refused, "
                                                "not_sought, withdrawn, or null when none is recorded")
    shared_without_consent: bool = Field(description="an approved sharing without consent is on the enquiry")
    records: list[ConsentRecordOut] = Field(description="every consent record, oldest first")
    sharing_without_consent: list[OverrideOut]

    @staticmethod
    def resolve_child_state(position) -> str | None:
        return position.child_record.state if position.child_record else None

    resolve_sharing_without_consent = read("overrides")


def _record(user, reference, record_id):
    return selectors.record_on(user, reference, record_id)[1]


def _override(user, reference, override_id):
    return selectors.override_on(user, reference, override_id)[1]


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
            openapi_extra=access(case_policy(READ_FIELD)),
            summary="Consent on the enquiry, and any sharing without consent (the MASH team)")
@guarded_operation(READ_FIELD, load=cases.enquiry)
def get_consent(request, enquiry, reference: Reference):
    return selectors.consent_position(request.user, enquiry)


@router.post("/enquiries/{reference}/consent", response=responses({201: ConsentRecordOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(RECORD_CONSENT)),
             summary="Record consent: sought, given (with its scope), refused, or not sought (with the reason)")
@guarded_operation(RECORD_CONSENT, load=cases.enquiry, require=RECORD_CONSENT)
def record_consent(request, enquiry, reference: Reference, payload: ConsentIn):
    record = services.record_consent(enquiry, by=request.user, **payload.model_dump())
    return created(ConsentRecord.objects.select_related("person", "recorded_by").get(pk=record.pk))


@router.post("/enquiries/{reference}/consent/{record_id}/withdrawal",
             response=responses({200: ConsentRecordOut}, 400, 404, 409, 422),
             openapi_extra=access(case_policy(RECORD_CONSENT)),
             summary="Record that consent was withdrawn; packages sent on it are withdrawn too")
@guarded_operation(RECORD_CONSENT, load=_record)
def withdraw_consent(request, record, reference: Reference, record_id: RecordId, payload: ConsentWithdrawalIn):
    record = services.withdraw_consent(record, by=request.user, reason=payload.reason)
    return ConsentRecord.objects.select_related("person", "recorded_by", "withdrawn_by").get(pk=record.pk)


@router.post("/enquiries/{reference}/sharing-without-consent",
             response=responses({201: OverrideOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(PROPOSE_OVERRIDE)),
             summary="Record why information must be shared without consent; a manager's record is approved as "
                     "made, a worker's waits for a manager")
@guarded_operation(PROPOSE_OVERRIDE, load=cases.enquiry, require=PROPOSE_OVERRIDE)
def propose_override(request, enquiry, reference: Reference, payload: OverrideIn):
    override = services.propose_override(enquiry, by=request.user, **payload.model_dump())
    return created(override)


@router.post("/enquiries/{reference}/sharing-without-consent/{override_id}/decision",
             response=responses({200: OverrideOut}, 400, 404, 409, 422),
             openapi_extra=access(case_policy(APPROVE_OVERRIDE)),
             summary="A MASH manager approves, or rejects with a reason, sharing without consent")
@guarded_operation(APPROVE_OVERRIDE, load=_override)
def decide_override(request, override, reference: Reference, override_id: OverrideId, payload: OverrideDecisionIn):
    return services.decide_override(override, by=request.user, approve=payload.approve, note=payload.note)
