"""Retention per the ISA (docs/retention.md): when the period the ISA gives for an enquiry's outcome
has run from the manager's decision, the enquiry is deleted or anonymised as the ISA says.

- The rule is the one the decision relied on (its ISA version and outcome), counted from the date
  of the current decision: an amendment starts the period again.
- Per child, not per contact: no enquiry of a child falls due before the enquiry of the child's latest
  contact does (over every record of the child: `people.selectors.records_of`), so a pattern of
  repeat contacts closed with no further action is kept while it is live; while the latest contact
  is undecided, none of the child's enquiries falls due.
- Legal holds (on the enquiry, or on its child: any record of theirs) keep it until lifted.
- Deleting removes every row of the enquiry; anonymising keeps the rows that count (outcome, RAG,
  dates, which agencies answered) and empties every free-text column.
- A person with nothing left (no other live enquiry, consent record, family link to a live case, SAR
  or hold, over every record of theirs) has their data key destroyed (crypto-shredding): anything encrypted for them, in any
  backup, is unreadable from then on. Their record is then deleted, or anonymised where an
  anonymised enquiry still points at it; their amendment history is deleted either way, and the
  reasons of lifted holds on an anonymised person are emptied.
- Each disposal is one transaction and leaves a tombstone (`Disposal`) and an audit event naming the
  enquiry reference, the ISA clause and what was removed; never any content.
- Each disposal is also listed, ids only, in the disposal register outside the database
  (`register.py`), synced before the transaction commits; `mash restore` calls `reapply()` so that a
  backup made before the run cannot bring the enquiry or its people back (decision 0005).
"""

import contextlib
import datetime as dt
from dataclasses import dataclass, field

from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from mash.audit import services as audit
from mash.audit.models import Kind
from mash.cases.models import Contact, Decision, Enquiry, EnquiryAssignment, EnquiryEvent, RagRatingRecord
from mash.consent.models import ConsentOverride, ConsentRecord
from mash.core.dates import add_months
from mash.core.faults import fault_point
from mash.core.errors import NotFound, ValidationFailed
from mash.disclosure.models import DisclosurePackage, DisposalPermit
from mash.keys import services as keys
from mash.keys.fields import encrypted_fields
from mash.partners import services as isa
from mash.people.models import (IdentityDecision, LocalIdentifier, MatchKey, Merge, Person, PersonAddress,
                                PersonName, PersonRevision, Relationship)
from mash.people.selectors import kept_record, records_of
from mash.sar.models import SarItem, SarSubject
from mash.sharing.models import Contribution, ContributionItem, InformationRequest

from . import register
from .models import Disposal, DisposalAction, LegalHold


@dataclass
class Due:
    enquiry: Enquiry
    decision: Decision
    isa_version: str
    clause: str
    retain_for_months: int
    action: str
    decided_on: dt.date
    due_on: dt.date
    holds: list[LegalHold] = field(default_factory=list)
    # The enquiry of the child's latest contact, when its period ends later and so keeps this one.
    kept_with: str = ""

    @property
    def held(self) -> bool:
        return bool(self.holds)


@dataclass
class Run:
    today: dt.date
    dry_run: bool
    due: list[Due]
    disposed: list[Disposal] = field(default_factory=list)
    failed: list[tuple[Due, str]] = field(default_factory=list)

    @property
    def held(self) -> list[Due]:
        return [d for d in self.due if d.held]


def _today() -> dt.date:
    return timezone.localdate()


