"""Subject access requests over the API, for the data protection officer (the same services as the pages)."""

import datetime as dt
from typing import Annotated

from ninja import Path, Router, Schema

from mash.access.guard import guarded_operation
from mash.access.rules import MANAGE_SAR
from mash.audit import services as audit
from mash.core.api import REFERENCE_PATTERN, InputSchema, MAX_ID, access, created, read, responses

from . import selectors, services
from .models import RequesterRelationship
from .pack import build_content, download

router = Router(tags=["subject access requests"])
SAR = access(f"sar:{MANAGE_SAR}")
Reference = Annotated[str, Path(pattern=REFERENCE_PATTERN, description="the request's reference: SAR-2026-0001")]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]


# Read from the request's Clock (selectors.clock_of: its deadline as of today).
class ClockOut(Schema):
    deadline: dt.date
    days_remaining: int
    paused: bool
    paused_days: int
    overdue: bool


# Read from a SubjectAccessRequest: the people it concerns by id, and its clock as of today.
class SarOut(Schema):
    reference: str
    status: str
    requester_name: str
    requester_relationship: str
    received_on: dt.date
    subjects: list[int]
    identity_verified_on: dt.date | None
    extension_months: int
    extension_reason: str
    compiled_at: dt.datetime | None
    responded_on: dt.date | None
    clock: ClockOut

    @staticmethod
    def resolve_subjects(sar) -> list[int]:
        return selectors.subject_ids(sar)

    @staticmethod
    def resolve_clock(sar):
        return selectors.clock_of(sar)


@router.get("/sars", response=responses({200: list[SarOut]}, 404), openapi_extra=SAR,
            summary="Open subject access requests, the most urgent first, with each one's clock")
@guarded_operation(MANAGE_SAR)
def open_requests(request):
    return [s for s, _ in selectors.open_subject_access_requests(request.user)]


class SarIn(InputSchema):
    requester_name: str
    requester_relationship: RequesterRelationship
    requester_contact: str
    received_on: dt.date
    person_ids: list[int]
    description: str = ""
    identity_verified: bool = False
    identity_method: str = ""
    awaiting_identity: bool = False


@router.post("/sars", response=responses({201: SarOut}, 400, 404, 422), openapi_extra=SAR,
             summary="Log a subject access request as received")
@guarded_operation(MANAGE_SAR)
def log_request(request, body: SarIn):
    selectors.subject_access_requests(request.user)
    return created(services.log_request(by=request.user, **body.dict()))


@router.get("/sars/{reference}", response=responses({200: SarOut}, 404, 422), openapi_extra=SAR,
            summary="One subject access request")
@guarded_operation(MANAGE_SAR, load=selectors.subject_access_request)
def get_request(request, sar, reference: Reference):
    return sar


class IdentityIn(InputSchema):
    method: str
    verified_on: dt.date | None = None


@router.post("/sars/{reference}/identity", response=responses({200: SarOut}, 400, 404, 409, 422),
             openapi_extra=SAR, summary="Record that the requester's identity was confirmed (ends an identity pause)")
@guarded_operation(MANAGE_SAR, load=selectors.subject_access_request)
def identity(request, sar, body: IdentityIn, reference: Reference):
    return services.verify_identity(sar, by=request.user, **body.dict())


class PauseIn(InputSchema):
    reason: str
    started_on: dt.date | None = None
    note: str = ""


@router.post("/sars/{reference}/pauses", response=responses({200: SarOut}, 400, 404, 409, 422), openapi_extra=SAR,
             summary="Stop the clock while identity or clarification is awaited")
@guarded_operation(MANAGE_SAR, load=selectors.subject_access_request)
def pause(request, sar, body: PauseIn, reference: Reference):
    services.pause(sar, by=request.user, **body.dict())
    return sar


class ResumeIn(InputSchema):
    ended_on: dt.date | None = None


@router.post("/sars/{reference}/pauses/ended", response=responses({200: SarOut}, 400, 404, 409, 422),
             openapi_extra=SAR, summary="Restart the clock: what was awaited has arrived")
@guarded_operation(MANAGE_SAR, load=selectors.subject_access_request)
def resume(request, sar, body: ResumeIn, reference: Reference):
    services.resume(sar, by=request.user, **body.dict())
    return sar


