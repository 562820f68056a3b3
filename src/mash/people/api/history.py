"""A person's history: `GET /api/v1/people/{id}/history` (their and their siblings' previous contacts, within the
caller's need-to-know; 404 for a person outside it, as for one who does not exist)."""

import datetime as dt
from typing import Annotated

from ninja import Field, Path, Router, Schema

from mash.access.guard import guarded_operation
from mash.access.rules import VIEW_ENQUIRY
from mash.core.api import MAX_ID, access, case_policy, read, responses

from ..selectors import history as selectors

router = Router(tags=["people"])
PersonId = Annotated[int, Path(ge=1, le=MAX_ID, description="the person's record number")]


# Read from a history Entry: a part the caller does not read on that enquiry is null.
class HistoryEntryOut(Schema):
    reference: str
    person_id: int
    received_at: dt.datetime
    state: str = Field(description="the enquiry's state, in words")
    reporter: str | None = Field(description="who reported, as a kind of reporter in words (never the name)")
    concern_categories: list[str] | None
    rag: str | None
    outcome: str | None = Field(description="the decision's outcome, in words, once decided")

    resolve_person_id = read("child.pk")
    resolve_concern_categories = read("categories")


# Read from a Sibling of the household.
class SiblingOut(Schema):
    person_id: int
    name: str
    date_of_birth: dt.date | None
    how: str = Field(description="recorded as a sibling, or same parent or carer")

    resolve_person_id = read("person.pk")
    resolve_name = read("person.full_name")
    resolve_date_of_birth = read("person.date_of_birth")


# Read from a History (people.selectors.history).
class HistoryOut(Schema):
    person_id: int
    contacts: list[HistoryEntryOut] = Field(description="the person's contacts the caller may view, newest first")
    sibling_contacts: list[HistoryEntryOut]
    siblings: list[SiblingOut]
    months: int = Field(description="the window of recent_contacts (the ISA's repeat-contact window)")
    recent_contacts: int = Field(description="the person's contacts the caller may view received in the window")

    resolve_person_id = read("person.pk")
    resolve_contacts = read("entries")
    resolve_sibling_contacts = read("sibling_entries")
    resolve_siblings = read("household.siblings")
    resolve_recent_contacts = read("recent")


@router.get("/people/{person_id}/history", response=responses({200: HistoryOut}, 404, 422, 503),
            openapi_extra=access(case_policy(VIEW_ENQUIRY)),
            summary="A person's previous contacts and their siblings', within the caller's need-to-know")
@guarded_operation(VIEW_ENQUIRY, load=selectors.person)
def person_history(request, person, person_id: PersonId):
    return selectors.history(request.user, person)