def schedule(*, today: dt.date | None = None, horizon_days: int = 0) -> list[Due]:
    """Decided enquiries whose retention period has ended by `today` (+ horizon), not yet disposed:
    each enquiry's own period, or the period of the child's latest contact when that ends later."""
    today = today or _today()
    limit = today + dt.timedelta(days=horizon_days)
    disposed = Disposal.objects.values("enquiry_id")
    decisions = list(Decision.objects.filter(superseded_by__isnull=True).exclude(enquiry_id__in=disposed)
                     .select_related("enquiry", "isa_version").order_by("decided_at", "id"))
    kept = _kept_of()
    latest = _latest_contacts(kept)
    current = {d.enquiry_id: d for d in decisions}
    holds: dict[tuple[str, int], list[LegalHold]] = {}
    for hold in LegalHold.objects.filter(lifted_at__isnull=True):
        key = ("enquiry", hold.enquiry_id) if hold.enquiry_id else ("person", kept.get(hold.person_id, hold.person_id))
        holds.setdefault(key, []).append(hold)
    found = []
    for decision in decisions:
        enquiry = decision.enquiry
        person = kept.get(enquiry.child_id, enquiry.child_id)
        due = _counted_from_latest(_due(decision), current.get(latest[person]))
        if due is None or due.due_on > limit:
            continue
        due.holds = holds.get(("enquiry", enquiry.pk), []) + holds.get(("person", person), [])
        found.append(due)
    return found


def _due(decision: Decision) -> Due:
    """The rule a decision relied on, and when its enquiry falls due by its own period."""
    rule = isa.agreement_for(decision.isa_version).retention(decision.outcome)
    decided_on = timezone.localtime(decision.decided_at).date()
    return Due(enquiry=decision.enquiry, decision=decision, isa_version=decision.isa_version.version,
               clause=rule.clause, retain_for_months=rule.retain_for_months, action=rule.then,
               decided_on=decided_on, due_on=add_months(decided_on, rule.retain_for_months))


def _kept_of() -> dict[int, int]:
    """Each merged record's id -> the id of the record kept (at any depth). A record not merged is not listed."""
    pointers = dict(Person.objects.filter(merged_into__isnull=False).values_list("pk", "merged_into_id"))
    out = {}
    for pk, into in pointers.items():
        seen = {pk}
        while into in pointers and into not in seen:
            seen.add(into)
            into = pointers[into]
        out[pk] = into
    return out


def _latest_contacts(kept: dict[int, int]) -> dict[int, int]:
    """Each child (by the record kept) -> the live enquiry of their latest contact, over all their records."""
    latest: dict[int, tuple] = {}
    for pk, child_id, received in _live_enquiries().values_list("pk", "child_id", "contact__received_at"):
        person = kept.get(child_id, child_id)
        if person not in latest or (received, pk) > latest[person]:
            latest[person] = (received, pk)
    return {person: pk for person, (_, pk) in latest.items()}


def _counted_from_latest(due: Due, latest: Decision | None) -> Due | None:
    """The enquiry's due date counted with the child's latest contact: None while that contact is undecided
    (the pattern is live), else the later of its own due date and the latest contact's."""
    if latest is None:
        return None
    if latest.pk != due.decision.pk:
        latest_due = _due(latest)
        if latest_due.due_on > due.due_on:
            due.due_on, due.kept_with = latest_due.due_on, latest.enquiry.reference or f"enquiry {latest.enquiry_id}"
    return due


def _due_now(enquiry: Enquiry) -> Due | None:
    """The enquiry's due date as the schedule counts it, read again (inside a disposal's transaction)."""
    records = records_of(kept_record(enquiry.child))
    latest = (_live_enquiries().filter(child_id__in=records).order_by("-contact__received_at", "-pk")
              .values_list("pk", flat=True).first())
    current = Decision.objects.filter(superseded_by__isnull=True).select_related("enquiry", "isa_version")
    decision, latest_decision = current.filter(enquiry=enquiry).first(), current.filter(enquiry_id=latest).first()
    return _counted_from_latest(_due(decision), latest_decision) if decision else None


def run(*, today: dt.date | None = None, dry_run: bool = False) -> Run:
    """Dispose of everything due by `today` that no legal hold keeps. One transaction per enquiry: one
    that fails is reported and left as it was; the rest go on."""
    today = today or _today()
    result = Run(today=today, dry_run=dry_run, due=schedule(today=today))
    if dry_run:
        return result
    with keys.key_cache():
        for item in result.due:
            if item.held:
                continue
            try:
                result.disposed.append(dispose(item))
            except Exception as exc:  # noqa: BLE001 - reported per enquiry; the run goes on
                result.failed.append((item, f"{type(exc).__name__}: {exc}"))
    if (result.disposed and connection.vendor == "sqlite" and not connection.in_atomic_block
            and not connection.is_in_memory_db()):
        # Earlier images of the pages may still be in the write-ahead log: fold it into the file now
        # (best effort: a reader holding it open leaves it to SQLite's next checkpoint).
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return result


