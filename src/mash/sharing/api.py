"""Information requests to partner agencies and each agency's answer (its contribution).

Every read goes through mash.access.policy. Contributions are serialised from the redacted views
`policy.contribution_views()` hands out: a sealed view yields the marker and nothing else.
"""

import datetime as dt
from typing import Annotated, Literal, Union

from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema

from mash.access import policy
from mash.core.api import MAX_ID, InputSchema, access, case_policy, created, listing, responses
from mash.partners import services as isa
from mash.partners.api import CategoryOut  # the ISA's category, as /isa lists it
from mash.sharing import services

from .models import RequestStatus

router = Router(tags=["information requests"])

RequestId = Annotated[int, Path(ge=1, le=MAX_ID, description="the information request's id")]


# --- Contributions --------------------------------------------------------------------------

class AttachmentBrief(Schema):
    id: int = Field(description="download it from /attachments/{id}")
    filename: str
    content_type: str
    size: int


class ItemOut(Schema):
    id: int = Field(description="attach a file to it at /items/{id}/attachments (your agency's current answer)")
    category: str
    category_label: str
    content: str
    relevance_note: str
    occurred_on: dt.date | None
    confidentiality: str
    isa_clause: str = Field(description="the ISA clause that permits sharing this category")
    attachments: list[AttachmentBrief] = []


class ContributionOut(Schema):
    """A contribution the caller may read."""

    sealed: Literal[False]
    id: int
    partner_name: str
    partner_slug: str
    kind: str
    kind_label: str
    version: int
    contributed_at: dt.datetime
    contributed_by: str
    isa_version: str = Field(description="the version of the ISA the share relied on")
    confidential_reason: str
    confidential_reason_label: str
    decision_reason: str
    lawful_basis: str
    unsealed: bool = Field(description="this version was made by the agency lifting its own seal")
    amendment_reason: str = Field(description="why this version was made (an amendment, or lifting a seal); empty "
                                              "for a first version and for whoever may not read it (docs/access.md)")
    items: list[ItemOut]
    withheld_items: int = Field(description="items sealed to the contributing agency, not shown")


class SealedContributionOut(Schema):
    """Confidential information held by another agency: that it exists, and nothing of what it says."""

    sealed: Literal[True]
    partner_name: str
    recorded_on: dt.date
    confidential_reason_label: str
    marker: str


# Told apart by `sealed` (each side pins it with a Literal), without an OpenAPI discriminator,
# which must be a string.
ContributionEntry = Union[ContributionOut, SealedContributionOut]


def contribution_out(view: policy.ContributionView) -> dict:
    """Serialise one redacted view. For a sealed view only the marker's four facts are copied."""
    if view.sealed:
        return {
            "sealed": True,
            "partner_name": view.partner_name,
            "recorded_on": timezone.localdate(view.contributed_at),
            "confidential_reason_label": view.confidential_reason_label,
            "marker": view.marker,
        }
    return {
        "sealed": False,
        "id": view.id,
        "partner_name": view.partner_name,
        "partner_slug": view.partner_slug,
        "kind": view.kind,
        "kind_label": view.kind_label,
        "version": view.version,
        "contributed_at": view.contributed_at,
        "contributed_by": view.contributed_by,
        "isa_version": view.isa_version,
        "confidential_reason": view.confidential_reason,
        "confidential_reason_label": view.confidential_reason_label,
        "decision_reason": view.decision_reason or "",
        "lawful_basis": view.lawful_basis or "",
        "unsealed": view.unsealed,
        "amendment_reason": view.amendment_reason,
        "items": [
            {
                "id": i.id,
                "category": i.category,
                "category_label": i.category_label,
                "content": i.content,
                "relevance_note": i.relevance_note,
                "occurred_on": i.occurred_on,
                "confidentiality": i.confidentiality,
                "isa_clause": i.isa_clause,
                "attachments": [{"id": a.id, "filename": a.filename, "content_type": a.content_type,
                                 "size": a.size} for a in i.attachments],
            }
            for i in view.items
        ],
        "withheld_items": view.withheld_items,
    }


def current_agreement():
    """The agreement in force, for category labels; None when none is loaded (labels fall back to ids)."""
    try:
        return isa.current()[1]
    except isa.NoAgreementLoaded:
        return None


def contributions_out(user, enquiry, *, include_superseded=False, partner_slug: str | None = None) -> list[dict]:
    views = policy.contribution_views(user, enquiry, current_agreement(), include_superseded=include_superseded)
    if partner_slug is not None:
        views = [v for v in views if v.partner_slug == partner_slug]
    return [contribution_out(v) for v in views]


# --- Requests -------------------------------------------------------------------------------

class AgencyRef(Schema):
    slug: str
    name: str


class ChildBrief(Schema):
    full_name: str
    date_of_birth: dt.date | None
    gender: str
    nhs_number: str
    upn: str
    address: str
    postcode: str


class InformationRequestOut(Schema):
    id: int
    enquiry_reference: str
    enquiry_state: str
    child_name: str
    partner: AgencyRef
    question: str
    status: str
    status_label: str
    requested_at: dt.datetime
    requested_by: str


class InformationRequestDetailOut(InformationRequestOut):
    child: ChildBrief
    concern: str
    concern_categories: list[str]
    consent_basis: str = Field(description="what asking the agency relied on: consent, or sharing without consent")
    lawful_bases: list[str] = Field(description="the lawful bases the ISA gives this agency")
    permitted_categories: list[CategoryOut] = Field(description="what the ISA allows this agency to share")
    contributions: list[ContributionEntry] = Field(description="this agency's answer, every version, oldest first")


