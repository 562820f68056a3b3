"""The MASH workflow: contact intake, RAG rating, decision. The only writers of case data."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from mash.access import gate, rules
from mash.audit import services as audit
from mash.audit.models import Kind as AuditKind
from mash.accounts.models import Role, User
from mash.core.errors import IsaViolation, ValidationFailed
from mash.core.vocabulary import ConcernCategory, IntakeConsent, Outcome, RagRating, RecipientType, ReporterType
from mash.partners import services as isa
from mash.partners.models import Partner
from mash.people.models import Relationship, RelationshipType
from mash.people.selectors import history
from mash.people.services import identity, record_relationship
from mash.sharing.models import InformationRequest, RequestStatus

from .models import Contact, Decision, Enquiry, EnquiryAssignment, EnquiryEvent, RagRatingRecord
from .history import transition
from .selectors import current_decision
from .states import next_state
from .steps import OPENING

# Outcomes that hand the case on, and so need someone to receive it.
HANDED_ON = {Outcome.EARLY_HELP, Outcome.SECTION_17, Outcome.SECTION_47, Outcome.REFERRAL_OTHER_SERVICE}


def _require_text(errors: dict, name: str, value, label: str):
    if not (value or "").strip():
        errors.setdefault(name, []).append(f"Enter {label}")


def _choice(errors: dict, name: str, value, choices, label: str):
    if value not in choices.values:
        errors.setdefault(name, []).append(f"Choose {label}")


# MASHs began in 2011: an earlier time received is a typing mistake. (Before 1848 London's local time is
# not even a whole number of minutes from UTC, and the first hours of year 1 have no UTC at all.)
EARLIEST_RECEIVED = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def _contact_fields(errors: dict, *, reporter_type: str, concern: str, concern_categories: list[str],
                    consent_at_intake: str, reporter_name: str, reporter_phone: str, reporter_email: str) -> list[str]:
    """Check what the contact says and who reported it; return its concern categories, each once."""
    _choice(errors, "reporter_type", reporter_type, ReporterType, "who reported the concern")
    _require_text(errors, "concern", concern, "the concern")
    categories = list(dict.fromkeys(concern_categories or []))
    if not categories:
        errors["concern_categories"] = ["Choose at least one concern category"]
    for c in categories:
        if c not in ConcernCategory.values:
            errors.setdefault("concern_categories", []).append(f"Unknown concern category '{c}'")
    _choice(errors, "consent_at_intake", consent_at_intake, IntakeConsent, "the consent position at intake")
    if reporter_type == ReporterType.ANONYMOUS:
        if reporter_name.strip() or reporter_phone.strip() or reporter_email.strip():
            errors["reporter_name"] = ["An anonymous contact has no reporter name or contact details"]
    elif reporter_type in ReporterType.values:
        _require_text(errors, "reporter_name", reporter_name, "the reporter's name")
    return categories


def _received_at(errors: dict, received_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    """When the contact was received (now if not said), aware, and neither before MASHs nor in the future."""
    received_at = received_at or now
    if timezone.is_naive(received_at):
        received_at = timezone.make_aware(received_at)
    if received_at < EARLIEST_RECEIVED:
        errors["received_at"] = [f"The time received cannot be before {EARLIEST_RECEIVED:%Y}"]
    elif received_at > now + dt.timedelta(minutes=5):
        errors["received_at"] = ["The time received cannot be in the future"]
    return received_at


def _reporter_partner(errors: dict, slug: str | None) -> Partner | None:
    partner = None
    if slug:
        partner = Partner.objects.filter(slug=slug).first()
        if partner is None:
            errors["reporter_partner"] = [f"Unknown partner agency '{slug}'"]
    return partner


def _contact_people(errors: dict, *, by: User, child: dict, related_people, now: dt.datetime):
    """Check the child and each related person with how they are related, so that all errors are reported
    together: each a new record (unsaved) or an existing person the caller chose (`person_id`, see
    people.services.identity). Names are checked before the model's own validation, whose "This field cannot
    be blank." would not say which name is missing; a chosen person keeps their names when none are typed."""
    child = child or {}
    if child.get("person_id") in (None, ""):
        _require_text(errors, "child.first_name", child.get("first_name"), "the child's first name")
        _require_text(errors, "child.last_name", child.get("last_name"), "the child's last name")
    child_intake = identity.prepare(errors, child, by=by, prefix="child.")
    if child_intake is not None and child_intake.person.date_of_birth and \
            child_intake.person.date_of_birth > now.date() and not child_intake.existing:
        errors["child.date_of_birth"] = ["The date of birth must be in the past"]
    related = []
    # A related person was offered the people of that name around the child's candidates too.
    around = [c.person.pk for c in identity.found_for(by, identity.details_of(child))] if any(
        (e or {}).get("identity_checked") for e in related_people or []) else []
    for i, entry in enumerate(related_people or []):
        entry = dict(entry)
        rel = entry.pop("relationship", "")
        lives = bool(entry.pop("lives_with_child", False))
        pr = bool(entry.pop("parental_responsibility", False))
        prefix = f"related_people[{i}]."
        _choice(errors, prefix + "relationship", rel, RelationshipType, "how they are related to the child")
        if entry.get("person_id") in (None, ""):
            _require_text(errors, prefix + "first_name", entry.get("first_name"), "their first name")
            _require_text(errors, prefix + "last_name", entry.get("last_name"), "their last name")
        # Someone who lives with the child is looked for at the child's postcode too.
        intake = identity.prepare(errors, entry, by=by, prefix=prefix, around=around,
                                  postcode=(child.get("postcode") or "") if lives else "")
        if intake is not None:
            related.append((intake, rel, lives, pr))
    _chosen_once(errors, child_intake, related)
    return child_intake, related