def _empty_free_text(qs) -> int:
    """Empty every encrypted column of these rows (the anonymised record keeps its structure)."""
    model = qs.model
    # NULL where the column allows it, else the fields' own empty value (what an encrypted column may hold).
    values = {f.attname: None if f.null else f.placeholder for f in encrypted_fields(model)}
    return qs.update(**values) if values else qs.count()


def _delete(qs) -> int:
    # The rows of one enquiry refer to each other (PROTECT, versions superseding versions): removed
    # together in one transaction, with the database's deferred foreign-key checks at commit.
    return qs._raw_delete(qs.db)


def _enquiry_rows(enquiry: Enquiry) -> list[tuple[str, object]]:
    """Every table's rows of one enquiry, children before parents."""
    rows = []
    if apps.is_installed("mash.attachments"):
        attachment = apps.get_model("attachments", "Attachment")
        rows.append(("attachments", attachment.objects.filter(item__contribution__enquiry=enquiry)))
    rows += [
        ("items", ContributionItem.objects.filter(contribution__enquiry=enquiry)),
        ("contributions", Contribution.objects.filter(enquiry=enquiry)),
        ("packages", DisclosurePackage.objects.filter(enquiry=enquiry)),
        ("requests", InformationRequest.objects.filter(enquiry=enquiry)),
        ("consent_overrides", ConsentOverride.objects.filter(enquiry=enquiry)),
        ("consent_records", ConsentRecord.objects.filter(enquiry=enquiry)),
        ("decisions", Decision.objects.filter(enquiry=enquiry)),
        ("ratings", RagRatingRecord.objects.filter(enquiry=enquiry)),
        ("events", EnquiryEvent.objects.filter(enquiry=enquiry)),
        ("assignments", EnquiryAssignment.objects.filter(enquiry=enquiry)),
        ("legal_holds", LegalHold.objects.filter(enquiry=enquiry)),
        ("enquiry", Enquiry.objects.filter(pk=enquiry.pk)),
        ("contact", Contact.objects.filter(pk=enquiry.contact_id)),
    ]
    return rows


def _dispose_rows(enquiry: Enquiry, action: str) -> dict[str, int]:
    """Delete or anonymise every row of one enquiry; rows per table."""
    package_ids = list(DisclosurePackage.objects.filter(enquiry=enquiry).values_list("pk", flat=True))
    DisposalPermit.objects.bulk_create(DisposalPermit(package_id=p) for p in package_ids)
    counts = {}
    for name, qs in _enquiry_rows(enquiry):
        if action == DisposalAction.DELETE or name in ("attachments", "legal_holds"):
            counts[name] = _delete(qs)
        elif name not in ("enquiry", "assignments"):
            counts[name] = _empty_free_text(qs)
    DisposalPermit.objects.filter(package_id__in=package_ids).delete()
    return {k: v for k, v in counts.items() if v}


