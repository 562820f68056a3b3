"""/isa and /partners: the agreement in force and the agencies that signed it."""

import datetime as dt

from ninja import Router, Schema

from mash.access.guard import guarded_operation
from mash.core.api import access, responses
from mash.partners import services

router = Router(tags=["isa"])

ISA_POLICY = "isa"


class CategoryOut(Schema):
    id: str
    label: str
    clause: str


class IsaPartnerOut(Schema):
    slug: str
    name: str
    type: str
    lawful_bases: list[str]
    permitted_categories: list[CategoryOut]


class TimescaleOut(Schema):
    rag: str
    hours: int
    clause: str


class LawfulBasisOut(Schema):
    id: str
    clause: str
    description: str


class IsaOut(Schema):
    version: str
    title: str
    effective_from: dt.date
    lawful_bases: list[LawfulBasisOut]
    partners: list[IsaPartnerOut]
    timescales: list[TimescaleOut]


class PartnerOut(Schema):
    slug: str
    name: str
    type: str
    type_label: str


@router.get("/isa", response=responses({200: IsaOut}, 503), openapi_extra=access(ISA_POLICY),
            summary="The Information Sharing Agreement in force")
@guarded_operation(ISA_POLICY)
def current_isa(request):
    version, agreement = services.current()
    doc = agreement.doc
    return {
        "version": version.version,
        "title": version.title,
        "effective_from": version.effective_from,
        "lawful_bases": [{"id": b.id, "clause": b.clause, "description": b.description} for b in doc.lawful_bases],
        "partners": [
            {
                "slug": p.id,
                "name": p.name,
                "type": p.type.value,
                "lawful_bases": list(p.lawful_bases),
                "permitted_categories": [
                    {"id": rule.category, "label": agreement.category_label(rule.category), "clause": rule.clause}
                    for rule in p.contributions
                ],
            }
            for p in doc.partners
        ],
        "timescales": [{"rag": t.rag.value, "hours": t.hours, "clause": t.clause} for t in doc.decision_timescales],
    }


@router.get("/partners", response=responses({200: list[PartnerOut]}, 503), openapi_extra=access(ISA_POLICY),
            summary="The partner agencies that signed the agreement in force")
@guarded_operation(ISA_POLICY)
def partners(request):
    return [
        {"slug": p.slug, "name": p.name, "type": p.partner_type, "type_label": p.get_partner_type_display()}
        for p in services.signatories()
    ]