class ExtensionIn(InputSchema):
    months: int
    reason: str


@router.post("/sars/{reference}/extension", response=responses({200: SarOut}, 400, 404, 409, 422),
             openapi_extra=SAR, summary="Extend a complex request by one or two further months, with the reason")
@guarded_operation(MANAGE_SAR, load=selectors.subject_access_request)
def extension(request, sar, body: ExtensionIn, reference: Reference):
    return services.extend(sar, by=request.user, **body.dict())


class ReasonIn(InputSchema):
    reason: str


@router.post("/sars/{reference}/withdrawal", response=responses({200: SarOut}, 400, 404, 409, 422),
             openapi_extra=SAR, summary="Close the request without a response, with the reason")
@guarded_operation(MANAGE_SAR, load=selectors.subject_access_request)
def withdrawal(request, sar, body: ReasonIn, reference: Reference):
    return services.withdraw(sar, by=request.user, **body.dict())


# Read from a compiled SarItem; `person` is the person's id.
class SarItemOut(Schema):
    id: int
    person: int
    source: str
    source_id: int
    enquiry_reference: str
    title: str
    held_on: dt.date | None
    agency: str
    category: str
    fields: dict[str, str]
    sealed: bool
    social_work: bool
    proposed_redactions: list[str]
    decision: str
    exemption: str
    neither_confirm_nor_deny: bool
    redactions: list[str]
    serious_harm_opinion: str
    reason: str

    resolve_person = read("person_id")


@router.post("/sars/{reference}/compilation", response=responses({200: list[SarItemOut]}, 404, 409, 422),
             openapi_extra=SAR,
             summary="Compile everything held about the people the request concerns, for review")
@guarded_operation(MANAGE_SAR, load=selectors.subject_access_request)
def compilation(request, sar, reference: Reference):
    return services.compile_request(sar, by=request.user)


@router.get("/sars/{reference}/items", response=responses({200: list[SarItemOut]}, 404, 422), openapi_extra=SAR,
            summary="The items compiled, with each one's decision")
@guarded_operation(MANAGE_SAR, load=selectors.subject_access_request)
def items(request, sar, reference: Reference):
    return list(sar.items.all())


class SarItemDecisionIn(InputSchema):
    decision: str
    exemption: str = ""
    reason: str = ""
    redactions: list[str] = []
    neither_confirm_nor_deny: bool = False
    serious_harm_checked: bool = False
    serious_harm_opinion: str = ""


def _compiled_item(user, reference, item_id):
    return selectors.sar_item(user, selectors.subject_access_request(user, reference), item_id)


@router.post("/sars/{reference}/items/{item_id}/decision", response=responses({200: SarItemOut}, 400, 404, 409, 422),
             openapi_extra=SAR, summary="The reviewer's decision on one item: disclose, redact or withhold")
@guarded_operation(MANAGE_SAR, load=_compiled_item)
def decide(request, item, body: SarItemDecisionIn, reference: Reference, item_id: ItemId):
    return services.decide_item(item, by=request.user, **body.dict())


@router.post("/sars/{reference}/pack", response=responses({201: dict}, 404, 409, 422), openapi_extra=SAR,
             summary="Issue the response pack; it never changes afterwards")
@guarded_operation(MANAGE_SAR, load=selectors.subject_access_request)
def issue(request, sar, reference: Reference):
    return created(services.issue_pack(sar, by=request.user).content)


@router.get("/sars/{reference}/pack", response=responses({200: dict}, 404, 422), openapi_extra=SAR,
            summary="The response pack as issued (machine-readable), or a preview while the request is open")
@guarded_operation(MANAGE_SAR, load=selectors.subject_access_request)
def get_pack(request, sar, reference: Reference):
    issued = getattr(sar, "pack", None)
    if issued is not None:
        audit.mark_export()
        return issued.content
    return build_content(sar)


@router.get("/sars/{reference}/pack/pdf", response=responses({200: None}, 404, 409, 422),
            openapi_extra={**SAR, "responses": {200: {"description": "The issued pack as a PDF", "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}},
            summary="The issued response pack as a PDF")
@guarded_operation(MANAGE_SAR, load=selectors.issued_sar_pack)
def get_pack_pdf(request, found, reference: Reference):
    return download(*found, as_pdf=True)
