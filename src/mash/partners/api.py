"""/isa and /partners: the agreement in force and the agencies that signed it."""

import datetime as dt

from ninja import Router, Schema

from mash.access.guard import guarded_operation
from mash.core.api import access, read, responses
from mash.partners import selectors, services

router = Router(tags=["isa"])

ISA_POLICY = "isa"


# Read from a PermittedCategory (selectors.AgreementInForce), or a dict with the same keys.
class CategoryOut(Schema):
    id: str
    label: str
    clause: str


# Read from a PartnerTerms: the partner's entry in the agreement and the categories it may share.
class IsaPartnerOut(Schema):
    slug: str
    name: str
    type: str
    lawful_bases: list[str]
    permitted_categories: list[CategoryOut]

    resolve_slug = read("entry.id")
    resolve_name = read("entry.name")

    @staticmethod
    def resolve_type(terms) -> str:
        return terms.entry.type.value

    @staticmethod
    def resolve_lawful_bases(terms) -> list[str]:
        return list(terms.entry.lawful_bases)


# Read from a decision timescale of the agreement.
class TimescaleOut(Schema):
    rag: str
    hours: int
    clause: str

    @staticmethod
    def resolve_rag(timescale) -> str:
        return timescale.rag.value


# Read from a lawful basis of the agreement.
class LawfulBasisOut(Schema):
    id: str
    clause: str
    description: str


# Read from the AgreementInForce: the version's row, and what its document says.
class IsaOut(Schema):
    version: str
    title: str
    effective_from: dt.date
    lawful_bases: list[LawfulBasisOut]
    partners: list[IsaPartnerOut]
    timescales: list[TimescaleOut]

    resolve_version = read("version.version")
    resolve_title = read("version.title")
    resolve_effective_from = read("version.effective_from")
    resolve_lawful_bases = read("agreement.doc.lawful_bases")
    resolve_timescales = read("agreement.doc.decision_timescales")


# Read from a Partner row.
class PartnerOut(Schema):
    slug: str
    name: str
    type: str
    type_label: str

    resolve_type = read("partner_type")

    @staticmethod
    def resolve_type_label(partner) -> str:
        return partner.get_partner_type_display()


@router.get("/isa", response=responses({200: IsaOut}, 503), openapi_extra=access(ISA_POLICY),
            summary="The Information Sharing Agreement in force")
@guarded_operation(ISA_POLICY)
def current_isa(request):
    return selectors.agreement_in_force()


@router.get("/partners", response=responses({200: list[PartnerOut]}, 503), openapi_extra=access(ISA_POLICY),
            summary="The partner agencies that signed the agreement in force")
@guarded_operation(ISA_POLICY)
def partners(request):
    return list(services.signatories())
