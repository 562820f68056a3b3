"""The sharing report page: counts of sharing with and without consent, for managers and the DPO."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from mash.access import policy
from mash.access.declare import policy as declare
from mash.audit import services as audit
from mash.core.vocabulary import ConsentStatus
from mash.core.web import translate_errors

from . import services


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip()) if value else None
    except ValueError:
        return None


@declare(f"reports:{policy.VIEW_REPORTS}")
@login_required
@require_safe
@translate_errors
def sharing(request):
    policy.require_audit_reader(request.user, policy.VIEW_REPORTS, "report", "sharing")
    since, until = _date(request.GET.get("since")), _date(request.GET.get("until"))
    errors = [f"'{request.GET[k]}' is not a date: use YYYY-MM-DD" for k in ("since", "until")
              if request.GET.get(k) and _date(request.GET.get(k)) is None]
    audit.note_read("report", "sharing", (), ("report",))
    return render(request, "reports/sharing.html", {
        "report": services.sharing_report(since, until), "since": since, "until": until, "errors": errors,
        "consent_labels": {**dict(ConsentStatus.choices), "withdrawn": "Given, then withdrawn"}},
        status=400 if errors else 200)
