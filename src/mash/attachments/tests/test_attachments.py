"""Files attached to contribution items: what is accepted (by its bytes), the limits, encryption at
rest, who may add and who may download, and that every step is in the audit log."""

import base64
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from mash.attachments import selectors
from mash.attachments import services
from mash.attachments.models import Attachment
from mash.audit.models import AuditEvent, Kind
from mash.cases import services as cases
from mash.core.errors import DomainError, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from mash.sharing import services as sharing
from mash.sharing.models import ContributionItem
from mash.testing.api import bearer
from mash.testing.cases import PDF_BYTES

pytestmark = pytest.mark.django_db

PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + b"\x00" * 16
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 16 + b"\xff\xd9"
GIF_BYTES = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00;"
TEXT_BYTES = "Notes from the school nurse: seen on 3 March. Café visit.\n".encode()

DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def zipped(entries: dict[str, bytes | str], stored_first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first:
            archive.writestr(zipfile.ZipInfo(stored_first), entries[stored_first], compress_type=zipfile.ZIP_STORED)
        for name, content in entries.items():
            if name != stored_first:
                archive.writestr(name, content)
    return buffer.getvalue()


def content_types(main: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            f'content-types"><Override PartName="/x" ContentType="{main}"/></Types>')


DOCX_BYTES = zipped({"[Content_Types].xml": content_types(DOCX_MAIN), "word/document.xml": "<w:document/>"})
XLSX_BYTES = zipped({"[Content_Types].xml": content_types(XLSX_MAIN), "xl/workbook.xml": "<workbook/>"})
ODT_BYTES = zipped({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<office:document/>"},
                   stored_first="mimetype")


def add(case_with_files, category, data, filename="file", by="police", content_type="application/octet-stream"):
    return services.add_attachment(case_with_files["items"][category], by=case_with_files["users"][by],
                                   filename=filename, content_type=content_type, data=data)


def refused_message(case_with_files, data, filename="file") -> str:
    with pytest.raises(ValidationFailed) as exc:
        add(case_with_files, "police_incidents", data, filename)
    assert list(exc.value.errors) == ["file"]
    return exc.value.errors["file"][0]


# --- Types, by their bytes ----------------------------------------------------------------------

@pytest.mark.parametrize("data, content_type, filename", [
    (PDF_BYTES, "application/pdf", "report.pdf"),
    (PNG_BYTES, "image/png", "photo.png"),
    (JPEG_BYTES, "image/jpeg", "photo.jpeg"),
    (GIF_BYTES, "image/gif", "photo.gif"),
    (DOCX_BYTES, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "letter.docx"),
    (XLSX_BYTES, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "figures.xlsx"),
    (ODT_BYTES, "application/vnd.oasis.opendocument.text", "letter.odt"),
    (TEXT_BYTES, "text/plain", "notes.txt"),
])
def test_accepted_types(case_with_files, data, content_type, filename):
    attachment = add(case_with_files, "police_incidents", data, filename)
    assert (attachment.content_type, attachment.filename, attachment.size) == (content_type, filename, len(data))
    stored = Attachment.objects.get(pk=attachment.pk)
    assert services.file_bytes(stored) == data


@pytest.mark.parametrize("data, says", [
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00This program cannot be run in DOS mode", "Programs"),
    (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 32, "Programs"),
    (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "Web pages"),
    (b"  <html><p>hello</p></html>", "Web pages"),
    (b"Dear colleague,\n<script src=//evil.example/x.js></script>\n", "Web pages"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "Web pages"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>', "Web pages"),
    (zipped({"notes.txt": "just a zip"}), "Only Word"),
    (zipped({"[Content_Types].xml": content_types(DOCX_MAIN)}), "Only Word"),  # no document inside
    (zipped({"[Content_Types].xml": content_types("application/vnd.ms-word.document.macroEnabled.main+xml"),
             "word/document.xml": "<w:document/>", "word/vbaProject.bin": "x"}), "macros"),
    (zipped({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"},
            stored_first="mimetype"), "Only Word"),
    (b"PK\x03\x04not really a zip", "damaged"),
    (b"\xff\xfe\x00\x00binary", "must be a PDF"),
    (b"caf\xe9 latin-1 text", "must be a PDF"),
])
def test_refused_types(case_with_files, data, says):
    message = refused_message(case_with_files, data, "innocent.pdf")
    assert says in message
    assert "PDF" in message
    assert not Attachment.objects.filter(item=case_with_files["items"]["police_incidents"], sha256__isnull=False) \
        .exclude(pk=case_with_files["files"]["police_incidents"].pk).exists()


def test_the_declared_type_and_the_name_are_not_trusted(case_with_files):
    pdf = add(case_with_files, "police_incidents", PDF_BYTES, "photo.png", content_type="image/png")
    assert (pdf.content_type, pdf.filename) == ("application/pdf", "photo.pdf")
    png = add(case_with_files, "police_incidents", PNG_BYTES, "report.pdf", content_type="application/pdf")
    assert (png.content_type, png.filename) == ("image/png", "report.png")
    text = add(case_with_files, "police_incidents", TEXT_BYTES, "run-me.exe", content_type="application/x-msdownload")
    assert (text.content_type, text.filename) == ("text/plain", "run-me.txt")


@pytest.mark.parametrize("given, kept", [
    ("../../etc/passwd", "passwd.pdf"),
    ("C:\\Users\\officer\\Desktop\\statement.pdf", "statement.pdf"),
    ("bad\x00na\x1bme\r\n.pdf", "badname.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.pdf"),  # a right-to-left override disguising the extension
    ("   ", "attachment.pdf"),
    ("..", "attachment.pdf"),
    ("Statement v2.final", "Statement v2.pdf"),
    ("Statement of 1.3.2026 by P.C. Smith", "Statement of 1.3.2026 by P.C. Smith.pdf"),
])
def test_the_filename_is_sanitised(case_with_files, given, kept):
    assert add(case_with_files, "police_incidents", PDF_BYTES, given).filename == kept


def test_a_long_filename_is_cut_to_200_characters_keeping_its_extension(case_with_files):
    name = add(case_with_files, "police_incidents", PDF_BYTES, "x" * 500 + ".pdf").filename
    assert len(name) == 200 and name.endswith("x.pdf")


# --- Size ------------------------------------------------------------------------------------------

def test_the_size_limit(case_with_files, settings):
    settings.MASH_ATTACHMENT_MAX_BYTES = 1024
    assert add(case_with_files, "police_incidents", b"%PDF-" + b"x" * 1019).size == 1024
    message = refused_message(case_with_files, b"%PDF-" + b"x" * 1020)
    assert message == "The selected file must be smaller than 1 KB"
    assert refused_message(case_with_files, b"") == "The selected file is empty"


def test_the_default_limit_is_10_mib():
    from django.conf import settings

    assert settings.MASH_ATTACHMENT_MAX_BYTES == 10 * 1024 * 1024


def test_an_upload_over_the_limit_is_refused_on_the_form(case_with_files, client, settings):
    settings.MASH_ATTACHMENT_MAX_BYTES = 2048
    client.force_login(case_with_files["users"]["police"])
    upload = SimpleUploadedFile("big.pdf", b"%PDF-" + b"x" * 100_000, content_type="application/pdf")
    response = client.post(f"/attachments/items/{case_with_files['items']['police_incidents'].pk}/", {"file": upload})
    assert response.status_code == 400
    assert b"The selected file must be smaller than 2 KB" in response.content


# --- Encryption at rest ----------------------------------------------------------------------

def raw(pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM attachments_attachment WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_the_file_and_its_name_are_stored_encrypted(case_with_files):
    attachment = add(case_with_files, "police_incidents", PDF_BYTES, "FILENAME-SECRET.pdf")
    data, filename = raw(attachment.pk, "data"), raw(attachment.pk, "filename")
    assert data.startswith("enc1:") and filename.startswith("enc1:")
    for column in (data, filename):
        assert "FILE-SECRET-MARKER" not in column and "FILENAME-SECRET" not in column
        assert base64.b64encode(PDF_BYTES).decode()[:40] not in column
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM attachments_attachment")
        everything = repr(cursor.fetchall())
    assert "FILE-SECRET-MARKER" not in everything and "FILENAME-SECRET" not in everything
    assert "%PDF" not in everything and base64.b64encode(b"%PDF-1.7").decode() not in everything
    # Read back through the model, it is the file that was added.
    stored = Attachment.objects.get(pk=attachment.pk)
    assert (stored.filename, services.file_bytes(stored)) == ("FILENAME-SECRET.pdf", PDF_BYTES)


def test_a_file_whose_digest_does_not_match_is_never_served(case_with_files):
    attachment = case_with_files["files"]["police_incidents"]
    Attachment.objects.filter(pk=attachment.pk).update(sha256="0" * 64)
    with pytest.raises(services.Damaged):
        services.file_bytes(Attachment.objects.get(pk=attachment.pk))


# --- Who may add -------------------------------------------------------------------------------

def test_only_the_agency_that_answered_may_add_a_file(case_with_files):
    item = case_with_files["items"]["police_incidents"]
    for who, error in (("education", NotFound), ("unasked", NotFound), ("dpo", NotFound),
                       ("manager", PermissionDenied), ("assigned", PermissionDenied)):
        with pytest.raises(error):
            services.add_attachment(item, by=case_with_files["users"][who], filename="x.pdf", content_type="",
                                    data=PDF_BYTES)
    # The gate comes before the checks on the file: an outsider learns nothing from them.
    with pytest.raises(NotFound):
        services.add_attachment(item, by=case_with_files["users"]["education"], filename="x", content_type="",
                                data=b"MZ")


def test_files_are_added_only_to_the_current_version_while_the_enquiry_takes_answers(case_with_files):
    police = case_with_files["users"]["police"]
    old_item = case_with_files["items"]["police_incidents"]
    sharing.amend_contribution(case_with_files["police_request"], by=police, reason="More", kind="share",
                               lawful_basis="dpa-2018-part-3", decision_reason="Relevant", items=[
                                   dict(category="police_incidents", content="Incident at home (updated)",
                                        relevance_note="Recent")])
    with pytest.raises(DomainError, match="current answer"):
        services.add_attachment(ContributionItem.objects.get(pk=old_item.pk), by=police, filename="x.pdf",
                                data=PDF_BYTES)
    current = ContributionItem.objects.get(contribution__request=case_with_files["police_request"],
                                           contribution__superseded_by__isnull=True)
    assert services.add_attachment(current, by=police, filename="x.pdf", data=PDF_BYTES).pk
    cases.decide(case_with_files["enquiry"], by=case_with_files["users"]["manager"], outcome="no_further_action",
                 rationale="Resolved")
    with pytest.raises(InvalidTransition):
        services.add_attachment(ContributionItem.objects.get(pk=current.pk), by=police, filename="y.pdf",
                                data=PDF_BYTES)


def test_an_amendment_keeps_the_files_of_unchanged_items_and_unsealing_keeps_them_all(case_with_files):
    police = case_with_files["users"]["police"]
    sharing.amend_contribution(case_with_files["police_request"], by=police, reason="Correction", kind="share",
                               lawful_basis="dpa-2018-part-3", decision_reason="Relevant", items=[
                                   dict(category="police_incidents", content="Incident at home",
                                        relevance_note="Recent"),
                                   dict(category="domestic_abuse", content="DA call-out, corrected",
                                        relevance_note="Risk", confidentiality="restricted"),
                                   dict(category="intelligence", content="Covert source", relevance_note="Risk",
                                        confidentiality="sealed")])

    def current_files():
        items = ContributionItem.objects.filter(contribution__request=case_with_files["police_request"],
                                                contribution__superseded_by__isnull=True)
        return {i.category: [(a.filename, services.file_bytes(a)) for a in i.attachments.all()] for i in items}

    assert current_files() == {"police_incidents": [("police_incidents.pdf", PDF_BYTES)], "domestic_abuse": [],
                               "intelligence": [("intelligence.pdf", PDF_BYTES)]}
    # The earlier version keeps its files.
    assert case_with_files["files"]["domestic_abuse"].item_id == case_with_files["items"]["domestic_abuse"].pk
    sharing.unseal(case_with_files["police_request"], by=police, reason="Investigation over")
    assert current_files()["intelligence"] == [("intelligence.pdf", PDF_BYTES)]
    # Unsealed to restricted: the manager now reads the file too.
    unsealed = ContributionItem.objects.get(contribution__request=case_with_files["police_request"],
                                            category="intelligence", contribution__superseded_by__isnull=True)
    assert selectors.attachment(case_with_files["users"]["manager"], unsealed.attachments.get().pk)


def test_adding_a_file_is_recorded_in_the_history_and_the_audit_log(case_with_files):
    attachment = add(case_with_files, "police_incidents", PDF_BYTES, "FILENAME-SECRET.pdf")
    event = AuditEvent.objects.filter(action="enquiry.contribute").latest("id")
    assert (event.actor_id == case_with_files["users"]["police"].pk
            and case_with_files["enquiry"].child_id in event.people)
    assert f"file {attachment.pk} (application/pdf, {len(PDF_BYTES)} bytes)" in event.detail
    assert "FILENAME-SECRET" not in event.detail
    assert any(f"file {attachment.pk} " in e.note
               for e in case_with_files["enquiry"].events.filter(action="contribute"))


# --- Who may download ---------------------------------------------------------------------------

READERS = {
    # item                          manager assigned police education unasked dpo recipient
    "police_incidents":             (200, 200, 200, 404, 404, 404, 404),  # normal
    "domestic_abuse":               (200, 404, 200, 404, 404, 404, 404),  # restricted
    "intelligence":                 (404, 404, 200, 404, 404, 404, 404),  # sealed
    "school_safeguarding_concerns": (404, 404, 404, 200, 404, 404, 404),  # confidential information held
}
WHO = ("manager", "assigned", "police", "education", "unasked", "dpo", "recipient")


@pytest.mark.parametrize("category", READERS)
def test_who_may_download(case_with_files, client, category):
    attachment = case_with_files["files"][category]
    for who, status in zip(WHO, READERS[category]):
        user = case_with_files["users"][who]
        client.force_login(user)
        for url in (f"/attachments/{attachment.pk}/", f"/api/v1/attachments/{attachment.pk}"):
            denials = AuditEvent.objects.filter(kind=Kind.DENIAL, actor_id=user.pk).count()
            response = client.get(url)
            assert response.status_code == status, (who, url, response.status_code)
            if status == 200:
                assert response.content == PDF_BYTES
                assert response["Content-Type"] == "application/pdf"
                assert response["Content-Disposition"] == f'attachment; filename="{category}.pdf"'
                assert response["X-Content-Type-Options"] == "nosniff"
            else:
                assert b"FILE-SECRET-MARKER" not in response.content and category.encode() not in response.content
                assert AuditEvent.objects.filter(kind=Kind.DENIAL, actor_id=user.pk).count() == denials + 1
    client.logout()
    assert client.get(f"/attachments/{attachment.pk}/").status_code == 302
    assert client.get(f"/api/v1/attachments/{attachment.pk}").status_code == 401


def test_a_download_is_recorded_as_an_export_naming_the_child(case_with_files, client):
    manager = case_with_files["users"]["manager"]
    attachment = case_with_files["files"]["police_incidents"]
    client.force_login(manager)
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    assert client.get(f"/attachments/{attachment.pk}/").status_code == 200
    event = AuditEvent.objects.get(id__gt=last, actor_id=manager.pk, kind=Kind.EXPORT)
    assert "attachment" in event.object_type and str(attachment.pk) in event.object_ref
    assert case_with_files["enquiry"].child_id in event.people


def test_a_missing_attachment_is_not_found_and_recorded(case_with_files, client):
    client.force_login(case_with_files["users"]["manager"])
    assert client.get("/attachments/999999/").status_code == 404
    denial = AuditEvent.objects.filter(kind=Kind.DENIAL).latest("id")
    assert (denial.object_type, denial.object_ref) == ("attachment", "999999")
    assert "no such object" in denial.detail


def test_lists_show_the_files_of_readable_items_only(case_with_files, client):
    names = {c: f"{c}.pdf".encode() for c in READERS}
    client.force_login(case_with_files["users"]["assigned"])
    page = client.get(f"/enquiries/{case_with_files['enquiry'].reference}/").content
    assert names["police_incidents"] in page
    assert f'/attachments/{case_with_files["files"]["police_incidents"].pk}/'.encode() in page
    assert names["domestic_abuse"] not in page and names["intelligence"] not in page
    assert names["school_safeguarding_concerns"] not in page
    client.force_login(case_with_files["users"]["manager"])
    page = client.get(f"/enquiries/{case_with_files['enquiry'].reference}/").content
    assert names["police_incidents"] in page and names["domestic_abuse"] in page
    assert names["intelligence"] not in page and names["school_safeguarding_concerns"] not in page
    client.force_login(case_with_files["users"]["education"])
    page = client.get(f"/requests/{case_with_files['education_request'].pk}/").content
    assert names["school_safeguarding_concerns"] in page and names["police_incidents"] not in page
    # Reading the list is recorded, naming the child.
    event = AuditEvent.objects.filter(actor_id=case_with_files["users"]["education"].pk, kind=Kind.READ).latest("id")
    assert "attachment" in event.object_type and case_with_files["enquiry"].child_id in event.people


# --- The web pages --------------------------------------------------------------------------------

def test_the_agency_adds_a_file_from_its_request_page_without_javascript(case_with_files, client):
    police = case_with_files["users"]["police"]
    item = case_with_files["items"]["police_incidents"]
    client.force_login(police)
    page = client.get(f"/requests/{case_with_files['police_request'].pk}/").content.decode()
    assert f'href="/attachments/items/{item.pk}/"' in page
    form = client.get(f"/attachments/items/{item.pk}/").content.decode()
    assert 'enctype="multipart/form-data"' in form and 'type="file"' in form and 'class="govuk-file-upload' in form
    upload = SimpleUploadedFile("Statement.docx", DOCX_BYTES, content_type="application/octet-stream")
    response = client.post(f"/attachments/items/{item.pk}/", {"file": upload})
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{case_with_files['police_request'].pk}/#item-{item.pk}"
    added = Attachment.objects.filter(item=item).latest("id")
    assert (added.filename, added.content_type) == ("Statement.docx", services.DOCX.content_type)
    assert b"Statement.docx" in client.get(f"/requests/{case_with_files['police_request'].pk}/").content


def test_a_refused_file_is_shown_on_the_form(case_with_files, client):
    client.force_login(case_with_files["users"]["police"])
    item = case_with_files["items"]["police_incidents"]
    upload = SimpleUploadedFile("page.html", b"<html><script>x</script></html>", content_type="text/html")
    response = client.post(f"/attachments/items/{item.pk}/", {"file": upload})
    assert response.status_code == 400
    body = response.content.decode()
    assert "govuk-error-summary" in body and 'href="#id_file"' in body and "Web pages, SVG" in body
    assert client.post(f"/attachments/items/{item.pk}/", {}).status_code == 400


def test_others_cannot_reach_the_page_to_add_a_file(case_with_files, client):
    item = case_with_files["items"]["police_incidents"]
    for who, status in (("manager", 403), ("assigned", 403), ("education", 404), ("unasked", 404), ("dpo", 404)):
        client.force_login(case_with_files["users"][who])
        assert client.get(f"/attachments/items/{item.pk}/").status_code == status, who
        upload = SimpleUploadedFile("x.pdf", PDF_BYTES)
        assert client.post(f"/attachments/items/{item.pk}/", {"file": upload}).status_code == status, who
    assert Attachment.objects.filter(item=item).count() == 1
    client.force_login(case_with_files["users"]["manager"])
    assert b"/attachments/items/" not in client.get(f"/requests/{case_with_files['police_request'].pk}/").content


# --- The API ----------------------------------------------------------------------------------------

def test_the_api_adds_and_downloads_files(case_with_files, client):
    item = case_with_files["items"]["police_incidents"]
    police = bearer(case_with_files["users"]["police"])
    upload = SimpleUploadedFile("scan.pdf", PNG_BYTES, content_type="application/pdf")
    response = client.post(f"/api/v1/items/{item.pk}/attachments", {"file": upload}, headers=police)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["filename"], body["content_type"], body["size"], body["item_id"]) == (
        "scan.png", "image/png", len(PNG_BYTES), item.pk)
    download = client.get(f"/api/v1/attachments/{body['id']}", headers=police)
    assert download.status_code == 200 and download.content == PNG_BYTES
    assert download["Content-Type"] == "image/png" and download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"] == 'attachment; filename="scan.png"'
    # The contribution lists each item's id and files.
    detail = client.get(f"/api/v1/information-requests/{case_with_files['police_request'].pk}", headers=police).json()
    items = {i["category"]: i for i in detail["contributions"][-1]["items"]}
    assert items["police_incidents"]["id"] == item.pk
    assert [a["filename"] for a in items["police_incidents"]["attachments"]] == ["police_incidents.pdf", "scan.png"]


def test_the_api_refuses_with_the_usual_codes(case_with_files, client):
    item = case_with_files["items"]["police_incidents"]
    url = f"/api/v1/items/{item.pk}/attachments"
    police = bearer(case_with_files["users"]["police"])
    refused = client.post(url, {"file": SimpleUploadedFile("a.svg", b"<svg/>")}, headers=police)
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["file"]
    missing = client.post(url, {}, headers=police)
    assert missing.status_code == 400 and missing.json()["errors"] == {"file": ["Select a file"]}
    assert client.post(url, {"file": SimpleUploadedFile("a.pdf", PDF_BYTES)},
                       headers=bearer(case_with_files["users"]["manager"])).status_code == 403
    assert client.post(url, {"file": SimpleUploadedFile("a.pdf", PDF_BYTES)},
                       headers=bearer(case_with_files["users"]["education"])).status_code == 404
    assert client.post("/api/v1/items/999999/attachments", {"file": SimpleUploadedFile("a.pdf", PDF_BYTES)},
                       headers=police).status_code == 404
    assert client.post(url, {"file": SimpleUploadedFile("a.pdf", PDF_BYTES)}).status_code == 401
    cases.decide(case_with_files["enquiry"], by=case_with_files["users"]["manager"], outcome="no_further_action",
                 rationale="Resolved")
    assert client.post(url, {"file": SimpleUploadedFile("a.pdf", PDF_BYTES)}, headers=police).status_code == 409


def test_the_openapi_document_lists_the_attachment_operations(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    upload = paths["/api/v1/items/{item_id}/attachments"]["post"]
    assert upload["x-access-policy"] == "case:request.answer"
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert paths["/api/v1/attachments/{attachment_id}"]["get"]["x-access-policy"] == "case:attachment.read"


def test_refusing_a_download_loads_neither_the_file_nor_the_items_text(case_with_files, client, monkeypatch):
    """Not hidden after loading: for someone who may not read the item, the queries never select them."""
    loaded = []
    for model in (ContributionItem, Attachment):
        original = model.from_db.__func__

        def spy(cls, db, field_names, values, original=original):
            loaded.append(dict(zip(field_names, values)))
            return original(cls, db, field_names, values)

        monkeypatch.setattr(model, "from_db", classmethod(spy))
    client.force_login(case_with_files["users"]["manager"])
    assert client.get(f"/attachments/{case_with_files['files']['intelligence'].pk}/").status_code == 404
    assert loaded and all(not ({"content", "relevance_note", "data"} & set(row)) for row in loaded)
    assert client.post(f"/attachments/items/{case_with_files['items']['intelligence'].pk}/").status_code == 403
    assert all(not ({"content", "relevance_note", "data"} & set(row)) for row in loaded)
