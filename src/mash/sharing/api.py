"""Information requests to partner agencies and each agency's answer (its contribution).

Every read goes through the gate (mash.sharing.selectors), and the output schemas read what the selectors
hand out: a request row, a RequestDetail, and the redacted ContributionViews of `contribution_views()`,
of which a sealed one yields the marker and nothing else.
"""

import datetime as dt
from typing import Annotated, Literal, Union

from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema

from mash.access.guard import guarded_operation
from mash.access.rules import ANSWER_REQUEST, UNSEAL, VIEW_REQUEST
from mash.core.api import MAX_ID, InputSchema, access, case_policy, created, listing, read, responses
from mash.partners import services as isa
from mash.partners.api import CategoryOut  # the ISA's category, as /isa lists it
from mash.sharing import selectors, services

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

    @staticmethod
    def resolve_decision_reason(view) -> str:
        return view.decision_reason or ""

    @staticmethod
    def resolve_lawful_basis(view) -> str:
        return view.lawful_basis or ""


class SealedContributionOut(Schema):
    """Confidential information held by another agency: that it exists, and nothing of what it says."""

    sealed: Literal[True]
    partner_name: str
    recorded_on: dt.date
    confidential_reason_label: str
    marker: str

    @staticmethod
    def resolve_recorded_on(view) -> dt.date:
        return timezone.localdate(view.contributed_at)


# Told apart by `sealed` (each side pins it with a Literal), without an OpenAPI discriminator,
# which must be a string. Each reads a ContributionView (sharing.selectors.contribution_views): a sealed
# view holds the marker's four facts and nothing else.
ContributionEntry = Union[ContributionOut, SealedContributionOut]


def current_agreement():
    """The agreement in force, for category labels; None when none is loaded (labels fall back to ids)."""
    try:
        return isa.current()[1]
    except isa.NoAgreementLoaded:
        return None


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

    @staticmethod
    def resolve_enquiry_reference(req) -> str:
        return req.enquiry.reference or ""

    resolve_enquiry_state = read("enquiry.state")
    resolve_child_name = read("enquiry.child.full_name")

    @staticmethod
    def resolve_status_label(req) -> str:
        return req.get_status_display()

    resolve_requested_by = read("requested_by.display_name")


# Read from a RequestDetail (sharing.selectors.request_detail). (A comment: a docstring would change the
# OpenAPI document.)
class InformationRequestDetailOut(InformationRequestOut):
    child: ChildBrief
    concern: str
    concern_categories: list[str]
    consent_basis: str = Field(description="what asking the agency relied on: consent, or sharing without consent")
    lawful_bases: list[str] = Field(description="the lawful bases the ISA gives this agency")
    permitted_categories: list[CategoryOut] = Field(description="what the ISA allows this agency to share")
    contributions: list[ContributionEntry] = Field(description="this agency's answer, every version, oldest first")


@router.get("/information-requests", response=responses({200: list[InformationRequestOut]}, 422),
            openapi_extra=listing(case_policy(VIEW_REQUEST)),
            summary="Requests the caller may see: a worker's agency's, or all for a MASH manager")
@guarded_operation(VIEW_REQUEST)
def list_requests(request, response: HttpResponse,
                  status: Literal[tuple(RequestStatus.values)] | None = None,  # type: ignore[valid-type]
                  limit: int = Query(100, ge=1, le=500, description="at most this many (X-Total-Count: all)"),
                  offset: int = Query(0, ge=0, le=10_000_000)):
    qs = selectors.information_requests(request.user)
    if status:
        qs = qs.filter(status=status)
    response["X-Total-Count"] = str(qs.count())
    return list(qs.order_by("-requested_at", "-id")[offset:offset + limit])


@router.get("/information-requests/{request_id}", response=responses({200: InformationRequestDetailOut}, 404, 422),
            openapi_extra=access(case_policy(VIEW_REQUEST)), summary="One request, with the agency's answer")
@guarded_operation(VIEW_REQUEST, load=selectors.information_request, keys=("request_id",))
def get_request(request, req, request_id: RequestId):
    return selectors.request_detail(request.user, req, current_agreement())


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


def _answer(user, req, contribution) -> selectors.ContributionView:
    """The answer just given, as the agency reads it (ContributionOut)."""
    views = selectors.contribution_views(user, req.enquiry, current_agreement(), include_superseded=True)
    return next(v for v in views if v.id == contribution.pk)


@router.post("/information-requests/{request_id}/contribution",
             response=responses({201: ContributionOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(ANSWER_REQUEST)), summary="The agency's answer")
@guarded_operation(ANSWER_REQUEST, load=selectors.information_request, keys=("request_id",), require=ANSWER_REQUEST)
def contribute(request, req, request_id: RequestId, payload: ContributionIn):
    contribution = services.contribute(req, by=request.user, **_contribution_args(payload))
    return created(_answer(request.user, req, contribution))


@router.post("/information-requests/{request_id}/contribution/amendments",
             response=responses({201: ContributionOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(ANSWER_REQUEST)),
             summary="A new version of the agency's answer; the earlier one is kept")
@guarded_operation(ANSWER_REQUEST, load=selectors.information_request, keys=("request_id",), require=ANSWER_REQUEST)
def amend_contribution(request, req, request_id: RequestId, payload: ContributionAmendmentIn):
    contribution = services.amend_contribution(req, by=request.user, reason=payload.reason,
                                               **_contribution_args(payload))
    return created(_answer(request.user, req, contribution))


class UnsealIn(InputSchema):
    reason: str = Field(description="why the information can now be shared")
    level: str = Field("restricted", description="who may read it now: restricted (the MASH managers and your "
                                                 "agency) or normal (the MASH team)")


@router.post("/information-requests/{request_id}/contribution/unsealed",
             response=responses({201: ContributionOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(UNSEAL)),
             summary="Lift your agency's seal: a new version with the sealed items readable; only that agency may")
@guarded_operation(UNSEAL, load=selectors.information_request, keys=("request_id",), require=UNSEAL)
def unseal(request, req, request_id: RequestId, payload: UnsealIn):
    contribution = services.unseal(req, by=request.user, reason=payload.reason, level=payload.level)
    return created(_answer(request.user, req, contribution))


def _contribution_args(payload: ContributionIn) -> dict:
    return {
        "kind": payload.kind,
        "decision_reason": payload.decision_reason,
        "lawful_basis": payload.lawful_basis,
        "confidential_reason": payload.confidential_reason,
        "items": [item.model_dump() for item in payload.items],
    }