def _chosen_once(errors: dict, child_intake, related):
    """An existing person can be one person of the contact only."""
    seen = {child_intake.person.pk} if child_intake is not None and child_intake.existing else set()
    for intake, *_ in related:
        if intake.existing:
            if intake.person.pk in seen:
                errors.setdefault(intake.prefix + "person_id", []).append(
                    f"{intake.person.full_name} is already one of the people of this contact")
            seen.add(intake.person.pk)


def _open_enquiry(*, by: User, child_intake, related, consent_at_intake: str, consent_notes: str,
                  **contact_fields) -> Enquiry:
    """Save the people, the contact and its enquiry (the opening step of its history), and the consent
    position at intake; then the people's new details, identity decisions and index entries; audit the
    contact. Call inside atomic()."""
    child_person = identity.save(child_intake)
    people = [child_person]
    for intake, rel, lives, pr in related:
        person = identity.save(intake)
        people.append(person)
        # Two existing people already related so (a second contact about the child) keep their relationship.
        if not (child_intake.existing and intake.existing and Relationship.objects.filter(
                child=child_person, person=person, relationship=rel, to_date__isnull=True).exists()):
            record_relationship(child_person, person, rel, lives_with_child=lives, parental_responsibility=pr)
    contact = Contact.objects.create(recorded_by=by, child=child_person, consent_at_intake=consent_at_intake,
                                     consent_notes=consent_notes, **contact_fields)
    enquiry = Enquiry.objects.create(contact=contact, child=child_person)
    enquiry.reference = f"MASH-{contact.received_at:%Y}-{enquiry.pk:06d}"
    enquiry.save(update_fields=["reference"])
    EnquiryEvent.objects.create(enquiry=enquiry, action=OPENING.name, from_state="", to_state=enquiry.state, by=by)
    from mash.consent.services import record_from_intake

    record_from_intake(enquiry, by=by, consent_at_intake=consent_at_intake, notes=consent_notes)
    for intake in [child_intake] + [r[0] for r in related]:
        identity.settle(intake, by=by, context=enquiry.reference)
    audit.record(AuditKind.WRITE, "contact.record", actor=by, object_type="enquiry",
                 object_ref=enquiry.reference, people=[p.pk for p in people],
                 fields=list(OPENING.changes), detail=f"reporter: {contact.reporter_type}")
    return enquiry


