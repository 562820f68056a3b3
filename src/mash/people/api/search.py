"""search: finding a person, and a person's summary, over the API (the same selectors as the pages).

`POST /people/search` takes the search in its body, so the names looked for never sit in a URL or a
server log; it answers the people the caller may see who match, closest first. A person outside the
caller's need-to-know is never found, and `GET /people/{person_id}` answers 404 for them exactly as for
an id that is nobody's."""

import datetime as dt
from typing import Annotated

from ninja import Field, Path, Router, Schema

from mash.access.guard import guarded_operation
from mash.access.rules import VIEW_ENQUIRY
from mash.core.api import MAX_ID, InputSchema, access, case_policy, read, responses

from ..selectors import search as selectors

router = Router(tags=["people"])
PersonId = Annotated[int, Path(ge=1, le=MAX_ID, description="the person's id")]


class SearchIn(InputSchema):
    given_name: str = Field("", max_length=100, description="a first name, nickname, previous name or alias: "
                                                            "close spellings are found")
    family_name: str = Field("", max_length=100, description="a last name or previous surname: close spellings "
                                                             "are found")
    date_of_birth: dt.date | None = None
    nhs_number: str = Field("", max_length=20, description="exact; spaces allowed")
    upn: str = Field("", max_length=20, description="unique pupil number, exact")
    postcode: str = Field("", max_length=10, description="the current address's or any recorded address's")


# Read from a selectors.Found.
class PersonFoundOut(Schema):
    person_id: int
    name: str
    date_of_birth: dt.date | None
    postcode: str
    roles: list[str] = Field(description="in the hub, as the caller may know it: Child, Mother, Sibling...")
    score: float | None = Field(description="how closely the name matched, 0 to 1 (null: no name was asked)")
    reasons: list[str]

    resolve_person_id = read("person.pk")
    resolve_name = read("person.full_name")
    resolve_date_of_birth = read("person.date_of_birth")
    resolve_postcode = read("person.postcode")


# Read from a selectors.SearchResult.
class SearchOut(Schema):
    people: list[PersonFoundOut]
    more: bool = Field(description="more people matched than are listed: add details to narrow the search")

    resolve_people = read("found")


# Read from a PersonName.
class NameOut(Schema):
    kind: str
    first_name: str
    last_name: str
    until: dt.date | None


# Read from a PersonAddress.
class AddressOut(Schema):
    address: str
    postcode: str
    from_date: dt.date | None
    to_date: dt.date | None


# Read from a LocalIdentifier.
class IdentifierOut(Schema):
    agency: str
    value: str

    resolve_agency = read("agency.slug")


# Read from a selectors.Related.
class RelatedOut(Schema):
    person_id: int
    name: str
    relationship: str
    lives_with_child: bool
    parental_responsibility: bool
    from_date: dt.date | None
    to_date: dt.date | None

    resolve_person_id = read("person.pk")
    resolve_name = read("person.full_name")


# Read from a selectors.PersonSummary.
class PersonRecordOut(Schema):
    person_id: int
    first_name: str
    last_name: str
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
    roles: list[str]
    names: list[NameOut]
    addresses: list[AddressOut]
    identifiers: list[IdentifierOut]
    household: list[RelatedOut] = Field(description="the people related to this person as a child")
    children: list[RelatedOut] = Field(description="the children this person is related to")

    resolve_person_id = read("person.pk")
    resolve_first_name = read("person.first_name")
    resolve_last_name = read("person.last_name")
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


@router.post("/people/search", response=responses({200: SearchOut}, 400, 403, 422),
             openapi_extra=access(case_policy(VIEW_ENQUIRY)),
             summary="Find people by name (close spellings, nicknames, previous names), date of birth, NHS number, "
                     "unique pupil number or postcode, among those the caller may see")
@guarded_operation(VIEW_ENQUIRY)
def search_people(request, body: SearchIn):
    selectors.require_searcher(request.user)
    return selectors.search_people(request.user, selectors.terms_from(body.dict()))


@router.get("/people/{person_id}", response=responses({200: PersonRecordOut}, 404, 422),
            openapi_extra=access(case_policy(VIEW_ENQUIRY)),
            summary="A person: names, identifiers, addresses and the people related to them, as the caller may "
                    "see them")
@guarded_operation(VIEW_ENQUIRY, load=selectors.person)
def get_person(request, found, person_id: PersonId):
    return selectors.person_summary(request.user, found)
