"""Subject access material is encrypted at rest, and the audit log keeps no text typed into a search.

The DPO's searches name the people being looked for; the audit log is append-only and kept for years,
so a search is recorded by the people it found (their ids), never by what was typed."""

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from django.db import connection
from django.utils import timezone

from mash.accounts.models import Role
from mash.audit.models import AuditEvent
from mash.sar import services
from mash.sar.models import SarItem, SarPause, SubjectAccessRequest
from mash.testing.database import all_text_in_the_database

TODAY = timezone.localdate

REQUESTER = "Quillon Marchbanks-Tey"
CONTACT = "14 Unlikely Crescent, Grays RM99 9ZZ"
DESCRIPTION = "Everything about the night the ambulance came to Unlikely Crescent"
IDENTITY = "Passport QX1234567 and a water bill seen"
PAUSE_NOTE = "Asked which school years are meant, by letter to Unlikely Crescent"
EXTENSION = "Records from four agencies about Quillon's household"
ITEM_REASON = "Names the neighbour Zebedee Fortescue-Pym"
WITHDRAWN = "Quillon telephoned to say the matter is resolved"
MARKERS = [REQUESTER, CONTACT, DESCRIPTION, IDENTITY, PAUSE_NOTE, EXTENSION, ITEM_REASON, WITHDRAWN]


def _raw(table: str, column: str, pk: int):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {connection.ops.quote_name(table)} "
                       "WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _a_request_with_every_kind_of_text(dpo, child):
    sar = services.log_request(by=dpo, requester_name=REQUESTER, requester_relationship="parent",
                               requester_contact=CONTACT, received_on=TODAY() - dt.timedelta(days=5),
                               person_ids=[child.pk], description=DESCRIPTION, identity_verified=True,
                               identity_method=IDENTITY)
    services.pause(sar, by=dpo, reason="clarification", note=PAUSE_NOTE)
    services.resume(sar, by=dpo)
    services.extend(sar, by=dpo, months=1, reason=EXTENSION)
    services.compile_request(sar, by=dpo)
    item = sar.items.exclude(sealed=True).exclude(social_work=True).first() or sar.items.exclude(sealed=True).first()
    services.decide_item(item, by=dpo, decision="withhold", exemption="third_party", reason=ITEM_REASON)
    return sar, item


@pytest.mark.django_db
def test_subject_access_material_is_encrypted_in_the_database(dpo, new_enquiry):
    sar, item = _a_request_with_every_kind_of_text(dpo, new_enquiry.child)
    other = services.log_request(by=dpo, requester_name="Someone else", requester_relationship="self",
                                 requester_contact="By email", received_on=TODAY(), person_ids=[new_enquiry.child.pk])
    services.withdraw(other, by=dpo, reason=WITHDRAWN)
    everything = all_text_in_the_database()
    for marker in MARKERS:
        assert marker not in everything, marker
    for column in ("requester_name", "requester_contact", "description", "identity_method", "extension_reason"):
        assert _raw("sar_subjectaccessrequest", column, sar.pk).startswith("enc1:"), column
    assert _raw("sar_subjectaccessrequest", "closed_reason", other.pk).startswith("enc1:")
    assert _raw("sar_saritem", "reason", item.pk).startswith("enc1:")
    # Read back through the models, it is what was written.
    again = SubjectAccessRequest.objects.get(pk=sar.pk)
    assert (again.requester_name, again.requester_contact, again.description, again.identity_method,
            again.extension_reason) == (REQUESTER, CONTACT, DESCRIPTION, IDENTITY, EXTENSION)
    assert SarPause.objects.get(sar=sar).note == PAUSE_NOTE
    assert SarItem.objects.get(pk=item.pk).reason == ITEM_REASON
    assert SubjectAccessRequest.objects.get(pk=other.pk).closed_reason == WITHDRAWN