def record_contact(*, by: User, child: dict, reporter_type: str, concern: str, concern_categories: list[str],
                   consent_at_intake: str, received_at: dt.datetime | None = None, reporter_name: str = "",
                   reporter_organisation: str = "", reporter_partner: str | None = None, reporter_phone: str = "",
                   reporter_email: str = "", consent_notes: str = "", related_people: list[dict] = (),
                   check_only: bool = False) -> Enquiry | None:
    """Record a contact and open its MASH enquiry, awaiting a RAG rating. The child and each related person
    are new records, or existing people the caller chose (`person_id` with `identity_reason`; see
    people.services.identity); `identity_checked` says the caller was shown the candidates and chose a new
    person, which is recorded as an identity decision. `check_only`: raise what is wrong, save nothing (the
    contact form checks everything before it offers the people already known)."""
    gate.require(by, rules.RECORD_CONTACT)
    errors: dict[str, list[str]] = {}
    categories = _contact_fields(errors, reporter_type=reporter_type, concern=concern,
                                 concern_categories=concern_categories, consent_at_intake=consent_at_intake,
                                 reporter_name=reporter_name, reporter_phone=reporter_phone,
                                 reporter_email=reporter_email)
    now = timezone.now()
    received_at = _received_at(errors, received_at, now)
    partner = _reporter_partner(errors, reporter_partner)
    child_intake, related = _contact_people(errors, by=by, child=child, related_people=related_people, now=now)
    if errors:
        raise ValidationFailed(errors)
    if check_only:
        return None
    with transaction.atomic():
        return _open_enquiry(
            by=by, child_intake=child_intake, related=related, consent_at_intake=consent_at_intake,
            consent_notes=consent_notes.strip(), received_at=received_at, reporter_type=reporter_type,
            reporter_name=reporter_name.strip(), reporter_organisation=reporter_organisation.strip(),
            reporter_partner=partner, reporter_phone=reporter_phone.strip(), reporter_email=reporter_email.strip(),
            concern=concern.strip(), concern_categories=categories)


def rate(enquiry: Enquiry, *, by: User, rating: str, rationale: str) -> RagRatingRecord:
    """RAG-rate (or re-rate) an enquiry; the ISA's timescale for the rating sets the decision deadline."""
    gate.require(by, rules.RATE, enquiry)
    next_state(enquiry.state, "rate")  # a step out of order is reported before any field error
    errors: dict[str, list[str]] = {}
    _choice(errors, "rating", rating, RagRating, "a RAG rating: red, amber or green")
    _require_text(errors, "rationale", rationale, "the rationale for the rating")
    if errors:
        raise ValidationFailed(errors)
    version, agreement = isa.current()
    timescale = agreement.timescale(rating)
    with transaction.atomic():
        transition(enquiry, "rate", by, note=f"rated {rating}")
        now = timezone.now()
        record = RagRatingRecord.objects.create(
            enquiry=enquiry, rating=rating, rationale=rationale.strip(), rated_by=by, rated_at=now,
            decision_due_at=now + dt.timedelta(hours=timescale.hours), isa_version=version,
            isa_clause=timescale.clause,
        )
        enquiry.rag, enquiry.decision_due_at = rating, record.decision_due_at
        enquiry.save(update_fields=["rag", "decision_due_at"])
    return record


def mark_ready(enquiry: Enquiry, *, by: User, note: str = "") -> Enquiry:
    gate.require(by, rules.MARK_READY, enquiry)
    with transaction.atomic():
        return transition(enquiry, "mark_ready", by, note=note.strip())


