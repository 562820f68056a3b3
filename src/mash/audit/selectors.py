"""Reading the audit log, for its pages (every such read is itself recorded by the page)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Max, Q, QuerySet

from .models import AuditEvent, Checkpoint, EventPerson, Kind, Seal


def events_about(person_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        id__in=EventPerson.objects.filter(person_id=person_id).values("event_id")).order_by("-id")


def events_by(actor_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(actor_id=actor_id).order_by("-id")


def in_period(qs: QuerySet, since: dt.date | None, until: dt.date | None) -> QuerySet:
    if since:
        qs = qs.filter(at__date__gte=since)
    if until:
        qs = qs.filter(at__date__lte=until)
    return qs


def activity_by_actor(since: dt.date | None = None, until: dt.date | None = None):
    """Each actor's number of events and their latest, for the auditor's list of users."""
    qs = in_period(AuditEvent.objects.exclude(actor_id__isnull=True), since, until)
    return (qs.values("actor_id", "actor", "role", "organisation")
            .annotate(events=Count("id"), denials=Count("id", filter=Q(kind=Kind.DENIAL)), last=Max("at"))
            .order_by("-last"))


def status() -> dict:
    last = Checkpoint.objects.order_by("-count").first()
    sealed = Seal.objects.aggregate(m=Max("position"))["m"] or 0
    return {"events": AuditEvent.objects.count(), "sealed": sealed, "last_checkpoint": last}
