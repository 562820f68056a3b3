"""Reading for the audit log's pages, through the gate: whose trail or activity a reader asks for, each
look recorded as a read. Only the roles `rules.AUDIT_ROLES` names reach them."""

from __future__ import annotations

from mash.access import gate
from mash.access.rules import VIEW_PERSON_TRAIL, VIEW_USER_ACTIVITY
from mash.accounts.models import User
from mash.audit import services as audit
from mash.audit.models import AuditEvent
from mash.cases.models import Enquiry
from mash.core.errors import NotFound
from mash.people.models import Person


def person_for_trail(user, person_id: int):
    """The person whose record's audit trail `user` asks for; recorded as a read of their record."""
    gate.require_audit_reader(user, VIEW_PERSON_TRAIL, "person", person_id)
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        gate.record_denial(user, VIEW_PERSON_TRAIL, "person", person_id, False, "no such person")
        raise NotFound()
    audit.note_read("audit trail of person", str(person.pk), [person.pk], ("audit trail",))
    return person


def child_for_trail(user, reference: str):
    """The child of an enquiry, found by its reference, for the audit trail."""
    gate.require_audit_reader(user, VIEW_PERSON_TRAIL, "enquiry", reference)
    found = Enquiry.objects.filter(reference=(reference or "").strip().upper()).values_list("child_id", flat=True)
    child_id = found.first()
    if child_id is None:
        gate.record_denial(user, VIEW_PERSON_TRAIL, "enquiry", reference, False, "no such enquiry")
        raise NotFound()
    return child_id


def actor_for_activity(user, actor_id: int):
    """The user whose activity `user` asks for (a User, or None for someone known only to the log)."""
    gate.require_audit_reader(user, VIEW_USER_ACTIVITY, "user", actor_id)
    actor = User.objects.select_related("partner").filter(pk=actor_id).first()
    if actor is None and not AuditEvent.objects.filter(actor_id=actor_id).exists():
        gate.record_denial(user, VIEW_USER_ACTIVITY, "user", actor_id, False, "no such user")
        raise NotFound()
    audit.note_read("activity of user", str(actor_id), (), ("audit trail",))
    return actor


def activity_list(user):
    gate.require_audit_reader(user, VIEW_USER_ACTIVITY, "user", "*")
    audit.note_read("activity of users", "all", (), ("audit summary",))