def _overwrite_deleted() -> None:
    """SQLite keeps deleted rows' bytes in the file's free space unless told to overwrite them."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete = ON")


def dispose(item: Due) -> Disposal:
    enquiry = item.enquiry
    _overwrite_deleted()
    with transaction.atomic():
        # Re-checked inside the transaction: a hold placed, or a contact recorded for the child, since the
        # schedule was read wins.
        child_records = records_of(kept_record(enquiry.child))
        if LegalHold.objects.filter(Q(enquiry=enquiry) | Q(person_id__in=child_records), lifted_at__isnull=True).exists():
            raise ValidationFailed({"enquiry": [f"{enquiry.reference} is under a legal hold"]})
        now_due = _due_now(enquiry)
        if now_due is None or now_due.due_on > item.due_on:
            raise ValidationFailed({"enquiry": [f"{enquiry.reference} is kept with the child's latest contact"]})
        people = _people_of(enquiry)
        counts = _dispose_rows(enquiry, item.action)
        tombstone = Disposal.objects.create(
            enquiry_id=enquiry.pk, enquiry_reference=enquiry.reference or f"enquiry {enquiry.pk}",
            outcome=item.decision.outcome, isa_version=item.isa_version, isa_clause=item.clause,
            retain_for_months=item.retain_for_months, decided_on=item.decided_on, due_on=item.due_on,
            action=item.action, rows=counts)
        destroyed = _let_go_of(enquiry.pk, item.action, people)
        tombstone.keys_destroyed = destroyed
        tombstone.save(update_fields=["keys_destroyed"])
        audit.record(Kind.ADMIN, f"retention {item.action}", username="mash retention", object_type="enquiry",
                     object_ref=tombstone.enquiry_reference, people=sorted(people),
                     detail=(f"ISA {item.isa_version} clause {item.clause}: {item.retain_for_months} months from the "
                             f"decision of {item.decided_on:%Y-%m-%d} ({item.decision.outcome})"
                             + (f", kept with the child's latest contact {item.kept_with} until {item.due_on:%Y-%m-%d}"
                                if item.kept_with else "") + "; "
                             + ", ".join(f"{k} {v}" for k, v in sorted(tombstone.rows.items()))
                             + f"; {destroyed} data keys destroyed"))
    return tombstone


def _group(person_id: int) -> list[int]:
    """Every record that is this person: the record kept and those merged into it."""
    person = Person.objects.filter(pk=person_id).first()
    return records_of(kept_record(person)) if person is not None else [person_id]


def _people_of(enquiry: Enquiry) -> set[int]:
    """The child (every record of theirs), anyone a consent record is about, and the child's family."""
    child = _group(enquiry.child_id)
    people = set(child)
    people |= set(ConsentRecord.objects.filter(enquiry=enquiry).values_list("person_id", flat=True))
    people |= set(Relationship.objects.filter(child_id__in=child).values_list("person_id", flat=True))
    return people


def _live_enquiries():
    return Enquiry.objects.exclude(pk__in=Disposal.objects.values("enquiry_id"))


def _has_live_enquiry(child_id: int) -> bool:
    return _live_enquiries().filter(child_id__in=_group(child_id)).exists()


def _still_held(person_id: int) -> bool:
    """Anything left that is about this person, over every record of theirs: a live enquiry, consent,
    a family link to a child with a live enquiry, a SAR or a hold."""
    live, records = _live_enquiries(), _group(person_id)
    children = set(Relationship.objects.filter(person_id__in=records).values_list("child_id", flat=True))
    return (live.filter(child_id__in=records).exists()
            or ConsentRecord.objects.filter(person_id__in=records, enquiry__in=live).exists()
            or any(_has_live_enquiry(child) for child in children)
            or SarSubject.objects.filter(person_id__in=records).exists()
            or SarItem.objects.filter(person_id__in=records).exists()
            or LegalHold.objects.filter(person_id__in=records, lifted_at__isnull=True).exists())


def _drop_family_links(people) -> None:
    """A child with no live enquiry (on any record of theirs) keeps no family links."""
    for child_id in people:
        if not _has_live_enquiry(child_id):
            _delete(Relationship.objects.filter(child_id=child_id))


def _referenced(person_id: int, going=(), planned=()) -> bool:
    """Something still points at the record: a contact, enquiry, family link or consent record; a record
    merged into it (other than those `going` with it); a merge naming it, unless both its records are
    `planned` for deletion. (An identity decision about a record deleted goes with it: `_forget_identity`.)"""
    return (Contact.objects.filter(child_id=person_id).exists()
            or Enquiry.objects.filter(child_id=person_id).exists()
            or Relationship.objects.filter(Q(child_id=person_id) | Q(person_id=person_id)).exists()
            or ConsentRecord.objects.filter(person_id=person_id).exists()
            or Person.objects.filter(merged_into_id=person_id).exclude(pk__in=list(going)).exists()
            or Merge.objects.filter(Q(kept_id=person_id) | Q(merged_id=person_id))
            .exclude(kept_id__in=list(planned), merged_id__in=list(planned)).exists())


