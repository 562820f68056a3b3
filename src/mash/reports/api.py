"""Reports for the MASH managers and the data protection officer: counts, never a child's data."""

import datetime as dt
from typing import Any

from ninja import Query, Router, Schema

from mash.access import policy
from mash.audit import services as audit
from mash.core.api import access, responses

from . import services

router = Router(tags=["reports"])


class SharingReportOut(Schema):
    since: dt.date | None
    until: dt.date | None
    without_consent: dict[str, Any]
    requests: dict[str, Any]
    packages: dict[str, Any]
    consent_records: dict[str, int]


@router.get("/reports/sharing", response=responses({200: SharingReportOut}, 404, 422),
            openapi_extra=access(f"reports:{policy.VIEW_REPORTS}"),
            summary="Sharing without consent, requests to agencies and disclosure packages, counted over a period")
def sharing_report(request, since: dt.date | None = Query(None), until: dt.date | None = Query(None)):
    policy.require_audit_reader(request.user, policy.VIEW_REPORTS, "report", "sharing")
    audit.note_read("report", "sharing", (), ("report",))
    return services.sharing_report(since, until)