def _decision_fields(errors, *, outcome, rationale, recipient_type, receiving_team, receiving_professional):
    _choice(errors, "outcome", outcome, Outcome, "an outcome")
    _require_text(errors, "rationale", rationale, "the rationale for the decision")
    professional = None
    if receiving_professional:
        professional = User.objects.filter(username=receiving_professional, is_active=True,
                                           role=Role.RECEIVING_PROFESSIONAL).first()
        if professional is None:
            errors["receiving_professional"] = [f"'{receiving_professional}' is not a receiving professional"]
    if outcome in HANDED_ON:
        if not (receiving_team or "").strip() and not receiving_professional:
            errors["receiving_team"] = ["Enter the team or professional who will receive the case"]
        if recipient_type not in RecipientType.values:
            errors["recipient_type"] = ["Choose the kind of service receiving the case"]
    elif recipient_type and recipient_type not in RecipientType.values:
        errors["recipient_type"] = ["Choose the kind of service receiving the case"]
    return professional


def _repeat_contacts(enquiry: Enquiry, outcome: str, rationale: str, agreement) -> int | None:
    """The child's contacts in the ISA's window when they reach its repeat-contact threshold (else None).
    No further action then needs the manager's rationale (ISA repeat_contacts): IsaViolation without it."""
    flag = history.repeat_flag(enquiry.child, agreement)
    if not flag.raised:
        return None
    if outcome == Outcome.NO_FURTHER_ACTION and not (rationale or "").strip():
        raise IsaViolation(f"This child has {flag.count} contacts in {flag.months} months: say why no further "
                           "action is right despite the repeat contacts", field="repeat_contacts_rationale")
    return flag.count


def decide(enquiry: Enquiry, *, by: User, outcome: str, rationale: str, recipient_type: str = "",
           receiving_team: str = "", receiving_professional: str = "", repeat_contacts_rationale: str = "") -> Decision:
    """Record the manager's decision. Requests still unanswered lapse. When the child's contacts reach the
    ISA's repeat-contact threshold, no further action needs `repeat_contacts_rationale`; the count at the
    time and the rationale are kept on the decision."""
    gate.require(by, rules.DECIDE, enquiry)
    next_state(enquiry.state, "decide")
    errors: dict[str, list[str]] = {}
    professional = _decision_fields(errors, outcome=outcome, rationale=rationale, recipient_type=recipient_type,
                                    receiving_team=receiving_team, receiving_professional=receiving_professional)
    if errors:
        raise ValidationFailed(errors)
    version, agreement = isa.current()
    repeat = _repeat_contacts(enquiry, outcome, repeat_contacts_rationale, agreement)
    with transaction.atomic():
        transition(enquiry, "decide", by, note=outcome)
        InformationRequest.objects.filter(enquiry=enquiry, status=RequestStatus.OPEN).update(
            status=RequestStatus.LAPSED)
        now = timezone.now()
        # What asked agencies keep after the decision runs from the first decision (ISA after_decision).
        Enquiry.objects.filter(pk=enquiry.pk, decided_at__isnull=True).update(decided_at=now)
        enquiry.decided_at = enquiry.decided_at or now
        gate.forget_facts(enquiry)
        return Decision.objects.create(
            enquiry=enquiry, outcome=outcome, rationale=rationale.strip(), recipient_type=recipient_type or "",
            receiving_team=(receiving_team or "").strip(), receiving_professional=professional, decided_by=by,
            isa_version=version, retention_clause=agreement.retention(outcome).clause, repeat_contacts=repeat,
            repeat_contacts_rationale=(repeat_contacts_rationale or "").strip() if repeat is not None else "",
        )