@pytest.mark.django_db
def test_request_material_is_under_the_first_subject_s_key(dpo, new_enquiry):
    """A requester (a parent, a solicitor) need not be a person with a key: the request's own text is
    under its first subject's key, kept while the request names them (retention keeps a SAR subject)."""
    mother = new_enquiry.child.relationships.get().person
    sar = services.log_request(by=dpo, requester_name=REQUESTER, requester_relationship="representative",
                               requester_contact=CONTACT, received_on=TODAY(), person_ids=[mother.pk, new_enquiry.child.pk])
    first = sar.subjects.order_by("id").first().person_id
    assert SubjectAccessRequest.objects.get(pk=sar.pk).key_person_id == first
    from mash.keys import services as keys
    token = _raw("sar_subjectaccessrequest", "requester_name", sar.pk)
    assert keys.decrypt(token, table="sar_subjectaccessrequest", column="requester_name", row=sar.pk,
                        person_id=first) == REQUESTER
    other = next(p for p in (mother.pk, new_enquiry.child.pk) if p != first)
    with pytest.raises(keys.CannotDecrypt):
        keys.decrypt(token, table="sar_subjectaccessrequest", column="requester_name", row=sar.pk, person_id=other)


@pytest.mark.django_db
def test_the_migration_encrypts_requests_written_before(dpo, new_enquiry):
    import importlib

    sar, item = _a_request_with_every_kind_of_text(dpo, new_enquiry.child)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE sar_subjectaccessrequest SET requester_name = %s, description = %s WHERE id = %s",
                       ["Plain Name", "Plain description", sar.pk])
        cursor.execute("UPDATE sar_sarpause SET note = %s WHERE sar_id = %s", ["Plain note", sar.pk])
        cursor.execute("UPDATE sar_saritem SET reason = %s WHERE id = %s", ["Plain reason", item.pk])
    migration = importlib.import_module("mash.sar.migrations.0002_encrypt_request_material")
    migration.encrypt_existing(None, SimpleNamespace(connection=connection))
    everything = all_text_in_the_database()
    for plain in ("Plain Name", "Plain description", "Plain note", "Plain reason"):
        assert plain not in everything, plain
    again = SubjectAccessRequest.objects.get(pk=sar.pk)
    assert (again.requester_name, again.description, again.identity_method) == ("Plain Name", "Plain description",
                                                                                IDENTITY)
    assert SarPause.objects.get(sar=sar).note == "Plain note"
    assert SarItem.objects.get(pk=item.pk).reason == "Plain reason"


# --- The audit log keeps no search text ---------------------------------------------------------------


def _log_text() -> str:
    return json.dumps([[e.object_ref, e.detail, e.purpose, e.action, e.object_type, e.fields]
                       for e in AuditEvent.objects.all()])


@pytest.mark.django_db
def test_the_dpo_s_person_search_is_audited_without_its_text(client, dpo, new_enquiry):
    child = new_enquiry.child
    client.force_login(dpo)
    searches = ["Exampleton", "Rowan Exampleton", child.nhs_number, child.date_of_birth.isoformat()]
    for text in searches:
        page = client.get("/sar/new/", {"q": text})
        assert page.status_code == 200 and child.full_name.encode() in page.content, text
        posted = client.post("/sar/new/", {"q": text, "search": "1"})
        assert posted.status_code == 200
    events = AuditEvent.objects.filter(object_type__contains="person search")
    assert events.count() == 2 * len(searches)
    assert all(child.pk in e.people for e in events)
    logged = _log_text()
    for text in searches:
        assert text not in logged, text
    assert "search by name" in logged and "search by NHS number" in logged and "search by date of birth" in logged


@pytest.mark.django_db
def test_case_searches_are_audited_without_their_text(client, manager, new_enquiry):
    child = new_enquiry.child
    client.force_login(manager)
    for text in ["Exampleton", "Rowan Exampleton", child.nhs_number]:
        assert client.get("/enquiries/", {"q": text}).status_code == 200
        assert client.get("/enquiries/export.csv", {"q": text}).status_code == 200
        assert client.get("/api/v1/enquiries", {"q": text}).status_code == 200
    logged = _log_text()
    for text in ["Exampleton", child.nhs_number]:
        assert text not in logged, text


