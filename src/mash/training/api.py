"""Training over the API: your own status, the compliance by agency, and recording a completion."""

import datetime as dt

from ninja import Router, Schema

from mash.access.guard import guarded_operation
from mash.core.api import AUTHENTICATED, InputSchema, access, created, responses

from . import services

router = Router(tags=["training"])


class CompletionOut(Schema):
    id: int
    username: str
    course: str
    completed_on: dt.date
    expires_on: dt.date
    evidence_reference: str
    recorded_by: str | None
    source: str


def _completion(record) -> dict:
    return {"id": record.pk, "username": record.user.username, "course": record.course,
            "completed_on": record.completed_on, "expires_on": services.expires_on(record.completed_on),
            "evidence_reference": record.evidence_reference,
            "recorded_by": record.recorded_by.username if record.recorded_by else None, "source": record.source}


class MyTrainingOut(Schema):
    state: str
    required: bool
    current: bool
    expires_on: dt.date | None
    days_left: int | None
    completions: list[CompletionOut]


@router.get("/training/me", response=responses({200: MyTrainingOut}), openapi_extra=access(AUTHENTICATED),
            summary="Your training refresher: its state (current, expiring, lapsed, never, not_required) and your "
                    "completions")
@guarded_operation(AUTHENTICATED)
def my_training(request):
    status = services.current_status(request.user)
    return {"state": status.state, "required": status.required, "current": status.current,
            "expires_on": status.expires_on, "days_left": status.days_left,
            "completions": [_completion(r) for r in services.own_records(request.user)]}


class StaffOut(Schema):
    username: str
    display_name: str
    role: str
    state: str
    completed_on: dt.date | None
    expires_on: dt.date | None
    days_left: int | None


class AgencyOut(Schema):
    agency: str
    slug: str
    staff: int
    current: int
    expiring: list[StaffOut]
    lapsed: list[StaffOut]
    never: list[StaffOut]


def _staff(row) -> dict:
    return {"username": row.user.username, "display_name": row.user.display_name, "role": row.user.role,
            "state": row.state, "completed_on": row.completed_on, "expires_on": row.expires_on,
            "days_left": row.days_left}


@router.get("/training/compliance", response=responses({200: list[AgencyOut]}),
            openapi_extra=access("training:compliance"),
            summary="By agency: how many staff are current, and who is expiring within 30 days, lapsed or never "
                    "trained (MASH managers and system administrators)")
@guarded_operation("training:compliance")
def compliance(request):
    return [{"agency": a.name, "slug": a.slug, "staff": a.total, "current": len(a.current),
             "expiring": [_staff(r) for r in a.expiring], "lapsed": [_staff(r) for r in a.lapsed],
             "never": [_staff(r) for r in a.never]} for a in services.compliance(request.user)]


class CompletionIn(InputSchema):
    username: str
    course: str
    completed_on: str
    evidence_reference: str


@router.post("/training/records", response=responses({201: CompletionOut}, 400, 422),
             openapi_extra=access("training:record"),
             summary="Record someone's completion (MASH managers and system administrators; not your own)")
@guarded_operation("training:record")
def record_completion(request, body: CompletionIn):
    return created(_completion(services.record_completion(by=request.user, **body.dict())))
