"""Adding a file to an item of an agency's answer, and downloading one. Works without JavaScript."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from mash.access.guard import FORM, SAFE, guarded
from mash.access.rules import ANSWER_REQUEST, READ_ATTACHMENT
from mash.core.errors import ValidationFailed
from mash.core.web import submit, translate_errors
from mash.partners import services as isa

from . import selectors, services
from .forms import AttachmentForm


def read_upload(upload) -> bytes:
    """At most one byte more than the limit: enough for the service to refuse a file too large."""
    return upload.read(services.max_bytes() + 1)


def attach(item, by, upload):
    """Hand an upload (web or API) to the service; a missing file is an error on `file`."""
    if upload is None:
        raise ValidationFailed({"file": ["Select a file"]})
    return services.add_attachment(item, by=by, filename=upload.name or "", content_type=upload.content_type or "",
                                   data=read_upload(upload))


def _category_label(category: str) -> str:
    try:
        return isa.current()[1].category_label(category)
    except isa.NoAgreementLoaded:
        return category


@guarded(ANSWER_REQUEST, load=selectors.attachable_item, methods=FORM)
@translate_errors
def add(request, item):
    """The agency's own worker adds a file to an item of its current answer."""
    user = request.user
    info_request = item.contribution.request
    status = 200
    if request.method == "POST":
        form = AttachmentForm(request.POST, request.FILES)
        added, status = submit(form, lambda f: attach(item, user, request.FILES.get("file")))
        if status is None:
            messages.success(request, f"{added.filename} has been added to your agency's answer")
            return redirect(reverse("sharing:request", args=[info_request.pk]) + f"#item-{item.pk}")
    else:
        form = AttachmentForm()
    return render(request, "attachments/add.html", {
        "item": item,
        "category_label": _category_label(item.category),
        "info_request": info_request,
        "enquiry": info_request.enquiry,
        "attachments": list(item.attachments.defer("data").order_by("id")),
        "current": item.contribution.is_current,
        "form": form,
        "max_size": services.size_label(services.max_bytes()),
        "allowed": services.ALLOWED,
    }, status=status)


@guarded(READ_ATTACHMENT, methods=SAFE)  # the service loads the file through the gate (selectors.attachment)
@translate_errors
def download(request, attachment_id):
    return services.download(request.user, attachment_id)