@pytest.mark.django_db
def test_a_name_typed_where_a_reference_goes_is_not_kept(client, dpo, manager, make_user, new_enquiry):
    """A name typed into the audit trail's reference box, or into a URL, is refused without being kept;
    a reference the application made is kept."""
    untrained = make_user(Role.MASH_MANAGER, trained=False)
    client.force_login(untrained)
    assert client.get("/enquiries/Rowan Exampleton/").status_code in (403, 404)
    assert client.get(f"/enquiries/{new_enquiry.reference}/").status_code in (403, 404)
    assert AuditEvent.objects.filter(object_type="url", object_ref__contains=new_enquiry.reference).exists()
    client.force_login(dpo)
    assert client.get("/audit/people/", {"reference": "Rowan Exampleton"}).status_code == 404
    client.force_login(manager)
    assert client.get("/enquiries/Rowan Exampleton/").status_code == 404
    assert client.get("/api/v1/enquiries/Exampleton").status_code in (404, 422)
    client.force_login(dpo)
    assert client.get("/sar/Exampleton/").status_code == 404
    assert client.get("/sar/SAR-2026-9999/").status_code == 404
    assert AuditEvent.objects.filter(object_ref="SAR-2026-9999").exists()
    assert "Exampleton" not in _log_text()


@pytest.mark.django_db
def test_search_text_recorded_before_the_fix_is_not_shown(client, dpo, make_user, new_enquiry):
    """Events cannot change (append-only, hash-chained): the pages and CSV leave out their search text."""
    from mash.audit import services as audit

    child = new_enquiry.child
    # As events were recorded before: the person search's text, a refusal of a typed name.
    audit.record("read", "read person search+subject access request", actor=dpo,
                 object_type="person search+subject access request",
                 object_ref="person search: Rowan Exampleton; subject access request: SAR-2026-0001",
                 people=[child.pk], fields=["name"], detail="1 person search, 1 subject access request")
    audit.record("denial", "view_person_trail", actor=dpo, result="refused", object_type="enquiry",
                 object_ref="Morgan Exampleton", detail="no such enquiry (no such object)")
    services.log_request(by=dpo, requester_name="A parent", requester_relationship="parent",
                         requester_contact="By email", received_on=TODAY(), person_ids=[child.pk])
    client.force_login(dpo)
    assert client.get("/sar/new/", {"q": "Rowan"}).status_code == 200  # a search as recorded now
    auditor = make_user(Role.AUDITOR)
    client.force_login(auditor)
    assert client.get("/audit/users/").status_code == 200  # the summary's rows are not events
    for url in (f"/audit/users/{dpo.pk}/", f"/audit/users/{dpo.pk}/export.csv"):
        body = client.get(url).content.decode()
        assert "Exampleton" not in body, url
        assert "person search: search text not shown; subject access request: SAR-2026-0001" in body, url
        assert "person search: search by name" in body, url
        assert "(typed text, not kept)" in body, url
    client.force_login(dpo)  # who has seen the child's record: the page names the child, not the search
    for url in (f"/audit/people/{child.pk}/", f"/audit/people/{child.pk}/export.csv"):
        body = client.get(url).content.decode()
        assert "search text not shown" in body and "Rowan Exampleton;" not in body, url


@pytest.mark.django_db
def test_a_sign_in_with_no_such_username_does_not_keep_what_was_typed(client, manager):
    """A password typed into the username box, or someone's name, is not kept; a real username is."""
    client.post("/login/", {"username": "Rowan Exampleton hunter2", "password": "whatever-it-is"})
    client.post("/login/", {"username": manager.username, "password": "not-the-password"})
    failed = list(AuditEvent.objects.filter(kind="login_failed").order_by("id").values_list("actor", flat=True))
    assert failed == ["(no such user: not kept)", manager.username]
    assert "hunter2" not in _log_text() and "Exampleton" not in json.dumps(list(AuditEvent.objects.values("actor")))
