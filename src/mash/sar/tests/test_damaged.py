"""A damaged SAR item or pack (a JSON value whose ciphertext fails its integrity check) is shown as such:
the pages and the pack say it cannot be shown and the rest renders; nothing damaged is issued
(docs/encryption.md, Damaged data)."""

import pytest

from mash.keys.integrity import MESSAGE
from mash.sar import services
from mash.sar.models import ItemSource, SarItem, SarPack
from mash.testing.cases import MOTHER, decide_all, log_sar
from mash.testing.database import damage, damage_sent_package


@pytest.fixture
def sar(dpo, full_case):
    found = log_sar(dpo, [full_case.child])
    services.compile_request(found, by=dpo)
    return found


def _school(sar, full_case):
    return sar.items.get(source=ItemSource.ITEM, source_id=full_case.school.pk)


@pytest.mark.django_db
def test_a_damaged_item_s_fields_are_shown_as_such_and_are_never_issued(client, dpo, full_case, sar):
    item = _school(sar, full_case)
    damage(SarItem, item.pk, "fields")
    client.force_login(dpo)
    page = client.get(f"/sar/{sar.reference}/items/{item.pk}/")
    assert page.status_code == 200 and MESSAGE in page.content.decode()
    assert "Attendance 81%" not in page.content.decode()
    assert client.get(f"/sar/{sar.reference}/").status_code == 200
    decide_all(sar, dpo, {})
    preview = client.get(f"/sar/{sar.reference}/pack/")
    assert preview.status_code == 200 and MESSAGE in preview.content.decode()
    assert "Officers called after [redacted]" in preview.content.decode()  # the rest of the pack
    refused = client.post(f"/sar/{sar.reference}/pack/")
    assert refused.status_code == 409 and "failed an integrity check" in refused.content.decode()
    assert not SarPack.objects.exists()
    listing = client.get(f"/api/v1/sars/{sar.reference}/items")
    assert listing.status_code == 200 and listing["X-Integrity-Errors"] == "1"
    [school] = [i for i in listing.json() if i["id"] == item.pk]
    assert school["fields"] == {"Information": None}


@pytest.mark.django_db
def test_damaged_redactions_never_let_the_text_out_unredacted(client, dpo, full_case, sar):
    police = sar.items.get(source=ItemSource.ITEM, source_id=full_case.police.pk)
    decide_all(sar, dpo, {})
    police.refresh_from_db()
    assert police.decision == "redact"
    damage(SarItem, police.pk, "redactions")
    client.force_login(dpo)
    preview = client.get(f"/sar/{sar.reference}/pack/")
    body = preview.content.decode()
    assert preview.status_code == 200 and MESSAGE in body and MOTHER not in body
    assert client.get(f"/sar/{sar.reference}/items/{police.pk}/").status_code == 200
    assert client.post(f"/sar/{sar.reference}/pack/").status_code == 409
    assert not SarPack.objects.exists()


@pytest.mark.django_db
def test_a_damaged_issued_pack_says_it_cannot_be_shown(client, dpo, full_case, sar):
    decide_all(sar, dpo, {})
    pack = services.issue_pack(sar, by=dpo)
    damage(SarPack, pack.pk, "content")
    client.force_login(dpo)
    page = client.get(f"/sar/{sar.reference}/pack/")
    body = page.content.decode()
    assert page.status_code == 200 and MESSAGE in body and sar.reference in body and "[redacted]" not in body
    # No file to send on unread: the downloads are refused (409) with the pack's page saying why.
    for download in (f"/sar/{sar.reference}/pack.pdf", f"/sar/{sar.reference}/pack.json"):
        refused = client.get(download)
        body = refused.content.decode()
        assert refused.status_code == 409 and refused["Content-Type"].startswith("text/html")
        assert MESSAGE in body and "failed an integrity check" in body and "attachment" not in refused.get(
            "Content-Disposition", "")
    api = client.get(f"/api/v1/sars/{sar.reference}/pack")
    assert api.status_code == 200 and api.json()["integrity_errors"] == [{"field": "Information", "detail": MESSAGE}]
    api_pdf = client.get(f"/api/v1/sars/{sar.reference}/pack/pdf")
    assert api_pdf.status_code == 409 and "integrity check" in api_pdf.json()["detail"]
    assert client.get(f"/sar/{sar.reference}/").status_code == 200


@pytest.mark.django_db
def test_a_damaged_package_is_not_compiled_as_if_nothing_was_passed_on(dpo, full_case):
    """What a package passed on is copied into the compile: a damaged one stops it (409), as any damaged value
    does, rather than be compiled as an empty package."""
    from mash.keys.fields import DamagedData

    damage_sent_package(full_case.package)
    found = log_sar(dpo, [full_case.child])
    with pytest.raises(DamagedData):
        services.compile_request(found, by=dpo)
    assert not found.items.exists()
