"""The oversight pages: the audit log's (who has seen a person's record, what one user did, and CSV of
both) and the sharing report (counts of sharing with and without consent, for managers and the DPO).

Who may see each page is decided through the gate (mash.oversight.selectors: person_for_trail,
actor_for_activity; mash.access.gate.require_audit_reader); each page is itself a read the log records,
and each CSV an export.
"""

import csv
import datetime as dt

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from mash.access import gate
from mash.access.guard import SAFE, guarded
from mash.access.rules import VIEW_PERSON_TRAIL, VIEW_REPORTS, VIEW_USER_ACTIVITY
from mash.audit import selectors as log
from mash.audit import services as audit
from mash.audit import shown
from mash.audit.models import Kind
from mash.core.errors import NotFound
from mash.core.vocabulary import ConsentStatus
from mash.core.web import csv_cell, translate_errors

from . import reports, selectors

COLUMNS = ["Event", "When (UTC)", "Who", "Role", "Organisation", "From", "What", "Action", "Result", "Object",
           "References", "Parts", "Purpose", "Detail"]


def _period(request) -> tuple[dt.date | None, dt.date | None, list[str]]:
    errors, dates = [], []
    for name, label in (("since", "From"), ("until", "To")):
        raw = (request.GET.get(name) or "").strip()
        if not raw:
            dates.append(None)
            continue
        try:
            dates.append(dt.date.fromisoformat(raw))
        except ValueError:
            errors.append(f"{label}: enter a date as YYYY-MM-DD, for example {timezone.localdate():%Y-%m-%d}")
            dates.append(None)
    return dates[0], dates[1], errors


def _trail(request, subject):
    """The events about the person (reached through the gate) in the period asked for."""
    since, until, errors = _period(request)
    return subject, log.in_period(log.events_about(subject.pk), since, until), errors


def _actor(user, user_id: int):
    """The user whose activity is asked for, through the gate (None for someone known only to the log),
    and their id."""
    return selectors.actor_for_activity(user, user_id), user_id


def _activity(request, user_id: int):
    """Their events in the period asked for."""
    since, until, errors = _period(request)
    return log.in_period(log.events_by(user_id), since, until), errors


def _page(request, qs):
    return Paginator(qs, 100).get_page(request.GET.get("page"))


def _events_page(request, events):
    """A page of events, each with the references the page may show (`audit.shown`)."""
    page = _page(request, events)
    page.object_list = list(page.object_list)
    for e in page.object_list:
        e.shown_ref = shown.object_ref(e)
    return page


def _csv(events, filename: str) -> HttpResponse:
    audit.mark_export()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow(COLUMNS)
    kinds = dict(Kind.choices)
    for e in events.iterator(chunk_size=1000):
        writer.writerow([csv_cell(str(v)) for v in (
            e.id, f"{e.at.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M:%S}", e.actor, e.role, e.organisation, e.ip,
            kinds.get(e.kind, e.kind), e.action, e.result, e.object_type, shown.object_ref(e), " ".join(e.fields or []),
            e.purpose, e.detail)])
    return response


@guarded(VIEW_PERSON_TRAIL, methods=SAFE)
@translate_errors
def find_person(request):
    """Find a child's record by enquiry reference, to see who has seen it."""
    reference = (request.GET.get("reference") or "").strip()
    error = ""
    if reference:
        try:
            return redirect("audit:person", person_id=selectors.child_for_trail(request.user, reference))
        except NotFound:
            error = f"No enquiry has the reference {reference}"
    else:
        gate.require_audit_reader(request.user, VIEW_PERSON_TRAIL)
    return render(request, "audit/find_person.html", {"reference": reference, "error": error},
                  status=404 if error else 200)


@guarded(VIEW_PERSON_TRAIL, load=selectors.person_for_trail, methods=SAFE)
@translate_errors
def person(request, subject):
    """Who has seen (or changed, or shared) this person's record, newest first."""
    subject, events, errors = _trail(request, subject)
    return render(request, "audit/person.html", {
        "subject": subject, "page": _events_page(request, events), "since": request.GET.get("since", ""),
        "until": request.GET.get("until", ""), "errors": errors, "kinds": dict(Kind.choices)})


@guarded(VIEW_PERSON_TRAIL, load=selectors.person_for_trail, methods=SAFE)
@translate_errors
def person_csv(request, subject):
    subject, events, _ = _trail(request, subject)
    return _csv(events, f"audit-person-{subject.pk}-{timezone.localdate():%Y-%m-%d}.csv")


@guarded(VIEW_USER_ACTIVITY, methods=SAFE)
@translate_errors
def users(request):
    """Everyone who has done anything, with how much and when last."""
    selectors.activity_list(request.user)
    since, until, errors = _period(request)
    rows = log.activity_by_actor(since, until)
    return render(request, "audit/users.html", {
        "page": _page(request, rows), "since": request.GET.get("since", ""), "until": request.GET.get("until", ""),
        "errors": errors, "status": log.status()})


@guarded(VIEW_USER_ACTIVITY, load=_actor, methods=SAFE)
@translate_errors
def user(request, found):
    """One user's activity, newest first."""
    actor, user_id = found
    events, errors = _activity(request, user_id)
    kind = request.GET.get("kind", "")
    if kind in Kind.values:
        events = events.filter(kind=kind)
    return render(request, "audit/user.html", {
        "actor": actor, "actor_id": user_id, "page": _events_page(request, events), "since": request.GET.get("since", ""),
        "until": request.GET.get("until", ""), "kind": kind, "errors": errors, "kinds": Kind.choices})


@guarded(VIEW_USER_ACTIVITY, load=_actor, methods=SAFE)
@translate_errors
def user_csv(request, found):
    _, user_id = found
    events, _ = _activity(request, user_id)
    return _csv(events, f"audit-user-{user_id}-{timezone.localdate():%Y-%m-%d}.csv")


# --- The sharing report ------------------------------------------------------------------------------

def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip()) if value else None
    except ValueError:
        return None


@guarded(VIEW_REPORTS, methods=SAFE)
@translate_errors
def sharing(request):
    gate.require_audit_reader(request.user, VIEW_REPORTS, "report", "sharing")
    since, until = _date(request.GET.get("since")), _date(request.GET.get("until"))
    errors = [f"'{request.GET[k]}' is not a date: use YYYY-MM-DD" for k in ("since", "until")
              if request.GET.get(k) and _date(request.GET.get(k)) is None]
    audit.note_read("report", "sharing", (), ("report",))
    return render(request, "reports/sharing.html", {
        "report": reports.sharing_report(since, until), "since": since, "until": until, "errors": errors,
        "consent_labels": {**dict(ConsentStatus.choices), "withdrawn": "Given, then withdrawn"}},
        status=400 if errors else 200)
