"""Consent, and sharing without it. The only writers of consent records and of sharing without consent.

The council's privacy notice: personal information is not shared outside the council without
consent, except where a child or adult may be at risk of significant harm. Every share outside
the council (a request to partner agencies, a disclosure package) asks `basis_for()` first: it
answers with the consent or the approved sharing without consent that the share relies on, or
refuses with a message that says what is missing.

Whose consent: the child's (given by the child or, for them, by someone with parental
responsibility; `given_by` says who). Records for other people in the household are kept and
shown beside the child's; the gate reads the child's, since the enquiry is about the child.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from mash.access import policy
from mash.accounts.models import Role, User
from mash.cases.models import Enquiry
from mash.cases.services import transition
from mash.cases.states import next_state
from mash.core.errors import InvalidTransition, IsaViolation, ValidationFailed
from mash.core.vocabulary import ConsentPurpose, ConsentStatus, NotSoughtReason
from mash.partners import services as isa

from .models import ConsentOverride, ConsentRecord, OverrideStatus


class ConsentRequired(IsaViolation):
    """A share outside the council that has neither consent nor approved sharing without consent
    (ISA clause 4.1). An ISA violation, so that the API answers 422 with the field, "consent"."""

    status = 422

    def __init__(self, message: str):
        super().__init__(message, field="consent")


def _people_on(enquiry: Enquiry) -> dict[int, object]:
    """The child and the people recorded around them: whose consent may be recorded on this enquiry."""
    child = enquiry.child
    people = {child.pk: child}
    for rel in child.relationships.select_related("person"):
        people[rel.person_id] = rel.person
    return people


def _purposes(errors: dict, purposes) -> list[str]:
    chosen = list(dict.fromkeys(purposes or []))
    for p in chosen:
        if p not in ConsentPurpose.values:
            errors.setdefault("purposes", []).append(f"Unknown purpose '{p}'")
    return chosen


# --- Consent records --------------------------------------------------------------------------

def record_consent(enquiry: Enquiry, *, by: User, person_id: int | None = None, status: str,
                   not_sought_reason: str = "", given_by: str = "", notes: str = "", purposes=(),
                   agencies=()) -> ConsentRecord:
    """Record the consent position of one person on the enquiry (the child when no person is named).

    Given consent says what it covers: its purposes and, for the MASH enquiry, the agencies."""
    policy.require(by, policy.RECORD_CONSENT, enquiry)
    next_state(enquiry.state, "record_consent")
    errors: dict[str, list[str]] = {}
    people = _people_on(enquiry)
    person_id = person_id or enquiry.child_id
    if person_id not in people:
        errors["person_id"] = ["Choose the child or a person recorded around the child"]
    if status not in ConsentStatus.values:
        errors["status"] = ["Choose whether consent was sought, given, refused or not sought"]
    if status == ConsentStatus.NOT_SOUGHT:
        if not_sought_reason not in NotSoughtReason.values:
            errors["not_sought_reason"] = ["Choose why consent was not sought: it would place the child at risk, "
                                           "it would prejudice an investigation, or it is not practicable"]
    elif not_sought_reason:
        errors["not_sought_reason"] = ["Only consent that was not sought has a reason for not seeking it"]
    if status in (ConsentStatus.GIVEN, ConsentStatus.REFUSED) and not (given_by or "").strip():
        errors["given_by"] = ["Enter who gave or refused consent, for example the child's mother"]
    chosen = _purposes(errors, purposes)
    slugs = list(dict.fromkeys(agencies or []))
    if status == ConsentStatus.GIVEN:
        if not chosen:
            errors.setdefault("purposes", []).append("Choose what the consent covers")
        if ConsentPurpose.MASH_ENQUIRY in chosen and not slugs:
            errors["agencies"] = ["Choose the partner agencies the consent covers"]
    elif slugs or (chosen and status != ConsentStatus.REFUSED):
        # Scope belongs to consent given (what it covers) or refused (what it refuses; none: everything).
        if slugs:
            errors["agencies"] = ["Only consent that was given covers agencies"]
        if chosen and status != ConsentStatus.REFUSED:
            errors.setdefault("purposes", []).append("Only consent that was given or refused covers purposes")
    if slugs and status == ConsentStatus.GIVEN and ConsentPurpose.MASH_ENQUIRY not in chosen:
        errors["agencies"] = ["Agencies belong to consent for the MASH enquiry; leave them out otherwise"]
    if slugs:
        _, agreement = isa.current()
        unknown = [s for s in slugs if agreement.partner(s) is None]
        if unknown:
            errors.setdefault("agencies", []).append(
                f"Not a partner to the current ISA: {', '.join(unknown)}")
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        transition(enquiry, "record_consent", by, note=f"person {person_id}: {status}", people=[person_id])
        record = ConsentRecord.objects.create(
            enquiry=enquiry, person_id=person_id, status=status, not_sought_reason=not_sought_reason or "",
            given_by=(given_by or "").strip(), notes=(notes or "").strip(), purposes=chosen, agencies=slugs,
            recorded_by=by)
        if person_id == enquiry.child_id and _refuses(record, ConsentPurpose.ONWARD_DISCLOSURE):
            # Refusing onward disclosure after giving it: packages sent on the earlier consent are withdrawn.
            from mash.disclosure import services as disclosure

            when = timezone.localtime(record.recorded_at)
            for earlier in ConsentRecord.objects.filter(enquiry=enquiry, person_id=person_id,
                                                        status=ConsentStatus.GIVEN, withdrawn_at__isnull=True):
                disclosure.withdraw_relying_on(earlier, by=by, reason=f"Consent refused on {when:%-d %B %Y}")
        return record


def _refuses(record: ConsentRecord, purpose: str) -> bool:
    """A refusal with no purposes refuses everything."""
    return record.status == ConsentStatus.REFUSED and (not record.purposes or purpose in record.purposes)


def record_from_intake(enquiry: Enquiry, *, by: User, consent_at_intake: str, notes: str) -> ConsentRecord | None:
    """What the contact said about consent, as the first record for the child (inside record_contact's
    transaction). Consent given at intake covers the MASH enquiry with every partner agency; onward
    disclosure needs consent of its own."""
    from mash.core.vocabulary import IntakeConsent

    if consent_at_intake == IntakeConsent.GIVEN:
        agencies = sorted(isa.signatories().values_list("slug", flat=True))
        return ConsentRecord.objects.create(
            enquiry=enquiry, person_id=enquiry.child_id, status=ConsentStatus.GIVEN,
            given_by="as reported with the contact", notes=notes, purposes=[ConsentPurpose.MASH_ENQUIRY],
            agencies=agencies, recorded_by=by)
    if consent_at_intake == IntakeConsent.REFUSED:
        return ConsentRecord.objects.create(
            enquiry=enquiry, person_id=enquiry.child_id, status=ConsentStatus.REFUSED,
            given_by="as reported with the contact", notes=notes, recorded_by=by)
    return None


def withdraw_consent(record: ConsentRecord, *, by: User, reason: str) -> ConsentRecord:
    """The person withdraws consent they gave. What follows honours it: nothing more is shared on it,
    and disclosure packages sent on it are withdrawn from their recipients."""
    enquiry = record.enquiry
    policy.require(by, policy.RECORD_CONSENT, enquiry)
    next_state(enquiry.state, "withdraw_consent")
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Record what the person said, or why consent is withdrawn"]})
    from mash.disclosure import services as disclosure

    with transaction.atomic():
        locked = ConsentRecord.objects.select_for_update().get(pk=record.pk)
        if locked.status != ConsentStatus.GIVEN:
            raise InvalidTransition("Only consent that was given can be withdrawn")
        if locked.is_withdrawn:
            raise InvalidTransition(f"This consent was already withdrawn on {timezone.localtime(locked.withdrawn_at):%-d %B %Y}")
        transition(enquiry, "withdraw_consent", by, note=f"consent {locked.pk} withdrawn", people=[locked.person_id])
        locked.withdrawn_at, locked.withdrawn_by, locked.withdrawal_reason = timezone.now(), by, reason.strip()
        locked.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
        disclosure.withdraw_relying_on(locked, by=by)
    return locked


# --- Sharing without consent ---------------------------------------------------------------------

def propose_override(enquiry: Enquiry, *, by: User, justification: str, lawful_basis: str,
                     purposes=()) -> ConsentOverride:
    """Record why information must be shared without consent. A manager's own record is approved as
    they make it; a MASH worker's waits for a manager."""
    policy.require(by, policy.PROPOSE_OVERRIDE, enquiry)
    next_state(enquiry.state, "propose_override")
    version, agreement = isa.current()
    rules = agreement.consent.without_consent
    errors: dict[str, list[str]] = {}
    if not (justification or "").strip():
        errors["justification"] = ["Record why the child or an adult may be at risk of significant harm"]
    basis = agreement.lawful_basis(lawful_basis) if lawful_basis in rules.lawful_bases else None
    if basis is None:
        allowed = ", ".join(rules.lawful_bases) or "none"
        errors["lawful_basis"] = [f"Choose a lawful basis ISA {agreement.version} allows for sharing without "
                                  f"consent (clause {rules.clause}): {allowed}"]
    chosen = _purposes(errors, purposes)
    if not chosen:
        errors.setdefault("purposes", []).append("Choose what is to be shared without consent")
    if errors:
        raise ValidationFailed(errors)
    approved = by.role == Role.MASH_MANAGER
    now = timezone.now()
    with transaction.atomic():
        transition(enquiry, "propose_override", by,
                   note=f"{lawful_basis}{' (approved by the manager recording it)' if approved else ''}")
        return ConsentOverride.objects.create(
            enquiry=enquiry, justification=justification.strip(), lawful_basis=lawful_basis,
            lawful_basis_clause=basis.clause, purposes=chosen, isa_version=version, isa_clause=rules.clause,
            proposed_by=by, proposed_at=now,
            status=OverrideStatus.APPROVED if approved else OverrideStatus.PROPOSED,
            decided_by=by if approved else None, decided_at=now if approved else None)


