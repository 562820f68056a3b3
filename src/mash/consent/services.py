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

from django.db import transaction
from django.utils import timezone

from mash.access import gate, rules
from mash.accounts.models import Role, User
from mash.cases.models import Enquiry
from mash.cases.history import transition
from mash.cases.states import next_state
from mash.core.errors import InvalidTransition, ValidationFailed
from mash.core.vocabulary import ConsentPurpose, ConsentStatus, NotSoughtReason
from mash.partners import services as isa

from .models import ConsentOverride, ConsentRecord, OverrideStatus
from .selectors import (Basis, ConsentPosition, ConsentRequired, approved_override, awaiting_approval,  # noqa: F401
                        basis_for, current_record, people_on, position, refuses)


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
    gate.require(by, rules.RECORD_CONSENT, enquiry)
    next_state(enquiry.state, "record_consent")
    errors: dict[str, list[str]] = {}
    people = people_on(enquiry)
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
    chosen, slugs = _scope(errors, status, purposes, agencies)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        transition(enquiry, "record_consent", by, note=f"person {person_id}: {status}", people=[person_id])
        record = ConsentRecord.objects.create(
            enquiry=enquiry, person_id=person_id, status=status, not_sought_reason=not_sought_reason or "",
            given_by=(given_by or "").strip(), notes=(notes or "").strip(), purposes=chosen, agencies=slugs,
            recorded_by=by)
        if person_id == enquiry.child_id and refuses(record, ConsentPurpose.ONWARD_DISCLOSURE):
            # Refusing onward disclosure after giving it: packages sent on the earlier consent are withdrawn.
            from mash.disclosure import services as disclosure

            when = timezone.localtime(record.recorded_at)
            for earlier in ConsentRecord.objects.filter(enquiry=enquiry, person_id=person_id,
                                                        status=ConsentStatus.GIVEN, withdrawn_at__isnull=True):
                disclosure.withdraw_relying_on(earlier, by=by, reason=f"Consent refused on {when:%-d %B %Y}")
        return record


def _scope(errors: dict[str, list[str]], status: str, purposes, agencies) -> tuple[list[str], list[str]]:
    """What the consent covers (its purposes, and the agencies' slugs), each problem added to `errors`."""
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
    return chosen, slugs


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
    gate.require(by, rules.RECORD_CONSENT, enquiry)
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
    gate.require(by, rules.PROPOSE_OVERRIDE, enquiry)
    next_state(enquiry.state, "propose_override")
    version, agreement = isa.current()
    without = agreement.consent.without_consent
    errors: dict[str, list[str]] = {}
    if not (justification or "").strip():
        errors["justification"] = ["Record why the child or an adult may be at risk of significant harm"]
    basis = agreement.lawful_basis(lawful_basis) if lawful_basis in without.lawful_bases else None
    if basis is None:
        allowed = ", ".join(without.lawful_bases) or "none"
        errors["lawful_basis"] = [f"Choose a lawful basis ISA {agreement.version} allows for sharing without "
                                  f"consent (clause {without.clause}): {allowed}"]
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
            lawful_basis_clause=basis.clause, purposes=chosen, isa_version=version, isa_clause=without.clause,
            proposed_by=by, proposed_at=now,
            status=OverrideStatus.APPROVED if approved else OverrideStatus.PROPOSED,
            decided_by=by if approved else None, decided_at=now if approved else None)


def decide_override(override: ConsentOverride, *, by: User, approve: bool, note: str = "") -> ConsentOverride:
    """A MASH manager approves, or rejects with a reason, sharing without consent a worker proposed."""
    enquiry = override.enquiry
    gate.require(by, rules.APPROVE_OVERRIDE, enquiry)
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
