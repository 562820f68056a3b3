"""Adding a file to an item of an agency's answer, and giving it back: checked, sniffed, encrypted.

A file is accepted only when its own bytes say it is one of the kinds below (the declared type and
the name's extension are ignored), it is no larger than MASH_ATTACHMENT_MAX_BYTES, and the person
adding it may answer the request for that agency, on the answer's current version, while the
enquiry still takes contributions. The bytes are stored encrypted (models.Attachment).
"""

from __future__ import annotations

import base64
import hashlib
import io
import posixpath
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.utils.http import content_disposition_header

from mash.access import gate, rules
from mash.audit import services as audit
from mash.cases.models import Enquiry
from mash.cases.history import transition
from mash.cases.states import next_state
from mash.core.errors import DomainError, ValidationFailed
from mash.sharing.models import Contribution, ContributionItem

from . import selectors
from .models import TYPE_LABELS, Attachment

MAX_FILENAME = 200
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # control, formatting, surrogate, private, unassigned
_EXTENSION = re.compile(r"^[A-Za-z0-9]{1,5}$")

# --- What a file is, from its bytes -------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    content_type: str
    extensions: tuple[str, ...]

    @property
    def label(self) -> str:
        return TYPE_LABELS[self.content_type]


PDF = Kind("application/pdf", (".pdf",))
PNG = Kind("image/png", (".png",))
JPEG = Kind("image/jpeg", (".jpg", ".jpeg"))
GIF = Kind("image/gif", (".gif",))
DOCX = Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",))
XLSX = Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))
ODT = Kind("application/vnd.oasis.opendocument.text", (".odt",))
TEXT = Kind("text/plain", (".txt",))
KINDS = (PDF, PNG, JPEG, GIF, DOCX, XLSX, ODT, TEXT)
BY_TYPE = {k.content_type: k for k in KINDS}

ALLOWED = "PDF, PNG, JPEG or GIF images, Word (.docx), Excel (.xlsx) or OpenDocument text (.odt) files, or plain text"
REFUSED = f"The file must be a PDF, an image or a document: {ALLOWED}"

# The main part of an Office Open XML document, as [Content_Types].xml names it, and where it lives.
_OOXML = {
    DOCX: ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", "word/document.xml"),
    XLSX: ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", "xl/workbook.xml"),
}
# Parts read from inside a ZIP are small; anything larger is not what it claims to be.
_MAX_PART = 1024 * 1024
_MAX_ENTRIES = 10_000
# Markup a browser could run or render (HTML, SVG, XML) is not plain text, whatever it is called.
_MARKUP = re.compile(rb"<\s*(!doctype|html|head|body|script|iframe|svg|object|embed|style|meta|link|\?xml)\b",
                     re.IGNORECASE)


class Refused(Exception):
    """The bytes are not a kind of file MASH Hub accepts; the message says why, for the person."""