def request_out(req) -> dict:
    enquiry = req.enquiry
    return {
        "id": req.pk,
        "enquiry_reference": enquiry.reference or "",
        "enquiry_state": enquiry.state,
        "child_name": enquiry.child.full_name,
        "partner": {"slug": req.partner.slug, "name": req.partner.name},
        "question": req.question,
        "status": req.status,
        "status_label": req.get_status_display(),
        "requested_at": req.requested_at,
        "requested_by": req.requested_by.display_name,
    }


def request_detail_out(user, req) -> dict:
    enquiry = req.enquiry
    # Whoever may see a request may read the child and the concern (policy.FIELDS); checked all the same.
    policy.require(user, policy.READ_FIELD, enquiry, policy.CHILD)
    policy.require(user, policy.READ_FIELD, enquiry, policy.CONCERN)
    child = enquiry.child
    contact = enquiry.contact
    agreement = current_agreement()
    entry = agreement.partner(req.partner.slug) if agreement else None
    data = request_out(req)
    data.update(
        child={
            "full_name": child.full_name,
            "date_of_birth": child.date_of_birth,
            "gender": child.gender,
            "nhs_number": child.nhs_number,
            "upn": child.upn,
            "address": child.address,
            "postcode": child.postcode,
        },
        concern=contact.concern,
        concern_categories=list(contact.concern_categories),
        consent_basis=req.consent_basis,
        lawful_bases=list(entry.lawful_bases) if entry else [],
        permitted_categories=[
            {"id": rule.category, "label": agreement.category_label(rule.category), "clause": rule.clause}
            for rule in entry.contributions
        ] if entry else [],
        contributions=contributions_out(user, enquiry, include_superseded=True, partner_slug=req.partner.slug),
    )
    return data


@router.get("/information-requests", response=responses({200: list[InformationRequestOut]}, 422),
            openapi_extra=listing(case_policy(policy.VIEW_REQUEST)),
            summary="Requests the caller may see: a worker's agency's, or all for a MASH manager")
def list_requests(request, response: HttpResponse,
                  status: Literal[tuple(RequestStatus.values)] | None = None,  # type: ignore[valid-type]
                  limit: int = Query(100, ge=1, le=500, description="at most this many (X-Total-Count: all)"),
                  offset: int = Query(0, ge=0, le=10_000_000)):
    qs = policy.information_requests(request.user)
    if status:
        qs = qs.filter(status=status)
    response["X-Total-Count"] = str(qs.count())
    return [request_out(r) for r in qs.order_by("-requested_at", "-id")[offset:offset + limit]]


@router.get("/information-requests/{request_id}", response=responses({200: InformationRequestDetailOut}, 404, 422),
            openapi_extra=access(case_policy(policy.VIEW_REQUEST)), summary="One request, with the agency's answer")
def get_request(request, request_id: RequestId):
    req = policy.information_request(request.user, request_id)
    return request_detail_out(request.user, req)


class ItemIn(InputSchema):
    category: str = Field(description="an ISA data category this agency may share")
    content: str = ""
    relevance_note: str = ""
    occurred_on: dt.date | None = None
    confidentiality: str = Field("normal", description="normal, restricted or sealed")


class ContributionIn(InputSchema):
    kind: str = Field(description="share, decline or confidential_held")
    decision_reason: str = Field(description="why the agency shares, declines or holds back")
    lawful_basis: str = ""
    confidential_reason: str = ""
    items: list[ItemIn] = []


class ContributionAmendmentIn(ContributionIn):
    reason: str = Field(description="why the answer is being amended")


def _answer_out(user, req, contribution) -> dict:
    views = policy.contribution_views(user, req.enquiry, current_agreement(), include_superseded=True)
    view = next(v for v in views if v.id == contribution.pk)
    return contribution_out(view)


@router.post("/information-requests/{request_id}/contribution",
             response=responses({201: ContributionOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(policy.ANSWER_REQUEST)), summary="The agency's answer")
def contribute(request, request_id: RequestId, payload: ContributionIn):
    req = policy.information_request(request.user, request_id)
    contribution = services.contribute(req, by=request.user, **_contribution_args(payload))
    return created(_answer_out(request.user, req, contribution))


@router.post("/information-requests/{request_id}/contribution/amendments",
             response=responses({201: ContributionOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(policy.ANSWER_REQUEST)),
             summary="A new version of the agency's answer; the earlier one is kept")
def amend_contribution(request, request_id: RequestId, payload: ContributionAmendmentIn):
    req = policy.information_request(request.user, request_id)
    contribution = services.amend_contribution(req, by=request.user, reason=payload.reason,
                                               **_contribution_args(payload))
    return created(_answer_out(request.user, req, contribution))


class UnsealIn(InputSchema):
    reason: str = Field(description="why the information can now be shared")
    level: str = Field("restricted", description="who may read it now: restricted (the MASH managers and your "
                                                 "agency) or normal (the MASH team)")


@router.post("/information-requests/{request_id}/contribution/unsealed",
             response=responses({201: ContributionOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(policy.UNSEAL)),
             summary="Lift your agency's seal: a new version with the sealed items readable; only that agency may")
def unseal(request, request_id: RequestId, payload: UnsealIn):
    req = policy.information_request(request.user, request_id)
    contribution = services.unseal(req, by=request.user, reason=payload.reason, level=payload.level)
    return created(_answer_out(request.user, req, contribution))


def _contribution_args(payload: ContributionIn) -> dict:
    return {
        "kind": payload.kind,
        "decision_reason": payload.decision_reason,
        "lawful_basis": payload.lawful_basis,
        "confidential_reason": payload.confidential_reason,
        "items": [item.model_dump() for item in payload.items],
    }
