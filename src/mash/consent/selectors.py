"""Reading consent, and sharing without it: what a share outside the council relies on (`basis_for`,
asked by every share before it goes ahead), and, through the gate, an enquiry's consent position for the
team and the one record or proposal a change is made to."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from mash.access import gate
from mash.access.rules import APPROVE_OVERRIDE, CONSENT, READ_FIELD, RECORD_CONSENT
from mash.audit import services as audit
from mash.cases import selectors as cases
from mash.cases.models import Enquiry
from mash.core.errors import IsaViolation
from mash.core.vocabulary import ConsentPurpose, ConsentStatus

from .models import ConsentOverride, ConsentRecord, OverrideStatus


class ConsentRequired(IsaViolation):
    """A share outside the council that has neither consent nor approved sharing without consent
    (ISA clause 4.1). An ISA violation, so that the API answers 422 with the field, "consent"."""

    status = 422

    def __init__(self, message: str):
        super().__init__(message, field="consent")


def people_on(enquiry: Enquiry) -> dict[int, object]:
    """The child and the people recorded around them: whose consent may be recorded on this enquiry."""
    child = enquiry.child
    people = {child.pk: child}
    for rel in child.relationships.select_related("person"):
        people[rel.person_id] = rel.person
    return people


def refuses(record: ConsentRecord, purpose: str) -> bool:
    """A refusal with no purposes refuses everything."""
    return record.status == ConsentStatus.REFUSED and (not record.purposes or purpose in record.purposes)


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
        if refuses(r, purpose):
            break
        if r.status == ConsentStatus.GIVEN and not r.is_withdrawn and purpose in r.purposes:
            given.append(r)
    for candidate in given:
        if all(a in candidate.agencies for a in agencies):
            return Basis(consent=candidate)
    missing = [a for a in agencies if a not in given[0].agencies] if given else []
    refusal = next((r for r in records if refuses(r, purpose)), None)
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
                           overrides=overrides, people=people_on(enquiry))


# --- Through the gate ------------------------------------------------------------------------------


def consent_position(user, enquiry_obj: Enquiry):
    """The consent records and sharing without consent on an enquiry, for the team."""
    gate.require(user, READ_FIELD, enquiry_obj, CONSENT)
    found = position(enquiry_obj)
    audit.note_read("consent", enquiry_obj.reference, [r.person_id for r in found.records] + [enquiry_obj.child_id],
                    (CONSENT,))
    return found


def consent_record(user, enquiry_obj: Enquiry, record_id: int):
    """One consent record on this enquiry, for a change to it (withdrawal)."""
    return gate.on_enquiry(user, RECORD_CONSENT, enquiry_obj, ConsentRecord, record_id)


def consent_override(user, enquiry_obj: Enquiry, override_id: int):
    """One proposal to share without consent on this enquiry, for a manager's decision on it."""
    return gate.on_enquiry(user, APPROVE_OVERRIDE, enquiry_obj, ConsentOverride, override_id)


def record_on(user, reference: str, record_id: int):
    """(the enquiry, one consent record on it), by the enquiry's reference, for a withdrawal: each through
    the gate, each refusal recorded."""
    enquiry = cases.enquiry(user, reference)
    return enquiry, consent_record(user, enquiry, record_id)


def override_on(user, reference: str, override_id: int):
    """(the enquiry, one proposal to share without consent on it), by the enquiry's reference, for a
    manager's decision: each through the gate, each refusal recorded."""
    enquiry = cases.enquiry(user, reference)
    return enquiry, consent_override(user, enquiry, override_id)
