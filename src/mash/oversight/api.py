"""Reports for the MASH managers and the data protection officer: counts, never a child's data."""

import datetime as dt
from typing import Any

from ninja import Query, Router, Schema

from mash.access import gate
from mash.access.guard import guarded_operation
from mash.access.rules import VIEW_REPORTS
from mash.audit import services as audit
from mash.core.api import access, responses

from . import reports

router = Router(tags=["reports"])


class SharingReportOut(Schema):
    since: dt.date | None
    until: dt.date | None
    without_consent: dict[str, Any]
    requests: dict[str, Any]
    packages: dict[str, Any]
    consent_records: dict[str, int]


@router.get("/reports/sharing", response=responses({200: SharingReportOut}, 404, 422),
            openapi_extra=access(f"reports:{VIEW_REPORTS}"),
            operation_id="mash_reports_api_sharing_report",  # as when it was mash.reports.api: clients keep it
            summary="Sharing without consent, requests to agencies and disclosure packages, counted over a period")
@guarded_operation(VIEW_REPORTS)
def sharing_report(request, since: dt.date | None = Query(None), until: dt.date | None = Query(None)):
    gate.require_audit_reader(request.user, VIEW_REPORTS, "report", "sharing")
    audit.note_read("report", "sharing", (), ("report",))
    return reports.sharing_report(since, until)