def _forget_identity(person_id: int, going) -> None:
    """Before a record is deleted: the identity decisions made about it, and merges between it and others
    going with it, are deleted; a decision about someone else that offered it as a candidate names no one."""
    _delete(IdentityDecision.objects.filter(person_id=person_id))
    IdentityDecision.objects.filter(candidate_id=person_id).update(candidate=None)
    _delete(Merge.objects.filter(Q(kept_id=person_id) | Q(merged_id=person_id))
            .filter(kept_id__in=list(going), merged_id__in=list(going)))


def _let_go_of(enquiry_id: int, action: str, people: set[int]) -> int:
    """Destroy the data key of each person nothing is left about; then delete or anonymise them.
    The disposal register gets the enquiry and these people first, synced, inside the transaction."""
    gone = sorted(p for p in people if not _still_held(p))
    _drop_family_links(people)
    fates = {p: DisposalAction.DELETE.value if action == DisposalAction.DELETE and not _referenced(p, gone, gone)
             else DisposalAction.ANONYMISE.value for p in gone}
    register.append(enquiry_id, action, fates)
    fault_point("retention.after_register")
    destroyed = len(keys.shred(gone))
    fault_point("retention.after_shred")
    _apply_fates(fates)
    return destroyed


def _apply_fates(fates: dict[int, str]) -> int:
    """Delete or anonymise these people's records as the register says; a record something still
    points at is anonymised instead. Records merged into another go before the record kept, which then
    no longer has them pointing at it. How many records changed."""
    now = timezone.now()
    changed = 0
    merged = set(Person.objects.filter(pk__in=list(fates), merged_into__isnull=False).values_list("pk", flat=True))
    planned = {p for p, fate in fates.items() if fate == DisposalAction.DELETE}
    for person_id in sorted(fates, key=lambda p: (p not in merged, p)):
        fate = fates[person_id]
        # Their amendment history (earlier names, address, the reasons), their other names and earlier
        # addresses, the agencies' ids and the blocking keys made from them go in either case.
        for rows in (PersonRevision, PersonName, PersonAddress, LocalIdentifier, MatchKey):
            _delete(rows.objects.filter(person_id=person_id))
        if fate == DisposalAction.DELETE and not _referenced(person_id, planned=planned):
            _forget_identity(person_id, planned)
            _delete(LegalHold.objects.filter(person_id=person_id))
            changed += _delete(Person.objects.filter(pk=person_id))
        else:
            # Lifted holds on an anonymised person are kept (who placed and lifted them, when), not why.
            _empty_free_text(LegalHold.objects.filter(person_id=person_id))
            changed += Person.objects.filter(pk=person_id, anonymised_at__isnull=True).update(
                first_name="", last_name="Anonymised", other_names="", date_of_birth=None, nhs_number="", upn="",
                address_line_1="", address_line_2="", town="", postcode="", anonymised_at=now)
    return changed


# After a restore ------------------------------------------------------------------------------

def reapply(entries: list[register.Entry]) -> dict[str, int]:
    """Dispose again, in a database restored from a backup, of everything the disposal register lists
    that the backup still holds, exactly as the run did (delete or anonymise, the same people). The
    data keys go with the shred register, applied first. The caller owns the transaction: `mash
    restore` runs this inside the restore's own, so the restore is whole, or nothing."""
    done = {"enquiries": 0, "people": 0}
    for entry in entries:
        people = set(entry.people)
        enquiry = Enquiry.objects.filter(pk=entry.enquiry_id).first()
        if enquiry is not None and not Disposal.objects.filter(enquiry_id=enquiry.pk).exists():
            people |= _people_of(enquiry)
            decision = (Decision.objects.filter(enquiry_id=entry.enquiry_id, superseded_by__isnull=True)
                        .select_related("isa_version").first())
            rule = _due(decision) if decision is not None else None
            counts = _dispose_rows(enquiry, entry.action)
            _reapplied_tombstone(enquiry, entry, rule, counts)
            done["enquiries"] += 1
        _drop_family_links(people)
        done["people"] += _apply_fates(entry.people)
    _ids_past(Enquiry, max((e.enquiry_id for e in entries), default=0))
    _ids_past(Person, max((p for e in entries for p in e.people), default=0))
    return done