def decide_override(override: ConsentOverride, *, by: User, approve: bool, note: str = "") -> ConsentOverride:
    """A MASH manager approves, or rejects with a reason, sharing without consent a worker proposed."""
    enquiry = override.enquiry
    policy.require(by, policy.APPROVE_OVERRIDE, enquiry)
    next_state(enquiry.state, "decide_override")
    if not approve and not (note or "").strip():
        raise ValidationFailed({"note": ["Give the reason for rejecting it"]})
    with transaction.atomic():
        locked = ConsentOverride.objects.select_for_update().get(pk=override.pk)
        if locked.status != OverrideStatus.PROPOSED:
            raise InvalidTransition(f"This was already {locked.get_status_display().lower()}")
        transition(enquiry, "decide_override", by, note=f"override {locked.pk} {'approved' if approve else 'rejected'}")
        locked.status = OverrideStatus.APPROVED if approve else OverrideStatus.REJECTED
        locked.decided_by, locked.decided_at, locked.decision_note = by, timezone.now(), (note or "").strip()
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return locked


# --- What a share relies on --------------------------------------------------------------------------

@dataclass(frozen=True)
class Basis:
    """What a share outside the council relies on: the child's consent, or approved sharing without it."""

    consent: ConsentRecord | None = None
    override: ConsentOverride | None = None

    @property
    def state(self) -> str:
        return "given" if self.consent else "without_consent"


