"""Subject access requests: logging one, its clock, compiling what is held, the reviewer's decisions
and the response pack. The only place that changes a request's data.

The data protection officer works a request; `mash.sar.selectors` reads it, through the gate. Compiling
reads everything held about each person it concerns (docs/sar.md lists what), recorded in the audit
log as a read of their data; issuing the pack is recorded as a disclosure to the requester.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import BigIntegerField, Max
from django.utils import timezone

from mash.audit import services as audit
from mash.audit.models import Kind as AuditKind
from mash.core.errors import InvalidTransition, ValidationFailed
from mash.people.models import Person
from mash.people.selectors import kept_record, records_of

from . import clock as sar_clock
from .selectors import clock_of, open_requests, subject_ids  # noqa: F401 (open_requests: for callers)
from .models import (Exemption, ItemDecision, ItemSource, PauseReason, RequesterRelationship, SarItem, SarPack,
                     SarPause, SarStatus, SarSubject, SubjectAccessRequest)

REDACTED = "[redacted]"
SERIOUS_HARM_PASSED = "Serious-harm test applied: disclosure is not likely to cause serious harm"


def _text(value) -> str:
    return (value or "").strip() if isinstance(value, str) or value is None else str(value)


def _require_open(sar: SubjectAccessRequest) -> None:
    if sar.status != SarStatus.OPEN:
        raise InvalidTransition(f"Request {sar.reference} is {sar.get_status_display().lower()}: it cannot change")


def _event(kind, action, sar, by, detail="", people=(), fields=()):
    audit.record(kind, action, actor=by, object_type="sar", object_ref=sar.reference, detail=detail,
                 people=people, fields=fields)


# --- The clock -------------------------------------------------------------------------------------

# --- Logging a request -----------------------------------------------------------------------------

def _next_reference(year: int) -> str:
    prefix = f"SAR-{year}-"
    last = (SubjectAccessRequest.objects.filter(reference__startswith=prefix)
            .aggregate(m=Max("reference"))["m"])
    n = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{n:04d}"


def _date(value, field: str, errors: dict, label: str) -> dt.date | None:
    if isinstance(value, dt.date):
        day = value
    elif not _text(value):
        errors.setdefault(field, []).append(f"Enter {label}")
        return None
    else:
        try:
            day = dt.date.fromisoformat(_text(value))
        except ValueError:
            errors.setdefault(field, []).append(f"Enter {label} as a date (YYYY-MM-DD)")
            return None
    if day > timezone.localdate():
        errors.setdefault(field, []).append(f"{label[:1].upper()}{label[1:]} cannot be in the future")
    return day


def log_request(*, by, requester_name: str, requester_relationship: str, requester_contact: str, received_on,
                person_ids, description: str = "", identity_verified: bool = False, identity_method: str = "",
                awaiting_identity: bool = False) -> SubjectAccessRequest:
    """The DPO logs a request as received. Unless identity is already confirmed (with how), the clock
    can start paused until proof of identity arrives (`awaiting_identity`)."""
    errors: dict[str, list[str]] = {}
    if not _text(requester_name):
        errors["requester_name"] = ["Enter the requester's name"]
    elif len(_text(requester_name)) > 200:
        errors["requester_name"] = ["The requester's name must be 200 characters or fewer"]
    if requester_relationship not in RequesterRelationship.values:
        errors["requester_relationship"] = ["Choose who is asking"]
    if not _text(requester_contact):
        errors["requester_contact"] = ["Enter where the response should go"]
    day = _date(received_on, "received_on", errors, "the date received")
    # isdecimal, not isdigit: int() cannot read digits such as '²'. An id past the database's range names
    # no one (and the query would fail): it is simply not found.
    ids = sorted({int(p) for p in (person_ids or []) if str(p).strip().isdecimal()})
    people = list(Person.objects.filter(pk__in=[i for i in ids if i <= BigIntegerField.MAX_BIGINT]))
    if not ids:
        errors["person_ids"] = ["Choose at least one person the request is about"]
    elif len(people) != len(ids):
        errors["person_ids"] = ["Some of the people chosen do not exist"]
    if identity_verified and not _text(identity_method):
        errors["identity_method"] = ["Say how the requester's identity was confirmed"]
    if identity_verified and awaiting_identity:
        errors["awaiting_identity"] = ["Identity is either confirmed or awaited, not both"]
    if errors:
        raise ValidationFailed(errors)
    # One subject per person: a record merged into another is the record kept, and the same person
    # chosen twice (two records of theirs) is one subject.
    people = list({p.pk: p for p in (kept_record(p) for p in people)}.values())
    with transaction.atomic():
        sar = SubjectAccessRequest.objects.create(
            reference=_next_reference(day.year), requester_relationship=requester_relationship,
            received_on=day, logged_by=by, identity_verified_on=day if identity_verified else None,
            identity_checked_by=by if identity_verified else None)
        SarSubject.objects.bulk_create([SarSubject(sar=sar, person=p) for p in people])
        # The text is encrypted under the first subject's key, so it is set once the subjects exist.
        sar.requester_name, sar.requester_contact = _text(requester_name), _text(requester_contact)
        sar.description = _text(description)
        sar.identity_method = _text(identity_method) if identity_verified else ""
        sar.save(update_fields=["requester_name", "requester_contact", "description", "identity_method"])
        if awaiting_identity:
            SarPause.objects.create(sar=sar, reason=PauseReason.IDENTITY, started_on=day, started_by=by,
                                    note="Proof of identity requested")
        _event(AuditKind.WRITE, "sar.log", sar, by, detail=f"{len(people)} subject(s)",
               people=sorted(set(ids) | {p.pk for p in people}))
    return sar


def verify_identity(sar, *, by, method: str, verified_on=None) -> SubjectAccessRequest:
    """Identity (and a representative's authority) confirmed: an identity pause ends that day."""
    _require_open(sar)
    errors: dict[str, list[str]] = {}
    if not _text(method):
        errors["method"] = ["Say how the identity was confirmed (documents seen, checks made)"]
    day = _date(verified_on or timezone.localdate(), "verified_on", errors, "the date confirmed")
    if day and day < sar.received_on:
        errors.setdefault("verified_on", []).append("The date confirmed cannot be before the request was received")
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        sar = SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
        sar.identity_verified_on, sar.identity_method, sar.identity_checked_by = day, _text(method), by
        sar.save(update_fields=["identity_verified_on", "identity_method", "identity_checked_by"])
        open_pause = sar.pauses.filter(ended_on__isnull=True, reason=PauseReason.IDENTITY).first()
        if open_pause:
            _end_pause(open_pause, by, max(day, open_pause.started_on))
        _event(AuditKind.WRITE, "sar.identity", sar, by, detail=f"identity confirmed {day}")
    return sar


def pause(sar, *, by, reason: str, started_on=None, note: str = "") -> SarPause:
    _require_open(sar)
    errors: dict[str, list[str]] = {}
    if reason not in PauseReason.values:
        errors["reason"] = ["Choose what is awaited: proof of identity or clarification"]
    day = _date(started_on or timezone.localdate(), "started_on", errors, "the date the clock stopped")
    if day and day < sar.received_on:
        errors.setdefault("started_on", []).append("The clock cannot stop before the request was received")
    last_end = sar.pauses.filter(ended_on__isnull=False).aggregate(m=Max("ended_on"))["m"]
    if day and last_end and day < last_end:
        errors.setdefault("started_on", []).append(f"An earlier pause ran until {last_end}: start on or after it")
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
        if sar.pauses.filter(ended_on__isnull=True).exists():
            raise InvalidTransition("The clock is already stopped")
        made = SarPause.objects.create(sar=sar, reason=reason, started_on=day, note=_text(note), started_by=by)
        _event(AuditKind.WRITE, "sar.pause", sar, by, detail=f"{reason} from {day}")
    return made


def _end_pause(open_pause: SarPause, by, day: dt.date) -> None:
    open_pause.ended_on, open_pause.ended_by = day, by
    open_pause.save(update_fields=["ended_on", "ended_by"])


def resume(sar, *, by, ended_on=None) -> SarPause:
    """What was awaited has arrived: the clock runs again from that day."""
    _require_open(sar)
    errors: dict[str, list[str]] = {}
    day = _date(ended_on or timezone.localdate(), "ended_on", errors, "the date it arrived")
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
        open_pause = sar.pauses.filter(ended_on__isnull=True).first()
        if open_pause is None:
            raise InvalidTransition("The clock is running: there is no pause to end")
        if day < open_pause.started_on:
            raise ValidationFailed({"ended_on": [f"The clock stopped on {open_pause.started_on}: it cannot "
                                                 "restart before that"]})
        _end_pause(open_pause, by, day)
        _event(AuditKind.WRITE, "sar.resume", sar, by, detail=f"{open_pause.reason} until {day}")
    return open_pause


def extend(sar, *, by, months: int, reason: str) -> SubjectAccessRequest:
    """A complex request: up to two further months, with the reason recorded."""
    _require_open(sar)
    errors: dict[str, list[str]] = {}
    try:
        months = int(months)
    except (TypeError, ValueError):
        months = -1
    if not 1 <= months <= sar_clock.MAX_EXTENSION_MONTHS:
        errors["months"] = [f"An extension is 1 or {sar_clock.MAX_EXTENSION_MONTHS} further months"]
    if not _text(reason):
        errors["reason"] = ["Say why the request is complex"]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        sar = SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
        sar.extension_months, sar.extension_reason = months, _text(reason)
        sar.extended_by, sar.extended_at = by, timezone.now()
        sar.save(update_fields=["extension_months", "extension_reason", "extended_by", "extended_at"])
        _event(AuditKind.WRITE, "sar.extend", sar, by, detail=f"{months} further month(s)")
    return sar


def withdraw(sar, *, by, reason: str) -> SubjectAccessRequest:
    _require_open(sar)
    if not _text(reason):
        raise ValidationFailed({"reason": ["Say why the request is closed without a response"]})
    with transaction.atomic():
        sar.status, sar.closed_reason = SarStatus.WITHDRAWN, _text(reason)
        sar.save(update_fields=["status", "closed_reason"])
        _event(AuditKind.WRITE, "sar.withdraw", sar, by)
    return sar


# --- Compiling what is held ------------------------------------------------------------------------

def compile_request(sar, *, by) -> list[SarItem]:
    """Gather everything held about each subject into items for review. Run again (before the pack is
    issued) it adds what is new and refreshes what is not yet reviewed; reviewed items stay as decided.

    Per person: subjects that are records of one person (chosen twice, or merged since the request was
    logged) are gathered once, over all their records, and an item compiled before a merge under the
    record since merged is the same item, not a second one."""
    from . import compile as gathering

    _require_open(sar)
    subjects = list({p.pk: p for p in (kept_record(s.person) for s in sar.subjects.select_related("person"))}
                    .values())
    with transaction.atomic():
        SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
        enquiries = {e.pk: e for p in subjects for e in gathering.enquiries_concerning(p)}.values()
        terms = gathering.third_party_terms(subjects, enquiries)
        existing = {_key(i): i for i in sar.items.select_related("person")}
        for person in subjects:
            for c in gathering.gather(person):
                _compiled(sar, person, c, existing, gathering.found_in(c.fields, terms))
        sar.compiled_at = timezone.now()
        sar.save(update_fields=["compiled_at"])
        ids = sorted({pk for p in subjects for pk in records_of(p)})
        _event(AuditKind.READ, "sar.compile", sar, by, detail=f"{sar.items.count()} items", people=ids,
               fields=("subject access compile",))
    return list(sar.items.all())


def _key(item: SarItem) -> tuple[int, str, int]:
    """An item's place in the compile, by the person (the record kept) rather than the record: the details
    and recipients items are the person's own, whichever record they were compiled under."""
    person = kept_record(item.person).pk
    own = item.source in (ItemSource.PERSON, ItemSource.RECIPIENTS)
    return person, item.source, person if own else item.source_id


def _compiled(sar, person, c, existing: dict, proposed: list[str]) -> None:
    """One candidate made an item, or an unreviewed item refreshed with it."""
    values = dict(title=c.title[:300], fields=c.fields, held_on=c.held_on, enquiry_reference=c.enquiry_reference,
                  agency=c.agency[:200], category=c.category[:200], sealed=c.sealed, social_work=c.social_work,
                  proposed_redactions=proposed)
    if c.sealed:
        # Default for a sealed item: withheld, without saying it exists (the agency may be
        # investigating). The reviewer may say it exists; its content can never go.
        values.update(decision=ItemDecision.WITHHOLD, exemption=Exemption.CRIME, neither_confirm_nor_deny=True,
                      reason="Sealed by the agency: disclosing, or saying it exists, could prejudice an investigation")
    item = existing.get((person.pk, c.source, c.source_id))
    if item is None:
        existing[(person.pk, c.source, c.source_id)] = SarItem.objects.create(
            sar=sar, person=person, source=c.source, source_id=c.source_id, **values)
    elif item.decision == ItemDecision.PENDING:
        for key, value in values.items():
            setattr(item, key, value)
        item.save()


# --- Reviewing each item ---------------------------------------------------------------------------

def decide_item(item: SarItem, *, by, decision: str, exemption: str = "", reason: str = "",
                redactions=(), neither_confirm_nor_deny: bool = False, serious_harm_opinion: str = "",
                serious_harm_checked: bool = False) -> SarItem:
    """The reviewer's decision on one item, with the exemption and reason where anything is held back.

    Social work data goes out only once the reviewer confirms the serious-harm test (disclosure would
    not be likely to cause serious harm to anyone's physical or mental health); withholding it under
    that exemption needs the opinion of the appropriate professional, recorded."""
    sar = item.sar
    _require_open(sar)
    errors: dict[str, list[str]] = {}
    redactions = [t.strip() for t in (redactions or []) if t and t.strip()]
    if decision not in (ItemDecision.DISCLOSE, ItemDecision.REDACT, ItemDecision.WITHHOLD):
        errors["decision"] = ["Choose disclose, disclose with redactions, or withhold"]
    if exemption not in Exemption.values:
        errors["exemption"] = ["Choose an exemption from the list"]
    if item.sealed and decision != ItemDecision.WITHHOLD:
        errors["decision"] = ["A sealed item is always withheld: its content is the agency's alone. Ask the agency "
                              "to lift the seal if it can be disclosed, then compile again"]
    if decision in (ItemDecision.REDACT, ItemDecision.WITHHOLD):
        if not exemption:
            errors["exemption"] = ["Choose the exemption that applies"]
        if not _text(reason):
            errors["reason"] = ["Say why it is held back"]
    if decision == ItemDecision.REDACT:
        if not redactions:
            errors["redactions"] = ["Confirm at least one piece of text to redact"]
        text = "\n".join(f"{k}\n{v}" for k, v in item.fields.items()).lower()
        missing = [t for t in redactions if t.lower() not in text]
        if missing:
            errors["redactions"] = [f"Not in this item's text: {', '.join(missing)}"]
    if neither_confirm_nor_deny and not (decision == ItemDecision.WITHHOLD and exemption == Exemption.CRIME):
        errors["neither_confirm_nor_deny"] = ["Only information withheld because disclosing it would prejudice an "
                                              "investigation may be left unmentioned"]
    if item.social_work and exemption == Exemption.SERIOUS_HARM and not _text(serious_harm_opinion):
        errors["serious_harm_opinion"] = ["Record the opinion of the appropriate social work professional"]
    if exemption == Exemption.SERIOUS_HARM and not item.social_work:
        errors["exemption"] = ["The serious-harm exemption applies to social work data only"]
    if item.social_work and decision in (ItemDecision.DISCLOSE, ItemDecision.REDACT) and not serious_harm_checked:
        errors["serious_harm_checked"] = ["Social work data: confirm the serious-harm test before disclosing it"]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        item = SarItem.objects.select_for_update().get(pk=item.pk)
        item.decision, item.exemption, item.reason = decision, exemption, _text(reason)
        item.redactions = redactions if decision == ItemDecision.REDACT else []
        item.neither_confirm_nor_deny = bool(neither_confirm_nor_deny)
        item.serious_harm_opinion = _text(serious_harm_opinion) or (
            SERIOUS_HARM_PASSED if item.social_work and decision != ItemDecision.WITHHOLD else "")
        item.reviewed_by, item.reviewed_at = by, timezone.now()
        item.save()
        _event(AuditKind.WRITE, "sar.review", sar, by, detail=f"item {item.pk}: {decision}"
               + (f" ({exemption})" if exemption else ""))
    return item


# --- The response pack -----------------------------------------------------------------------------

def pack_problems(sar) -> list[str]:
    """What stops the pack being issued."""
    problems = []
    if sar.identity_verified_on is None:
        problems.append("The requester's identity has not been confirmed")
    if sar.pauses.filter(ended_on__isnull=True).exists():
        problems.append("The clock is stopped: end the pause first")
    if sar.compiled_at is None:
        problems.append("Nothing has been compiled yet")
    pending = sar.items.filter(decision=ItemDecision.PENDING).count()
    if pending:
        problems.append(f"{pending} item{'s' if pending != 1 else ''} not yet reviewed")
    return problems


def issue_pack(sar, *, by) -> SarPack:
    """Fix the response: its content (PDF and JSON are made from it) never changes afterwards."""
    from .pack import build_content

    _require_open(sar)
    with transaction.atomic():
        sar = SubjectAccessRequest.objects.select_for_update().get(pk=sar.pk)
        problems = pack_problems(sar)
        if problems:
            raise InvalidTransition("The pack cannot be issued yet: " + "; ".join(problems))
        today = timezone.localdate()
        sar.status, sar.responded_on = SarStatus.RESPONDED, today
        sar.save(update_fields=["status", "responded_on"])
        pack = SarPack.objects.create(sar=sar, content=build_content(sar, issued_on=today), issued_by=by)
        audit.record(AuditKind.DISCLOSURE, "sar.respond", actor=by, object_type="sar", object_ref=sar.reference,
                     people=subject_ids(sar), fields=("subject access response",),
                     detail=f"to the requester ({sar.get_requester_relationship_display().lower()})")
    return pack
