"""Retention per the ISA (docs/retention.md): when the period the ISA gives for an enquiry's outcome
has run from the manager's decision, the enquiry is deleted or anonymised as the ISA says.

- The rule is the one the decision relied on (its ISA version and outcome), counted from the date
  of the current decision: an amendment starts the period again.
- Legal holds (on the enquiry, or on its child) keep it until lifted.
- Deleting removes every row of the enquiry; anonymising keeps the rows that count (outcome, RAG,
  dates, which agencies answered) and empties every free-text column.
- A person with nothing left (no other live enquiry, consent record, family link to a live case, SAR
  or hold) has their data key destroyed (crypto-shredding): anything encrypted for them, in any
  backup, is unreadable from then on. Their record is then deleted, or anonymised where an
  anonymised enquiry still points at it.
- Each disposal is one transaction and leaves a tombstone (`Disposal`) and an audit event naming the
  enquiry reference, the ISA clause and what was removed; never any content.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.apps import apps
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mash.audit import services as audit
from mash.audit.models import Kind
from mash.cases.models import Contact, Decision, Enquiry, EnquiryAssignment, EnquiryEvent, RagRatingRecord
from mash.consent.models import ConsentOverride, ConsentRecord
from mash.core.dates import add_months
from mash.core.errors import NotFound, ValidationFailed
from mash.disclosure.models import DisclosurePackage, DisposalPermit
from mash.keys import services as keys
from mash.keys.fields import encrypted_fields
from mash.partners import services as isa
from mash.people.models import Person, Relationship
from mash.sar.models import SarItem, SarSubject
from mash.sharing.models import Contribution, ContributionItem, InformationRequest

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
    """Decided enquiries whose retention period has ended by `today` (+ horizon), not yet disposed."""
    today = today or _today()
    limit = today + dt.timedelta(days=horizon_days)
    disposed = Disposal.objects.values("enquiry_id")
    decisions = (Decision.objects.filter(superseded_by__isnull=True).exclude(enquiry_id__in=disposed)
                 .select_related("enquiry", "isa_version").order_by("decided_at", "id"))
    holds: dict[tuple[str, int], list[LegalHold]] = {}
    for hold in LegalHold.objects.filter(lifted_at__isnull=True):
        holds.setdefault(("enquiry", hold.enquiry_id) if hold.enquiry_id else ("person", hold.person_id), []).append(hold)
    found = []
    for decision in decisions:
        rule = isa.agreement_for(decision.isa_version).retention(decision.outcome)
        decided_on = timezone.localtime(decision.decided_at).date()
        due_on = add_months(decided_on, rule.retain_for_months)
        if due_on > limit:
            continue
        enquiry = decision.enquiry
        found.append(Due(enquiry=enquiry, decision=decision, isa_version=decision.isa_version.version,
                         clause=rule.clause, retain_for_months=rule.retain_for_months, action=rule.then,
                         decided_on=decided_on, due_on=due_on,
                         holds=holds.get(("enquiry", enquiry.pk), []) + holds.get(("person", enquiry.child_id), [])))
    return found


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


def dispose(item: Due) -> Disposal:
    enquiry = item.enquiry
    with transaction.atomic():
        # Re-checked inside the transaction: a hold placed since the schedule was read wins.
        if LegalHold.objects.filter(Q(enquiry=enquiry) | Q(person_id=enquiry.child_id), lifted_at__isnull=True).exists():
            raise ValidationFailed({"enquiry": [f"{enquiry.reference} is under a legal hold"]})
        people = _people_of(enquiry)
        package_ids = list(DisclosurePackage.objects.filter(enquiry=enquiry).values_list("pk", flat=True))
        DisposalPermit.objects.bulk_create(DisposalPermit(package_id=p) for p in package_ids)
        counts = {}
        for name, qs in _enquiry_rows(enquiry):
            if item.action == DisposalAction.DELETE or name in ("attachments", "legal_holds"):
                counts[name] = _delete(qs)
            elif name not in ("enquiry", "assignments"):
                counts[name] = _empty_free_text(qs)
        DisposalPermit.objects.filter(package_id__in=package_ids).delete()
        tombstone = Disposal.objects.create(
            enquiry_id=enquiry.pk, enquiry_reference=enquiry.reference or f"enquiry {enquiry.pk}",
            outcome=item.decision.outcome, isa_version=item.isa_version, isa_clause=item.clause,
            retain_for_months=item.retain_for_months, decided_on=item.decided_on, due_on=item.due_on,
            action=item.action, rows={k: v for k, v in counts.items() if v})
        destroyed = _let_go_of(people, delete=item.action == DisposalAction.DELETE)
        tombstone.keys_destroyed = destroyed
        tombstone.save(update_fields=["keys_destroyed"])
        audit.record(Kind.ADMIN, f"retention {item.action}", username="mash retention", object_type="enquiry",
                     object_ref=tombstone.enquiry_reference, people=sorted(people),
                     detail=(f"ISA {item.isa_version} clause {item.clause}: {item.retain_for_months} months from the "
                             f"decision of {item.decided_on:%Y-%m-%d} ({item.decision.outcome}); "
                             + ", ".join(f"{k} {v}" for k, v in sorted(tombstone.rows.items()))
                             + f"; {destroyed} data keys destroyed"))
    return tombstone


def _people_of(enquiry: Enquiry) -> set[int]:
    people = {enquiry.child_id}
    people |= set(ConsentRecord.objects.filter(enquiry=enquiry).values_list("person_id", flat=True))
    people |= set(Relationship.objects.filter(child_id=enquiry.child_id).values_list("person_id", flat=True))
    return people


def _live_enquiries():
    return Enquiry.objects.exclude(pk__in=Disposal.objects.values("enquiry_id"))


def _still_held(person_id: int) -> bool:
    """Anything left that is about this person: a live enquiry, consent, family link, SAR or hold."""
    live = _live_enquiries()
    return (live.filter(child_id=person_id).exists()
            or ConsentRecord.objects.filter(person_id=person_id, enquiry__in=live).exists()
            or Relationship.objects.filter(person_id=person_id, child__enquiries__in=live).exists()
            or SarSubject.objects.filter(person_id=person_id).exists()
            or SarItem.objects.filter(person_id=person_id).exists()
            or LegalHold.objects.filter(person_id=person_id, lifted_at__isnull=True).exists())


def _let_go_of(people: set[int], *, delete: bool) -> int:
    """Destroy the data key of each person nothing is left about; then delete or anonymise them."""
    gone = sorted(p for p in people if not _still_held(p))
    # A child with no live enquiry keeps no family links.
    for child_id in people:
        if not _live_enquiries().filter(child_id=child_id).exists():
            _delete(Relationship.objects.filter(child_id=child_id))
    destroyed = len(keys.shred(gone))
    now = timezone.now()
    for person_id in gone:
        referenced = (Contact.objects.filter(child_id=person_id).exists()
                      or Enquiry.objects.filter(child_id=person_id).exists()
                      or Relationship.objects.filter(Q(child_id=person_id) | Q(person_id=person_id)).exists()
                      or ConsentRecord.objects.filter(person_id=person_id).exists())
        if delete and not referenced:
            _delete(LegalHold.objects.filter(person_id=person_id))
            _delete(Person.objects.filter(pk=person_id))
        else:
            Person.objects.filter(pk=person_id).update(
                first_name="", last_name="Anonymised", other_names="", date_of_birth=None, nhs_number="", upn="",
                address_line_1="", address_line_2="", town="", postcode="", anonymised_at=now)
    return destroyed


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