def current_record(enquiry: Enquiry, person_id: int | None = None) -> ConsentRecord | None:
    """The latest statement of a person's consent on this enquiry (the child's by default)."""
    return (ConsentRecord.objects.filter(enquiry=enquiry, person_id=person_id or enquiry.child_id)
            .select_related("recorded_by").order_by("-recorded_at", "-id").first())


def approved_override(enquiry: Enquiry, purpose: str) -> ConsentOverride | None:
    for o in (ConsentOverride.objects.filter(enquiry=enquiry, status=OverrideStatus.APPROVED)
              .select_related("isa_version", "decided_by").order_by("-decided_at", "-id")):
        if purpose in o.purposes:
            return o
    return None


def basis_for(enquiry: Enquiry, purpose: str, agencies=()) -> Basis:
    """The consent, or else the approved sharing without consent, that lets this share go ahead.

    Raises ConsentRequired, naming what is missing, when there is neither."""
    label = dict(ConsentPurpose.choices)[purpose]
    label = label[0].lower() + label[1:]
    # Consent given and not withdrawn, for this purpose: each such record is consent in its own right
    # (consent to the MASH enquiry at intake, later consent to onward disclosure...).
    # A later refusal of this purpose ends what was given before it.
    records = list(ConsentRecord.objects.filter(enquiry=enquiry, person_id=enquiry.child_id)
                   .select_related("recorded_by").order_by("-recorded_at", "-id"))
    given = []
    for r in records:
        if _refuses(r, purpose):
            break
        if r.status == ConsentStatus.GIVEN and not r.is_withdrawn and purpose in r.purposes:
            given.append(r)
    for candidate in given:
        if all(a in candidate.agencies for a in agencies):
            return Basis(consent=candidate)
    missing = [a for a in agencies if a not in given[0].agencies] if given else []
    refusal = next((r for r in records if _refuses(r, purpose)), None)
    record = given[0] if given else refusal or (records[0] if records else None)
    override = approved_override(enquiry, purpose)
    if override is not None:
        return Basis(override=override)
    child = enquiry.child.full_name
    if record is None:
        why = f"no consent is recorded for {child}"
    elif record.is_withdrawn:
        why = f"{child}'s consent was withdrawn on {timezone.localtime(record.withdrawn_at):%-d %B %Y}"
    elif record.status == ConsentStatus.GIVEN and missing:
        why = f"the consent recorded for {child} does not cover {', '.join(missing)}"
    elif record.status == ConsentStatus.GIVEN:
        why = f"the consent recorded for {child} does not cover {label}"
    else:
        why = f"{child}'s consent is recorded as {record.state_label.lower()}"
    pending = ConsentOverride.objects.filter(enquiry=enquiry, status=OverrideStatus.PROPOSED).exists()
    then = ("sharing without consent is proposed but not yet approved by a MASH manager" if pending else
            "record consent, or record why sharing without consent is justified by a risk of significant "
            "harm, with a lawful basis from the ISA, for a MASH manager to approve")
    raise ConsentRequired(f"Consent is needed for {label}: {why}; {then}")


