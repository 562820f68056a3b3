"""matches: is this person already known? Ranked candidates for what a partner system or the MASH team is
about to record, within the caller's need-to-know (people.selectors.identity.offers)."""

import datetime as dt

from django.core.exceptions import ValidationError
from ninja import Field, Router, Schema
from pydantic import field_validator

from mash.access.guard import guarded_operation
from mash.access.rules import RECORD_CONTACT
from mash.core.api import InputSchema, access, case_policy, responses

from ..identifiers import normalise_nhs_number, normalise_postcode, normalise_upn
from ..matching import Details
from ..selectors.identity import offers

router = Router(tags=["people"])


def _checked(normalise, value: str) -> str:
    if not (value or "").strip():
        return ""
    try:
        return normalise(value)
    except ValidationError as exc:
        raise ValueError(exc.messages[0]) from None


class MatchIn(InputSchema):
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    date_of_birth: dt.date | None = None
    nhs_number: str = Field("", max_length=20, description="10 digits; spaces allowed")
    upn: str = Field("", max_length=20, description="unique pupil number")
    postcode: str = Field("", max_length=10)

    @field_validator("nhs_number")
    @classmethod
    def _nhs_number(cls, value: str) -> str:
        return _checked(normalise_nhs_number, value)

    @field_validator("upn")
    @classmethod
    def _upn(cls, value: str) -> str:
        return _checked(normalise_upn, value)

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str) -> str:
        return _checked(normalise_postcode, value)

    @field_validator("given_name", "family_name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Enter a name")
        return value.strip()


# Read from an Offer (people.selectors.identity): a candidate as shown to the caller.
class MatchOut(Schema):
    person_id: int
    score: float = Field(description="0 to 1: how likely it is the same person")
    likelihood: str = Field(description="the score in words: Very likely or Possible")
    reasons: list[str] = Field(description="why, in words: same NHS number, similar name, ...")
    conflicts: list[str] = Field(description="what disagrees, e.g. same NHS number but a different date of birth")
    name: str
    date_of_birth: dt.date | None
    postcode: str
    previous_contacts: int = Field(description="contacts about them as a child, among those the caller may see")


@router.post("/people/matches", response=responses({200: list[MatchOut]}, 400, 422),
             openapi_extra=access(case_policy(RECORD_CONTACT)),
             summary="People already known who may be this person, best first, within the caller's need-to-know")
@guarded_operation(RECORD_CONTACT, require=RECORD_CONTACT)
def find_matches(request, payload: MatchIn):
    details = Details(given_name=payload.given_name, family_name=payload.family_name,
                      date_of_birth=payload.date_of_birth, nhs_number=payload.nhs_number, upn=payload.upn,
                      postcode=payload.postcode)
    return offers(request.user, details)
