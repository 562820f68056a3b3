"""Reading subject access requests: only the data protection officer reaches them (the gate's
MANAGE_SAR); each read names the people a request concerns in the audit log."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from mash.access import gate
from mash.access.rules import MANAGE_SAR
from mash.audit import services as audit
from mash.core.errors import NotFound
from mash.people.models import Person, PersonName
from mash.people.selectors import live_people

from . import clock as sar_clock
from .models import SarStatus, SubjectAccessRequest


def subject_ids(sar) -> list[int]:
    return list(sar.subjects.values_list("person_id", flat=True))


def clock_of(sar: SubjectAccessRequest, today: dt.date | None = None) -> sar_clock.Clock:
    pauses = tuple((p.started_on, p.ended_on) for p in sar.pauses.all())
    return sar_clock.Clock(received_on=sar.received_on, extension_months=sar.extension_months, pauses=pauses,
                           today=today or timezone.localdate(), responded_on=sar.responded_on)


def open_requests(today: dt.date | None = None) -> list[tuple[SubjectAccessRequest, sar_clock.Clock]]:
    """Open requests, the most urgent first (paused ones after the running ones)."""
    rows = [(sar, clock_of(sar, today)) for sar in
            SubjectAccessRequest.objects.filter(status=SarStatus.OPEN).prefetch_related("pauses", "subjects__person")]
    return sorted(rows, key=lambda r: (r[1].paused, r[1].deadline, r[0].pk))


# --- Through the gate ------------------------------------------------------------------------------


def subject_access_requests(user):
    """Every request, for the data protection officer; NotFound (recorded) for anyone else."""
    gate.require_audit_reader(user, MANAGE_SAR, "sar", "*")
    return SubjectAccessRequest.objects.all()


def subject_access_request(user, reference: str):
    """One request, by its reference. A request names people and holds what was compiled about them:
    only the data protection officer reaches it."""
    gate.require_audit_reader(user, MANAGE_SAR, "sar", reference)
    found = SubjectAccessRequest.objects.filter(reference=(reference or "").strip().upper()).first()
    if found is None:
        gate.record_denial(user, MANAGE_SAR, "sar", reference, False, "no such request")
        raise NotFound()
    audit.note_read("subject access request", found.reference,
                    found.subjects.values_list("person_id", flat=True), ("subject access request",))
    return found


def open_subject_access_requests(user):
    """The open requests with their clocks, most urgent first; a read of the people they name."""
    gate.require_audit_reader(user, MANAGE_SAR, "sar", "open")
    rows = open_requests()
    audit.note_read("subject access requests", "open", [p for sar, _ in rows for p in subject_ids(sar)],
                    ("subject access request",))
    return rows


def issued_sar_pack(user, reference: str):
    """(request, its issued pack) for a download, recorded as an export; NotFound if none was issued."""
    sar = subject_access_request(user, reference)
    issued = getattr(sar, "pack", None)
    if issued is None:
        raise NotFound("No pack has been issued for this request")
    audit.mark_export()
    return sar, issued


def sar_item(user, sar, item_id: int):
    """One compiled item of a request the user reached through `subject_access_request`."""
    gate.require_audit_reader(user, MANAGE_SAR, "sar", f"{sar.reference}/{item_id}")
    item = sar.items.select_related("person").filter(pk=item_id).first()
    if item is None:
        gate.record_denial(user, MANAGE_SAR, "sar item", f"{sar.reference}/{item_id}", False, "no such item")
        raise NotFound()
    return item


def sar_people(user, text: str):
    """People matching `text` (name words, NHS number, or date of birth YYYY-MM-DD), for the data
    protection officer choosing whom a request concerns; at most 50, recorded as a read.

    Each real person once: live records only, a record merged into another found as the record kept,
    and a previous name or alias finds the person who had it."""
    gate.require_audit_reader(user, MANAGE_SAR, "person", "search")
    text = (text or "").strip()
    if not text:
        return []
    q = Q(nhs_number=text.replace(" ", ""))
    searched = "NHS number" if text.replace(" ", "").isdecimal() else "name"
    try:
        q |= Q(date_of_birth=dt.date.fromisoformat(text))
        searched = "date of birth"
    except ValueError:
        pass
    name_q, former_q = Q(), Q()
    for word in text.split()[:4]:
        name_q &= Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(other_names__icontains=word)
        former_q &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    former = PersonName.objects.filter(former_q).values("person_id") if searched == "name" else []
    records = Person.objects.filter(q | name_q | Q(pk__in=former)).values("pk")
    # A matching record merged into another finds the record kept (three merges deep: the merge keeps
    # chains short), in SQL, so the search stays one query however many records match.
    found_q, level = Q(pk__in=records), records
    for _ in range(3):
        level = Person.objects.filter(pk__in=level, merged_into__isnull=False).values("merged_into_id")
        found_q |= Q(pk__in=level)
    found = list(live_people().filter(found_q).order_by("last_name", "first_name", "id")[:50])
    if found:
        # Recorded by whom it found, never by what was typed: the log is append-only and outlives
        # retention, and the text names the people looked for (docs/audit.md).
        audit.note_read("person search", f"search by {searched}", [p.pk for p in found], ("name", "date of birth"))
    return found

