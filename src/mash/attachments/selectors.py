"""Reading files attached to items of an agency's answer, through the gate: a file is readable exactly
where its item is (the rules `sharing.selectors.contribution_views` selects items by)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import BigIntegerField

from mash.access import gate
from mash.access.filters import item_q
from mash.access.rules import ANSWER_REQUEST, CONTRIBUTIONS, READ_ATTACHMENT, READ_FIELD, VIEW_ENQUIRY, Subject, evaluate
from mash.audit import services as audit
from mash.cases.models import Enquiry
from mash.core.errors import NotFound
from mash.sharing.models import ContributionItem, ContributionKind, InformationRequest

from .models import TYPE_LABELS, Attachment


@dataclass
class AttachmentView:
    """A file attached to an item the user may read: what the listing shows, never the file itself."""

    id: int
    filename: str
    content_type: str
    size: int
    uploaded_at: object

    @property
    def type_label(self) -> str:
        return TYPE_LABELS.get(self.content_type, self.content_type)


def list_attachments(views: list, enquiry_obj: Enquiry) -> None:
    """The files of the items the views hold (items the user reads), listed without their content."""
    items = {i.id: i for v in views for i in v.items}
    if not items:
        return
    rows = list(Attachment.objects.filter(item_id__in=items).select_related("item__contribution__enquiry")
                .only("id", "item", "filename", "content_type", "size", "uploaded_at", "item__contribution",
                      "item__contribution__enquiry__child").order_by("id"))
    for a in rows:
        items[a.item_id].attachments.append(AttachmentView(id=a.pk, filename=a.filename, content_type=a.content_type,
                                                           size=a.size, uploaded_at=a.uploaded_at))
    if rows:
        audit.note_read("attachment", ",".join(str(a.pk) for a in rows), [enquiry_obj.child_id],
                        (CONTRIBUTIONS, "attachments"))


def attachment(user, attachment_id: int):
    """One file attached to an item, for its download: readable exactly where its item is (the rules of
    `contribution_views`), else NotFound, recorded. The file's content is loaded by the caller, from
    the row this returns; the read is recorded here."""
    # Neither the file nor its item's text is selected here: only what the rules need.
    found = (Attachment.objects.select_related("item__contribution__enquiry")
             .only("id", "item", "filename", "content_type", "size", "sha256", "uploaded_at", "uploaded_by",
                   "item__confidentiality", "item__contribution__kind", "item__contribution__partner",
                   "item__contribution__enquiry")
             .filter(pk=attachment_id).first())
    reason = "no such attachment" if found is None else _item_refusal(user, found.item)
    if reason:
        gate.record_denial(user, READ_ATTACHMENT, "attachment", attachment_id, found is not None, reason)
        raise NotFound()
    enquiry_obj = found.item.contribution.enquiry
    audit.note_read("attachment", f"{enquiry_obj.reference}/{found.pk}", [enquiry_obj.child_id],
                    (CONTRIBUTIONS, "attachment"))
    return found


def _item_refusal(user, item: ContributionItem) -> str | None:
    """Why the user may not read this item (None when they may): the enquiry first, then the item's
    agency and level, decided by the same query `contribution_views` selects items with."""
    enquiry_obj = item.contribution.enquiry
    verdict = gate.decide(user, VIEW_ENQUIRY, enquiry_obj)
    if not verdict:
        return verdict.reason
    subject, facts = Subject.of(user), gate.facts_for(enquiry_obj)
    readable = ContributionItem.objects.filter(item_q(subject, facts), pk=item.pk, contribution__enquiry=enquiry_obj)
    if not evaluate(subject, READ_FIELD, facts, field_name=CONTRIBUTIONS):
        readable = readable.filter(contribution__partner_id=subject.partner_id or -1)
    if not readable.exists():
        if item.contribution.kind == ContributionKind.CONFIDENTIAL_HELD:
            return "confidential information held by another agency"
        return f"a {item.confidentiality} item, which the caller's link to this case does not read"
    return None


def attachable_item(user, item_id: int) -> ContributionItem:
    """An item of an agency's answer, for adding a file to it: only that agency may (ANSWER_REQUEST on
    the request). NotFound (recorded) where the user may not see the request, PermissionDenied where
    they see it but may not answer it."""
    # An id past the database's range names no item (and SQLite cannot even compare it).
    in_range = 0 < item_id <= BigIntegerField.MAX_BIGINT
    request_obj = (InformationRequest.objects.select_related("enquiry", "partner")
                   .filter(contributions__items=item_id).first()) if in_range else None
    if request_obj is None:
        gate.record_denial(user, ANSWER_REQUEST, "contributionitem", item_id, False, "no such item")
        raise NotFound()
    gate.require(user, ANSWER_REQUEST, request_obj)  # before the item itself is loaded
    found = (ContributionItem.objects.select_related("contribution__request__enquiry__child",
                                                     "contribution__request__partner", "contribution__enquiry")
             .get(pk=item_id))
    enquiry_obj = found.contribution.enquiry
    audit.note_read("contribution item", f"{enquiry_obj.reference}/{found.pk}", [enquiry_obj.child_id],
                    (CONTRIBUTIONS,))
    return found