def _ids_past(model, highest: int) -> None:
    """A restore rewinds the id sequences to the backup's: move them past every id the register names,
    so that no new enquiry or person takes the id of one disposed of since (the next restore would
    dispose of it by mistake)."""
    if not highest:
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            (sequence,) = cursor.fetchone()
            cursor.execute("SELECT setval(%s::regclass, %s) WHERE %s > COALESCE(pg_sequence_last_value(%s::regclass), 0)",
                           [sequence, highest, highest, sequence])
        elif connection.vendor == "sqlite":  # AUTOINCREMENT keeps its high-water mark in sqlite_sequence
            cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s AND seq < %s", [highest, table, highest])
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) SELECT %s, %s WHERE NOT EXISTS "
                           "(SELECT 1 FROM sqlite_sequence WHERE name = %s)", [table, highest, table])


def _reapplied_tombstone(enquiry: Enquiry, entry: register.Entry, rule: Due | None, counts: dict) -> None:
    """The tombstone of a disposal re-applied after a restore: the rule of the restored decision, or,
    when the backup was made before the decision, only what the register says (dated today)."""
    when = timezone.localdate()
    with_rule = {"outcome": "", "isa_version": "", "isa_clause": "", "retain_for_months": 0,
                 "decided_on": when, "due_on": when}
    if rule is not None:
        with_rule = {"outcome": rule.decision.outcome, "isa_version": rule.isa_version, "isa_clause": rule.clause,
                     "retain_for_months": rule.retain_for_months, "decided_on": rule.decided_on,
                     "due_on": rule.due_on}
    tombstone = Disposal.objects.create(
        enquiry_id=enquiry.pk, enquiry_reference=enquiry.reference or f"enquiry {enquiry.pk}",
        action=entry.action, rows=counts, keys_destroyed=len(entry.people), **with_rule)
    audit.record(Kind.ADMIN, f"retention {entry.action} re-applied", username="mash restore", object_type="enquiry",
                 object_ref=tombstone.enquiry_reference, people=sorted(set(entry.people) | {enquiry.child_id}),
                 detail=(f"restored from a backup made before the disposal of {entry.at or 'an earlier run'}; "
                         + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))))


# Legal holds ----------------------------------------------------------------------------------

def place_hold(*, by, reason: str, enquiry_reference: str = "", person_id: int | None = None) -> LegalHold:
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = ["Say why the record must be kept (the litigation, inquiry or review)"]
    if bool(enquiry_reference) == bool(person_id):
        errors["enquiry"] = ["Name one enquiry or one person to hold"]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        if enquiry_reference:
            enquiry = Enquiry.objects.filter(reference=enquiry_reference.strip().upper()).first()
            if enquiry is None or Disposal.objects.filter(enquiry_id=enquiry.pk).exists():
                raise NotFound(f"No enquiry {enquiry_reference} to hold")
            hold = LegalHold.objects.create(enquiry=enquiry, reason=reason, placed_by=by)
            people = [enquiry.child_id]
        else:
            if not Person.objects.filter(pk=person_id).exists():
                raise NotFound(f"No person {person_id} to hold")
            hold = LegalHold.objects.create(person_id=person_id, reason=reason, placed_by=by)
            people = [person_id]
        audit.record(Kind.WRITE, "place legal hold", actor=by, object_type="legal hold", object_ref=str(hold.pk),
                     people=people, fields=["reason"])
    return hold


def lift_hold(hold_id: int, *, by, reason: str) -> LegalHold:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["Say why the hold is no longer needed"]})
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().filter(pk=hold_id, lifted_at__isnull=True).first()
        if hold is None:
            raise NotFound(f"No active legal hold {hold_id}")
        hold.lifted_by, hold.lifted_at, hold.lift_reason = by, timezone.now(), reason
        hold.save(update_fields=["lifted_by", "lifted_at", "lift_reason"])
        audit.record(Kind.WRITE, "lift legal hold", actor=by, object_type="legal hold", object_ref=str(hold.pk),
                     people=[hold.person_id or hold.enquiry.child_id], fields=["lift_reason"])
    return hold