def sniff(data: bytes) -> Kind:
    """The kind of file `data` is, from its magic numbers and structure; Refused if none accepted."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if data.startswith(b"PK\x03\x04"):
        return _office_document(data)
    if data.startswith(b"MZ") or data.startswith(b"\x7fELF"):
        raise Refused(f"Programs cannot be attached. {REFUSED}")
    return _plain_text(data)


def _read_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > _MAX_PART:
        raise Refused(f"The document's {info.filename} is too large to be genuine. {REFUSED}")
    with archive.open(info) as part:
        return part.read(_MAX_PART + 1)[:_MAX_PART]


def _office_document(data: bytes) -> Kind:
    """A ZIP is accepted only as a .docx, .xlsx (without macros) or .odt, judged by what is inside it."""
    not_office = f"Only Word (.docx), Excel (.xlsx) and OpenDocument text (.odt) files may be ZIP archives. {REFUSED}"
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise Refused(f"The file is a damaged ZIP archive. {REFUSED}") from None
    if len(entries) > _MAX_ENTRIES:
        raise Refused(not_office)
    names = {i.filename: i for i in entries}
    try:
        if "mimetype" in names:
            mimetype = _read_part(archive, names["mimetype"]).strip().decode("ascii", "replace")
            if mimetype != ODT.content_type:
                raise Refused(not_office)
            if "content.xml" not in names or any(n.startswith(("Basic/", "Scripts/")) for n in names):
                raise Refused(f"OpenDocument files with macros or scripts cannot be attached. {REFUSED}")
            return ODT
        if "[Content_Types].xml" in names:
            types = _read_part(archive, names["[Content_Types].xml"]).decode("utf-8", "replace")
            if any(n.lower().endswith("vbaproject.bin") for n in names) or "macroEnabled" in types:
                raise Refused(f"Office documents with macros cannot be attached. {REFUSED}")
            for kind, (main_type, part) in _OOXML.items():
                if main_type in types and part in names:
                    return kind
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, OSError):  # encrypted, unsupported
        raise Refused(f"The file is a damaged or protected ZIP archive. {REFUSED}") from None
    raise Refused(not_office)


def _plain_text(data: bytes) -> Kind:
    if b"\x00" in data:
        raise Refused(REFUSED)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(REFUSED) from None
    if _MARKUP.search(data) or data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise Refused(f"Web pages, SVG and other markup cannot be attached. {REFUSED}")
    return TEXT


# --- The name ----------------------------------------------------------------------------------

def clean_filename(name: str, kind: Kind) -> str:
    """The name as shown and downloaded: the last part of any path, without control or formatting
    characters (a right-to-left override can disguise an extension), at most 200 characters, and
    ending with an extension of the kind the bytes are: `scan.pdf` holding a PNG becomes `scan.png`,
    `notes` holding text `notes.txt`."""
    name = posixpath.basename((name or "").replace("\\", "/"))
    name = "".join(c for c in name if unicodedata.category(c) not in _INVISIBLE)
    name = " ".join(name.split()).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not (dot and stem.strip(" .")):
        stem, ext = name, ""
    if f".{ext.lower()}" not in kind.extensions:
        if not _EXTENSION.match(ext):  # not an extension, but part of the name: keep it
            stem = name
        ext = kind.extensions[0].lstrip(".")
    stem = stem[:MAX_FILENAME - len(ext) - 1].rstrip(" .") or "attachment"
    return f"{stem}.{ext}"


# --- Adding --------------------------------------------------------------------------------------

def max_bytes() -> int:
    return settings.MASH_ATTACHMENT_MAX_BYTES


def size_label(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n // 1024} KB"
    return f"{n} bytes"


def check_file(filename: str, data: bytes) -> tuple[Kind, str]:
    """(the kind the bytes are, the clean name), or ValidationFailed on `file` saying what is wrong."""
    if data is None or len(data) == 0:
        raise ValidationFailed({"file": ["The selected file is empty"]})
    if len(data) > max_bytes():
        raise ValidationFailed({"file": [f"The selected file must be smaller than {size_label(max_bytes())}"]})
    try:
        kind = sniff(data)
    except Refused as exc:
        raise ValidationFailed({"file": [str(exc)]}) from None
    return kind, clean_filename(filename, kind)


def add_attachment(item: ContributionItem, *, by, filename: str, content_type: str = "", data: bytes) -> Attachment:
    """Attach a file to an item of the caller's agency's current answer.

    `content_type` is what the sender declared; it is not trusted, and the type stored is the one the
    bytes show. The step is kept in the enquiry's history and, in the same transaction, the audit log."""
    contribution = item.contribution
    request = contribution.request
    gate.require(by, rules.ANSWER_REQUEST, request)
    if not contribution.is_current:
        raise DomainError("Files can be added only to your agency's current answer")
    next_state(request.enquiry.state, "contribute")  # a decided or closed enquiry takes no more
    kind, name = check_file(filename, data)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        enquiry = Enquiry.objects.select_for_update().get(pk=request.enquiry_id)
        # Under the enquiry's lock (which an amendment takes too): is this still the current answer?
        if Contribution.objects.filter(supersedes_id=contribution.pk).exists():
            raise DomainError("Your agency's answer was amended meanwhile: add the file to the current version")
        attachment = Attachment.objects.create(item=item, filename=name, content_type=kind.content_type,
                                               size=len(data), sha256=digest, uploaded_by=by,
                                               data=base64.b64encode(data).decode("ascii"))
        transition(enquiry, "contribute", by, note=f"{request.partner.slug}: file {attachment.pk} "
                                                   f"({kind.content_type}, {len(data)} bytes) added to item {item.pk}")
    request.enquiry.state = enquiry.state
    return attachment


def carry_forward(previous: Contribution, current: Contribution) -> int:
    """A new version of an answer (an amendment, an unsealing) keeps the files of each item it leaves
    as it was (same category and information); a changed or new item starts without. The files are
    encrypted again for their new row. Call inside the transaction that saves `current`."""
    old = list(previous.items.prefetch_related("attachments"))
    if not any(i.attachments.all() for i in old):
        return 0
    copied = 0
    for item in current.items.all():
        match = next((o for o in old if o.category == item.category and o.content == item.content), None)
        if match is None:
            continue
        old.remove(match)
        for a in match.attachments.all():
            Attachment.objects.create(item=item, filename=a.filename, content_type=a.content_type, size=a.size,
                                      sha256=a.sha256, data=a.data, uploaded_by_id=a.uploaded_by_id,
                                      uploaded_at=a.uploaded_at)
            copied += 1
    return copied


# --- Giving it back ------------------------------------------------------------------------------

class Damaged(Exception):
    """The stored file no longer matches its digest: a fault to investigate, never served."""


def file_bytes(attachment: Attachment) -> bytes:
    """The file, decrypted and checked against the digest taken when it was added."""
    data = base64.b64decode(attachment.data)
    if hashlib.sha256(data).hexdigest() != attachment.sha256:
        raise Damaged("The stored file does not match the one that was added")
    return data


def download(user, attachment_id: int) -> HttpResponse:
    """The file as a download (web and API), through the gate, recorded as an export."""
    attachment = selectors.attachment(user, attachment_id)
    audit.mark_export()
    response = HttpResponse(file_bytes(attachment), content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(True, attachment.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