def awaiting_approval() -> int:
    """How many proposals to share without consent wait for a manager (a count: no case data)."""
    return ConsentOverride.objects.filter(status=OverrideStatus.PROPOSED).count()


@dataclass
class ConsentPosition:
    """Everything recorded about consent on an enquiry, for the case page."""

    child_record: ConsentRecord | None
    records: list[ConsentRecord] = field(default_factory=list)
    overrides: list[ConsentOverride] = field(default_factory=list)
    people: dict = field(default_factory=dict)

    @property
    def shared_without_consent(self) -> bool:
        return any(o.is_approved for o in self.overrides)

    @property
    def proposed_overrides(self) -> list[ConsentOverride]:
        return [o for o in self.overrides if o.status == OverrideStatus.PROPOSED]

    def current_by_person(self) -> list[tuple[object, ConsentRecord]]:
        latest = {}
        for r in self.records:
            latest[r.person_id] = r
        return [(self.people.get(pid), r) for pid, r in latest.items()]


def position(enquiry: Enquiry) -> ConsentPosition:
    records = list(ConsentRecord.objects.filter(enquiry=enquiry)
                   .select_related("person", "recorded_by", "withdrawn_by").order_by("recorded_at", "id"))
    overrides = list(ConsentOverride.objects.filter(enquiry=enquiry)
                     .select_related("proposed_by", "decided_by", "isa_version").order_by("proposed_at", "id"))
    child_records = [r for r in records if r.person_id == enquiry.child_id]
    return ConsentPosition(child_record=child_records[-1] if child_records else None, records=records,
                           overrides=overrides, people=_people_on(enquiry))
