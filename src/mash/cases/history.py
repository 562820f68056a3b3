"""An enquiry's history: every step taken on it, recorded once, with its audit event, by `transition`.

The only writer of the enquiry's state and of its history. Each domain's services take their steps through
it (consent, answers, files, packages), so it sits below them all: it imports only the enquiry's models,
the step registry and the audit log."""

from __future__ import annotations

from mash.audit import services as audit
from mash.audit.models import Kind as AuditKind

from .models import Enquiry, EnquiryEvent
from .states import next_state
from .steps import step as declared_step


def transition(enquiry: Enquiry, action: str, by, note: str = "", people=()) -> Enquiry:
    """Take the step `action` (declared in mash.cases.steps), holding the enquiry's row so two people cannot
    both move it. Call inside atomic().

    The step is recorded in the enquiry's history and, in the same transaction, in the audit log: the parts
    of the enquiry it changes, and its note only if the step's note is a code (others are free text and stay
    on the enquiry, out of the log that auditors read)."""
    locked = Enquiry.objects.select_for_update().get(pk=enquiry.pk)
    to_state = next_state(locked.state, action)
    step = declared_step(action)
    EnquiryEvent.objects.create(enquiry=locked, action=action, from_state=locked.state, to_state=to_state,
                                by=by, note=note)
    audit.record(AuditKind.DISCLOSURE if step.discloses else AuditKind.WRITE, f"enquiry.{action}",
                 actor=by, object_type="enquiry", object_ref=locked.reference, people=[locked.child_id, *people],
                 fields=list(step.changes),
                 detail=f"{locked.state} -> {to_state}" + (f"; {note}" if note and step.coded_note else ""))
    if to_state != locked.state:
        locked.state = to_state
        locked.save(update_fields=["state"])
    enquiry.state = locked.state
    return enquiry