def amend_decision(enquiry: Enquiry, *, by: User, reason: str, outcome: str, rationale: str,
                   recipient_type: str = "", receiving_team: str = "", receiving_professional: str = "",
                   repeat_contacts_rationale: str = "") -> Decision:
    """A new version of the decision; the earlier one is kept and points to its successor. Amending to no
    further action needs `repeat_contacts_rationale` as deciding it does."""
    gate.require(by, rules.DECIDE, enquiry)
    next_state(enquiry.state, "amend_decision")
    errors: dict[str, list[str]] = {}
    _require_text(errors, "reason", reason, "why the decision is being amended")
    professional = _decision_fields(errors, outcome=outcome, rationale=rationale, recipient_type=recipient_type,
                                    receiving_team=receiving_team, receiving_professional=receiving_professional)
    if errors:
        raise ValidationFailed(errors)
    version, agreement = isa.current()
    repeat = _repeat_contacts(enquiry, outcome, repeat_contacts_rationale, agreement)
    with transaction.atomic():
        transition(enquiry, "amend_decision", by, note=reason.strip())
        previous = current_decision(enquiry)
        return Decision.objects.create(
            enquiry=enquiry, version=previous.version + 1, supersedes=previous, amendment_reason=reason.strip(),
            outcome=outcome, rationale=rationale.strip(), recipient_type=recipient_type or "",
            receiving_team=(receiving_team or "").strip(), receiving_professional=professional, decided_by=by,
            isa_version=version, retention_clause=agreement.retention(outcome).clause, repeat_contacts=repeat,
            repeat_contacts_rationale=(repeat_contacts_rationale or "").strip() if repeat is not None else "",
        )


def close(enquiry: Enquiry, *, by: User, note: str = "") -> Enquiry:
    gate.require(by, rules.CLOSE, enquiry)
    with transaction.atomic():
        return transition(enquiry, "close", by, note=note.strip())


def _team_member(errors: dict, username: str) -> User | None:
    member = None
    if not (username or "").strip():
        errors["member"] = ["Choose the MASH team member"]
    else:
        member = User.objects.filter(username=username.strip(), is_active=True,
                                     role__in=[Role.MASH_WORKER, Role.MASH_MANAGER]).first()
        if member is None:
            errors["member"] = [f"'{username}' is not an active member of the MASH team"]
    return member


def assign(enquiry: Enquiry, *, by: User, member: str, note: str = "") -> EnquiryAssignment:
    """Put a MASH team member on the enquiry: they can then read it as the team does (need-to-know)."""
    gate.require(by, rules.ASSIGN, enquiry)
    next_state(enquiry.state, "assign")
    errors: dict[str, list[str]] = {}
    person = _team_member(errors, member)
    if person is not None and enquiry.assignments.filter(user=person, ended_at__isnull=True).exists():
        errors["member"] = [f"{person.display_name} is already on this enquiry"]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        transition(enquiry, "assign", by, note=f"{person.username}: {note.strip()}".rstrip(": "))
        assignment = EnquiryAssignment.objects.create(enquiry=enquiry, user=person, assigned_by=by)
    gate.forget_facts(enquiry)
    return assignment


def end_assignment(enquiry: Enquiry, *, by: User, member: str, note: str = "") -> EnquiryAssignment:
    """Take a team member off the enquiry. The assignment is kept, with when it ended and by whom."""
    gate.require(by, rules.ASSIGN, enquiry)
    next_state(enquiry.state, "end_assignment")
    errors: dict[str, list[str]] = {}
    person = _team_member(errors, member)
    current = None
    if person is not None:
        current = enquiry.assignments.filter(user=person, ended_at__isnull=True).first()
        if current is None:
            errors["member"] = [f"{person.display_name} is not on this enquiry"]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        transition(enquiry, "end_assignment", by, note=f"{person.username}: {note.strip()}".rstrip(": "))
        current.ended_at, current.ended_by = timezone.now(), by
        current.save(update_fields=["ended_at", "ended_by"])
    gate.forget_facts(enquiry)
    return current
