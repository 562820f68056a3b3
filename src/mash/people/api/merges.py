"""merges: merging two records of one person, and undoing a merge (MASH managers; anyone else 404).

A merge leaves the merged record as a pointer to the one kept; its enquiries, consent and data key stay
where they are, and what it moved (relationships, agencies' ids, earlier names and addresses) is counted
in `moved`. See mash.people.services.merging."""

import datetime as dt
from typing import Annotated

from ninja import Field, Path, Router, Schema

from mash.access.guard import guarded_operation
from mash.core.api import MAX_ID, InputSchema, access, created, responses

from ..selectors import duplicates as selectors
from ..selectors.duplicates import MERGE_PEOPLE
from ..services import merging

router = Router(tags=["people"])

MergeId = Annotated[int, Path(ge=1, le=MAX_ID, description="the merge's id")]


class MergeIn(InputSchema):
    kept_id: int = Field(ge=1, le=MAX_ID, description="the record everyone will find")
    merged_id: int = Field(ge=1, le=MAX_ID, description="the record merged into it; it stays as a pointer")
    reason: str = Field(description="why the two records are the same person")


class UndoIn(InputSchema):
    reason: str = Field(description="why the merge is undone")


def _count(*labels):
    return staticmethod(lambda m: sum(len(m.moved.get(label) or []) for label in labels))


# Read from a Merge: what it moved to the record kept, counted.
class MovedOut(Schema):
    relationships: int = Field(description="relationships naming the merged record, now naming the record kept")
    local_identifiers: int = Field(description="agencies' own ids")
    names: int = Field(description="earlier names and aliases")
    addresses: int = Field(description="earlier addresses")
    names_added: int = Field(description="the merged record's name, added to the record kept as an alias")
    addresses_added: int = Field(description="the merged record's address, added to the record kept as an earlier one")

    resolve_relationships = _count(merging.REL_CHILD, merging.REL_PERSON)
    resolve_local_identifiers = _count(merging.IDENTIFIERS)
    resolve_names = _count(merging.NAMES)
    resolve_addresses = _count(merging.ADDRESSES)
    resolve_names_added = _count(merging.NAMES_CREATED)
    resolve_addresses_added = _count(merging.ADDRESSES_CREATED)


class MergeOut(Schema):
    id: int
    kept_id: int
    merged_id: int
    merged_at: dt.datetime
    moved: MovedOut
    undone_at: dt.datetime | None = Field(description="when the merge was undone; null while it stands")

    @staticmethod
    def resolve_moved(merge):
        return merge


@router.post("/people/merges", response=responses({201: MergeOut}, 400, 404, 409, 422),
             openapi_extra=access(MERGE_PEOPLE),
             summary="Merge one record of a person into another, with the reason (MASH managers)")
@guarded_operation(MERGE_PEOPLE)
def merge(request, body: MergeIn):
    kept = selectors.person(request.user, body.kept_id)
    merged = selectors.person(request.user, body.merged_id)
    return created(merging.merge_people(kept, merged, reason=body.reason, by=request.user))


@router.post("/people/merges/{merge_id}/undo", response=responses({200: MergeOut}, 400, 404, 409, 422),
             openapi_extra=access(MERGE_PEOPLE),
             summary="Undo a merge, with the reason: exactly what it moved goes back (MASH managers)")
@guarded_operation(MERGE_PEOPLE, load=selectors.merge, keys=("merge_id",))
def undo(request, merge, merge_id: MergeId, body: UndoIn):
    return merging.unmerge(merge, reason=body.reason, by=request.user)
