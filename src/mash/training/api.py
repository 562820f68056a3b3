"""Training over the API: your own status, the compliance by agency, and recording a completion."""

import datetime as dt

from ninja import Router, Schema

from mash.access.guard import guarded_operation
from mash.core.api import AUTHENTICATED, InputSchema, access, created, read, responses

from . import services

router = Router(tags=["training"])


# Read from a TrainingRecord.
class CompletionOut(Schema):
    id: int
    username: str
    course: str
    completed_on: dt.date
    expires_on: dt.date
    evidence_reference: str
    recorded_by: str | None
    source: str

    resolve_username = read("user.username")

    @staticmethod
    def resolve_expires_on(record) -> dt.date:
        return services.expires_on(record.completed_on)

    @staticmethod
    def resolve_recorded_by(record) -> str | None:
        return record.recorded_by.username if record.recorded_by else None


# Read from the caller's OwnTraining: their Status today, and their completions.
class MyTrainingOut(Schema):
    state: str
    required: bool
    current: bool
    expires_on: dt.date | None
    days_left: int | None
    completions: list[CompletionOut]

    resolve_state = read("status.state")
    resolve_required = read("status.required")
    resolve_current = read("status.current")
    resolve_expires_on = read("status.expires_on")
    resolve_days_left = read("status.days_left")


@router.get("/training/me", response=responses({200: MyTrainingOut}), openapi_extra=access(AUTHENTICATED),
            summary="Your training refresher: its state (current, expiring, lapsed, never, not_required) and your "
                    "completions")
@guarded_operation(AUTHENTICATED)
def my_training(request):
    return services.own_training(request.user)


# Read from a StaffStatus: the member of staff, and their refresher's state.
class StaffOut(Schema):
    username: str
    display_name: str
    role: str
    state: str
    completed_on: dt.date | None
    expires_on: dt.date | None
    days_left: int | None

    resolve_username = read("user.username")
    resolve_display_name = read("user.display_name")
    resolve_role = read("user.role")


# Read from an AgencyCompliance: its staff counted, and those expiring, lapsed or never trained listed.
class AgencyOut(Schema):
    agency: str
    slug: str
    staff: int
    current: int
    expiring: list[StaffOut]
    lapsed: list[StaffOut]
    never: list[StaffOut]

    resolve_agency = read("name")
    resolve_staff = read("total")

    @staticmethod
    def resolve_current(group) -> int:
        return len(group.current)


@router.get("/training/compliance", response=responses({200: list[AgencyOut]}),
            openapi_extra=access("training:compliance"),
            summary="By agency: how many staff are current, and who is expiring within 30 days, lapsed or never "
                    "trained (MASH managers and system administrators)")
@guarded_operation("training:compliance")
def compliance(request):
    return services.compliance(request.user)


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
    return created(services.record_completion(by=request.user, **body.dict()))
