"""chronology: the person index API. `GET /people/{person_id}/chronology`: every event of the child's
enquiries the caller may view, oldest first, as the gate lets them read it (mash.people.selectors.chronology),
filtered by agency and kind of event. A merged record answers for the record it was merged into, and says so."""

import datetime as dt
from typing import Annotated

from ninja import Field, Path, Query, Router, Schema

from mash.access.guard import guarded_operation
from mash.access.rules import VIEW_ENQUIRY
from mash.core.api import MAX_ID, access, case_policy, read, responses

from ..selectors import chronology as selectors

router = Router(tags=["people"])

PersonId = Annotated[int, Path(ge=1, le=MAX_ID, description="the person's id")]


class ChronologyItemOut(Schema):
    category: str = Field(description="the ISA data category, in words")
    occurred_on: dt.date | None
    content: str
    confidentiality: str = Field(description="empty for a normal item, else Restricted or Sealed (the "
                                             "caller's own agency's)")


class ChronologyEventOut(Schema):
    at: dt.datetime
    kind: str = Field(description="contact, rating, request, answer, decision, package or consent")
    kind_label: str
    agency: str = Field(description="the agency that acted, where one did (its name)")
    agency_id: str = Field(description="the agency's ISA id, where one acted")
    enquiry_reference: str
    text: str
    detail: str = Field(description="a rationale or reason, only where the caller may read it")
    items: list[ChronologyItemOut] = Field(description="an agency answer's items the caller reads")
    markers: list[str] = Field(description="items held that the caller may not read: only that they are held")

    resolve_agency_id = read("agency_slug")
    resolve_enquiry_reference = read("reference")


# Read from a Chronology (people.selectors.chronology). (A comment: a docstring would change the OpenAPI
# document.)
class ChronologyOut(Schema):
    person_id: int = Field(description="the person whose chronology this is")
    asked_for: int = Field(description="the id asked for: another, merged into person_id, when it differs")
    merged: bool = Field(description="the id asked for was merged into person_id: this is person_id's chronology")
    child_name: str
    enquiries: list[str] = Field(description="the references of the child's enquiries the caller may view")
    agency: str | None = Field(description="the agency filter (ISA id), if any")
    kind: str | None = Field(description="the kind filter, if any")
    events: list[ChronologyEventOut]

    resolve_person_id = read("person.pk")
    resolve_asked_for = read("child.asked_id")
    resolve_merged = read("child.merged")
    resolve_child_name = read("person.full_name")
    resolve_enquiries = read("references")

    @staticmethod
    def resolve_agency(obj) -> str | None:
        return obj.agency.slug if obj.agency else None

    @staticmethod
    def resolve_kind(obj) -> str | None:
        return obj.kind or None


@router.get("/people/{person_id}/chronology", response=responses({200: ChronologyOut}, 400, 404, 422),
            openapi_extra=access(case_policy(VIEW_ENQUIRY)),
            summary="A child's chronology: every event of their enquiries the caller may view, oldest first")
@guarded_operation(VIEW_ENQUIRY, load=selectors.child_records, keys=("person_id",))
def get_chronology(request, child, person_id: PersonId,
                   agency: str = Query("", max_length=80, description="only this agency's events (its ISA id)"),
                   kind: str = Query("", max_length=20, description="only events of this kind: "
                                                                   + ", ".join(selectors.KINDS))):
    return selectors.chronology(request.user, child, agency=agency.strip(), kind=kind.strip())
