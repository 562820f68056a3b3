"""Disclosure packages: the manager builds and sends them; a receiving professional reads those addressed
to them, and nothing of the MASH record behind them.

Reads go through mash.disclosure.selectors (`packages`, `package`, `package_content`); changes through
mash.disclosure.services.
"""

import datetime as dt
from typing import Annotated, Any

from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema

from mash.access.guard import guarded_operation, its_enquiry
from mash.access.rules import BUILD_PACKAGE, VIEW_ENQUIRY, VIEW_PACKAGE
from mash.audit import services as audit
from mash.cases import selectors as cases
from mash.core.api import (MAX_ID, REFERENCE_PATTERN, InputSchema, access, case_policy, created, listing, read,
                           responses)

from . import selectors, services
from .models import DisclosurePackage

router = Router(tags=["disclosure packages"])

Reference = Annotated[str, Path(pattern=REFERENCE_PATTERN, description="the enquiry's reference")]
PackageId = Annotated[int, Path(ge=1, le=MAX_ID, description="the disclosure package's id")]


class PackageSummaryOut(Schema):
    id: int
    enquiry_reference: str
    child_name: str
    status: str
    state_label: str = Field(description="Draft, Sent, Withdrawn or Expired")
    recipient_type: str
    addressed_to: str
    sent_at: dt.datetime | None
    expires_at: dt.datetime | None

    resolve_enquiry_reference = read("enquiry_reference_as_sent")
    resolve_child_name = read("child_name_as_sent")


# Read from a PackageRead (disclosure.selectors.package_read). (A comment: a docstring would change the
# OpenAPI document.)
class PackageOut(PackageSummaryOut):
    isa_version: str | None
    isa_clause: str = Field(description="the ISA's onward-disclosure clause it relied on (when sent)")
    lawful_basis: str
    lawful_basis_clause: str
    consent_state: str = Field(description="given, or without_consent (when sent)")
    content: dict[str, Any] = Field(description="exactly what the recipient sees (for a draft: what it would "
                                                "send now)")
    selection: dict[str, Any] | None = Field(description="what the manager chose (the MASH team only)")
    withdrawn_at: dt.datetime | None = None
    withdrawal_reason: str | None = Field(None, description="the MASH team only")

    @staticmethod
    def resolve_isa_version(view) -> str | None:
        return view.isa_version.version if view.isa_version_id else None

    @staticmethod
    def resolve_selection(view):
        return view.selection if view.team else None

    @staticmethod
    def resolve_withdrawn_at(view):
        return view.withdrawn_at if view.team else None

    @staticmethod
    def resolve_withdrawal_reason(view):
        return view.withdrawal_reason if view.team else None


class SelectionIn(InputSchema):
    child: list[str] = Field([], description="date_of_birth, gender, nhs_number, upn, address (the name always goes)")
    decision: list[str] = Field([], description="rationale (the outcome always goes)")
    items: dict[str, list[str]] = Field({}, description="contribution item id -> fields: content (required), "
                                                        "occurred_on, relevance_note")


class PackageIn(InputSchema):
    recipient_type: str = Field(description="social_worker, early_help, school_dsl, health_professional or "
                                            "other_service")
    recipient: str = Field("", description="a receiving professional's username (or give recipient_team)")
    recipient_team: str = Field("", description="a team of receiving professionals (or give recipient)")
    lawful_basis: str = Field("", description="one the ISA's onward-disclosure rule for the recipient allows")
    cover_note: str = ""
    selection: SelectionIn


class PackageWithdrawalIn(InputSchema):
    reason: str


@router.get("/enquiries/{reference}/packages", response=responses({200: list[PackageSummaryOut]}, 404, 422),
            openapi_extra=access(case_policy(VIEW_ENQUIRY)),
            summary="The disclosure packages built from an enquiry (the MASH team)")
@guarded_operation(VIEW_ENQUIRY, load=cases.enquiry)
def enquiry_packages(request, enquiry, reference: Reference):
    return selectors.enquiry_packages(request.user, enquiry)


