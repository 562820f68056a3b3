"""Files attached to contribution items: an agency adds one to an item of its current answer; whoever
may read the item downloads it. Listed with each item in the contributions (mash.sharing.api)."""

import datetime as dt
from typing import Annotated

from ninja import Field, File, Path, Router, Schema
from ninja.files import UploadedFile

from mash.access.guard import guarded_operation
from mash.access.rules import ANSWER_REQUEST, READ_ATTACHMENT
from mash.core.api import MAX_ID, access, case_policy, created, read, responses

from . import selectors, services
from .views import attach

router = Router(tags=["attachments"])

ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="the contribution item's id")]
AttachmentId = Annotated[int, Path(ge=1, le=MAX_ID, description="the attachment's id")]


# Read from the Attachment the service made.
class AttachmentOut(Schema):
    id: int
    item_id: int
    filename: str
    content_type: str = Field(description="the type the file's bytes show, not the one declared")
    size: int = Field(description="bytes")
    sha256: str = Field(description="of the file as added (hex); checked again on every download")
    uploaded_at: dt.datetime
    uploaded_by: str

    resolve_uploaded_by = read("uploaded_by.display_name")


@router.post("/items/{item_id}/attachments", response=responses({201: AttachmentOut}, 400, 404, 409, 422),
             openapi_extra=access(case_policy(ANSWER_REQUEST)),
             summary="Attach a file (multipart field `file`) to an item of your agency's current answer: "
                     "PDF, PNG, JPEG, GIF, DOCX, XLSX, ODT or plain text, judged by its bytes")
@guarded_operation(ANSWER_REQUEST, load=selectors.attachable_item)
def add_attachment(request, item, item_id: ItemId, file: UploadedFile = File(None)):
    # `UploadedFile`, not `| None`: the document then shows a binary part (a form field is never null);
    # a request without one is still answered 400 "Select a file", as the web form is.
    return created(attach(item, request.user, file))


@router.get("/attachments/{attachment_id}", response=responses({200: None}, 404, 422),
            openapi_extra={**access(case_policy(READ_ATTACHMENT)), "responses": {200: {
                "description": "The file, as an attachment, with the type its bytes show",
                "content": {kind.content_type: {"schema": {"type": "string", "format": "binary"}}
                            for kind in services.KINDS}}}},
            summary="Download a file attached to an item you may read")
@guarded_operation(READ_ATTACHMENT)  # the service loads the file through the gate
def download(request, attachment_id: AttachmentId):
    return services.download(request.user, attachment_id)
