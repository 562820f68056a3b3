"""The audit log's pages: who has seen a person's record, what one user did, and CSV of both.

Who may see each page is decided by mash.access.policy (person_for_trail, actor_for_activity);
each page is itself a read the log records, and each CSV an export.
"""

import csv
import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from mash.access import policy
from mash.access.declare import policy as declare
from mash.core.web import csv_cell, translate_errors

from . import services, shown
from .models import Kind

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


def _trail(request, person_id: int):
    """The person (through the gate) and the events about them in the period asked for."""
    subject = policy.person_for_trail(request.user, person_id)
    since, until, errors = _period(request)
    return subject, services.in_period(services.events_about(subject.pk), since, until), errors


def _activity(request, user_id: int):
    """The user (through the gate) and their events in the period asked for."""
    actor = policy.actor_for_activity(request.user, user_id)
    since, until, errors = _period(request)
    return actor, services.in_period(services.events_by(user_id), since, until), errors


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
    services.mark_export()
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


@declare("audit:" + policy.VIEW_PERSON_TRAIL)
@login_required
@require_safe
@translate_errors
def find_person(request):
    """Find a child's record by enquiry reference, to see who has seen it."""
    reference = (request.GET.get("reference") or "").strip()
    error = ""
    if reference:
        try:
            return redirect("audit:person", person_id=policy.child_for_trail(request.user, reference))
        except policy.NotFound:
            error = f"No enquiry has the reference {reference}"
    else:
        policy.require_audit_reader(request.user, policy.VIEW_PERSON_TRAIL)
    return render(request, "audit/find_person.html", {"reference": reference, "error": error},
                  status=404 if error else 200)


@declare("audit:" + policy.VIEW_PERSON_TRAIL)
@login_required
@require_safe
@translate_errors
def person(request, person_id: int):
    """Who has seen (or changed, or shared) this person's record, newest first."""
    subject, events, errors = _trail(request, person_id)
    return render(request, "audit/person.html", {
        "subject": subject, "page": _events_page(request, events), "since": request.GET.get("since", ""),
        "until": request.GET.get("until", ""), "errors": errors, "kinds": dict(Kind.choices)})


@declare("audit:" + policy.VIEW_PERSON_TRAIL)
@login_required
@require_safe
@translate_errors
def person_csv(request, person_id: int):
    subject, events, _ = _trail(request, person_id)
    return _csv(events, f"audit-person-{subject.pk}-{timezone.localdate():%Y-%m-%d}.csv")


@declare("audit:" + policy.VIEW_USER_ACTIVITY)
@login_required
@require_safe
@translate_errors
def users(request):
    """Everyone who has done anything, with how much and when last."""
    policy.activity_list(request.user)
    since, until, errors = _period(request)
    rows = services.activity_by_actor(since, until)
    return render(request, "audit/users.html", {
        "page": _page(request, rows), "since": request.GET.get("since", ""), "until": request.GET.get("until", ""),
        "errors": errors, "status": services.status()})


@declare("audit:" + policy.VIEW_USER_ACTIVITY)
@login_required
@require_safe
@translate_errors
def user(request, user_id: int):
    """One user's activity, newest first."""
    actor, events, errors = _activity(request, user_id)
    kind = request.GET.get("kind", "")
    if kind in Kind.values:
        events = events.filter(kind=kind)
    return render(request, "audit/user.html", {
        "actor": actor, "actor_id": user_id, "page": _events_page(request, events), "since": request.GET.get("since", ""),
        "until": request.GET.get("until", ""), "kind": kind, "errors": errors, "kinds": Kind.choices})


@declare("audit:" + policy.VIEW_USER_ACTIVITY)
@login_required
@require_safe
@translate_errors
def user_csv(request, user_id: int):
    _, events, _ = _activity(request, user_id)
    return _csv(events, f"audit-user-{user_id}-{timezone.localdate():%Y-%m-%d}.csv")