@router.post("/enquiries/{reference}/packages", response=responses({201: PackageOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(BUILD_PACKAGE)),
             summary="Draft a package of the relevant parts for whoever receives the case")
@guarded_operation(BUILD_PACKAGE, load=cases.enquiry, require=BUILD_PACKAGE)
def create_package(request, enquiry, reference: Reference, payload: PackageIn):
    data = payload.model_dump()
    package = services.create_package(enquiry, by=request.user, **data)
    return created(selectors.package_read(request.user, package))


@router.get("/packages", response=responses({200: list[PackageSummaryOut]}, 422),
            openapi_extra=listing(case_policy(VIEW_PACKAGE)),
            summary="Packages the caller may see: for a receiving professional, the live ones addressed to them")
@guarded_operation(VIEW_PACKAGE)
def list_packages(request, response: HttpResponse,
                  limit: int = Query(100, ge=1, le=500, description="at most this many (X-Total-Count: all)"),
                  offset: int = Query(0, ge=0, le=10_000_000)):
    qs = selectors.packages(request.user)
    response["X-Total-Count"] = str(qs.count())
    return list(qs.order_by("-sent_at", "-id")[offset:offset + limit])


@router.get("/packages/{package_id}", response=responses({200: PackageOut}, 404, 422),
            openapi_extra=access(case_policy(VIEW_PACKAGE)),
            summary="One package: what it says (a draft: what it would send now)")
@guarded_operation(VIEW_PACKAGE, load=selectors.package, keys=("package_id",))
def get_package(request, package, package_id: PackageId):
    return selectors.package_read(request.user, package)


@router.put("/packages/{package_id}", response=responses({200: PackageOut}, 400, 404, 409, 422, 503),
            openapi_extra=access(case_policy(BUILD_PACKAGE)), summary="Change a draft package")
@guarded_operation(BUILD_PACKAGE, load=selectors.package, keys=("package_id",), require=BUILD_PACKAGE, on=its_enquiry)
def update_package(request, package, package_id: PackageId, payload: PackageIn):
    package = services.update_package(package, by=request.user, **payload.model_dump())
    return selectors.package_read(request.user, package)


@router.post("/packages/{package_id}/sent", response=responses({200: PackageOut}, 400, 404, 409, 422, 503),
             openapi_extra=access(case_policy(BUILD_PACKAGE)),
             summary="Send a draft: its content is fixed, with the ISA clause, lawful basis and consent it relies on")
@guarded_operation(BUILD_PACKAGE, load=selectors.package, keys=("package_id",), require=BUILD_PACKAGE, on=its_enquiry)
def send_package(request, package, package_id: PackageId):
    return selectors.package_read(request.user, services.send_package(package, by=request.user))


@router.post("/packages/{package_id}/withdrawal", response=responses({200: PackageOut}, 400, 404, 409, 422),
             openapi_extra=access(case_policy(BUILD_PACKAGE)),
             summary="Withdraw a sent package from its recipient")
@guarded_operation(BUILD_PACKAGE, load=selectors.package, keys=("package_id",), require=BUILD_PACKAGE, on=its_enquiry)
def withdraw_package(request, package, package_id: PackageId, payload: PackageWithdrawalIn):
    sent = services.withdraw_package(package, by=request.user, reason=payload.reason)
    return selectors.package_read(request.user, sent)


@router.get("/packages/{package_id}/pdf", response=responses({200: None}, 404, 422),
            openapi_extra={**access(case_policy(VIEW_PACKAGE)), "responses": {200: {
                "description": "The package as a PDF",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}},
            summary="The package as a PDF, with the reader's name and the date on every page")
@guarded_operation(VIEW_PACKAGE, load=selectors.package, keys=("package_id",))
def package_pdf(request, package, package_id: PackageId):
    return pdf_response(request.user, package)


def pdf_response(user, package: DisclosurePackage) -> HttpResponse:
    """The PDF download (web and API): recorded as an export of the package."""
    from .pdf import render_pdf

    content = selectors.package_content(user, package)
    audit.mark_export()
    body = render_pdf(package, content, user.display_name, timezone.localtime())
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="disclosure-package-{package.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
