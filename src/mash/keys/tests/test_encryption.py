"""Encryption at rest: what reaches the database, what a moved or altered ciphertext does, rotation,
destroyed keys, and the per-request key cache."""

import json

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from mash.cases.models import Contact, Decision, RagRatingRecord
from mash.consent.models import ConsentRecord
from mash.disclosure.models import DisclosurePackage
from mash.keys import keyring, services
from mash.keys.fields import EncryptedDataError, encrypted_fields
from mash.keys.integrity import Unreadable
from mash.keys.models import PersonKey
from mash.sharing.models import Contribution, ContributionItem
from mash.testing.cases import ATTENDANCE, INCIDENT, RATIONALE, sent
from mash.testing.database import all_text_in_the_database, raw, write_raw
from mash.testing.world import contact_data

CONCERN = contact_data()["concern"]
MARKERS = [CONCERN, INCIDENT, ATTENDANCE, RATIONALE, "Pat Reporter", "Agreed to the school information going on",
           "For the strategy discussion.", "Relevant to the concern"]


def opened(model, pk: int, column: str):
    """Decrypt a column's stored value directly: raises CannotDecrypt where the model would show it as damaged."""
    obj = model._base_manager.get(pk=pk)
    field = model._meta.get_field(column)
    return field.open(obj, obj.__dict__[field.attname])


@pytest.mark.django_db
def test_no_free_text_reaches_the_database_in_plaintext(decided_case):
    package = sent(decided_case)
    assert package.content and package.cover_note
    everything = all_text_in_the_database()
    for marker in MARKERS:
        assert marker not in everything, marker
    # ... and every encrypted column that holds something holds a ciphertext.
    item = decided_case.items["police_incidents"]
    assert raw(ContributionItem, item.pk, "content").startswith("enc1:")
    assert json.loads(raw(DisclosurePackage, package.pk, "content")).startswith("enc1:")
    # Read back through the models, it is the text that was written.
    assert ContributionItem.objects.get(pk=item.pk).content == INCIDENT
    assert Contact.objects.get(pk=decided_case.enquiry.contact_id).concern == CONCERN
    assert Decision.objects.get(enquiry=decided_case.enquiry).rationale == RATIONALE
    assert DisclosurePackage.objects.get(pk=package.pk).content == package.content


@pytest.mark.django_db
def test_every_free_text_column_that_concerns_a_person_is_encrypted():
    from django.apps import apps

    encrypted = {f"{m._meta.label}.{f.name}" for m in apps.get_models() for f in encrypted_fields(m)}
    assert {"cases.Contact.concern", "cases.Contact.reporter_name", "cases.RagRatingRecord.rationale",
            "cases.Decision.rationale", "sharing.ContributionItem.content", "sharing.Contribution.decision_reason",
            "sharing.InformationRequest.question", "consent.ConsentRecord.notes",
            "consent.ConsentOverride.justification", "disclosure.DisclosurePackage.content",
            "sar.SarItem.fields", "sar.SarPack.content"} <= encrypted


@pytest.mark.django_db
def test_a_ciphertext_moved_to_another_row_or_column_does_not_decrypt(decided_case):
    a, b = decided_case.items["police_incidents"], decided_case.items["school_attendance"]
    a_content, b_content = raw(ContributionItem, a.pk, "content"), raw(ContributionItem, b.pk, "content")
    write_raw(ContributionItem, a.pk, "content", b_content)
    write_raw(ContributionItem, b.pk, "relevance_note", b_content)
    with pytest.raises(services.CannotDecrypt, match="copied from another row"):
        opened(ContributionItem, a.pk, "content")
    with pytest.raises(services.CannotDecrypt):
        opened(ContributionItem, b.pk, "relevance_note")
    # Read through the model, it is shown as damaged rather than raising (test_damaged_data.py).
    assert isinstance(ContributionItem.objects.get(pk=a.pk).content, Unreadable)
    assert ContributionItem.objects.get(pk=b.pk).content == ATTENDANCE  # the original still opens
    # A ciphertext of another person's record, in the same column and a row of the same id, fails too.
    other = Contact.objects.exclude(child_id=decided_case.enquiry.child_id).first()
    assert other is None or other.pk != a.pk
    write_raw(ContributionItem, a.pk, "content", a_content)
    assert ContributionItem.objects.get(pk=a.pk).content == INCIDENT


@pytest.mark.django_db
def test_a_ciphertext_under_another_persons_key_does_not_decrypt(decided_case, manager):
    from mash.cases import services as cases

    contact = Contact.objects.get(pk=decided_case.enquiry.contact_id)
    stranger = cases.record_contact(by=manager, **contact_data(child=dict(first_name="Ash", last_name="Otherton")))
    token = services.encrypt("moved", table="cases_contact", column="concern", row=contact.pk,
                             person_id=stranger.child_id)
    write_raw(Contact, contact.pk, "concern", token)
    with pytest.raises(services.CannotDecrypt):
        opened(Contact, contact.pk, "concern")


@pytest.mark.django_db
def test_an_altered_ciphertext_does_not_decrypt(decided_case):
    item = decided_case.items["school_attendance"]
    token = raw(ContributionItem, item.pk, "content")
    flipped = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    write_raw(ContributionItem, item.pk, "content", flipped)
    with pytest.raises(services.CannotDecrypt):
        opened(ContributionItem, item.pk, "content")


@pytest.mark.django_db
def test_plaintext_cannot_be_written_round_the_encryption(decided_case):
    item = decided_case.items["school_attendance"]
    with pytest.raises(EncryptedDataError, match="is encrypted"), transaction.atomic():
        ContributionItem.objects.filter(pk=item.pk).update(content="plain words")
    assert ContributionItem.objects.get(pk=item.pk).content == ATTENDANCE


@pytest.mark.django_db
def test_saving_an_unchanged_row_keeps_its_ciphertext(decided_case):
    package = sent(decided_case)
    before = raw(DisclosurePackage, package.pk, "content")
    fresh = DisclosurePackage.objects.get(pk=package.pk)
    assert fresh.content["child"]
    fresh.save()  # the sent package's trigger would refuse a changed content
    assert raw(DisclosurePackage, package.pk, "content") == before


@pytest.mark.django_db
def test_rotation_rewraps_data_keys_and_everything_still_reads(decided_case, tmp_path, settings):
    settings.MASH_KEY_FILE = str(tmp_path / "ring.json")
    keyring._loaded.clear()
    # Data under a keyring of this test's own (the session's keyring wrapped the case's keys).
    rows = list(PersonKey.objects.all())
    ring = keyring.create()
    PersonKey.objects.all().delete()
    from mash.cases import services as cases

    contact = cases.record_contact(by=decided_case.manager,
                                   **contact_data(concern="A concern written before rotation."))
    first = ring.current
    stored = raw(Contact, contact.pk, "concern")
    result = services.rotate()
    assert result["current"] != first and result["rewrapped"] == PersonKey.objects.count() >= 1
    assert set(PersonKey.objects.values_list("master_key_id", flat=True)) == {result["current"]}
    assert raw(Contact, contact.pk, "concern") == stored  # the data was not re-encrypted
    assert Contact.objects.get(pk=contact.pk).concern == "A concern written before rotation."
    services.retire(first)
    assert first not in keyring.load().keys
    assert Contact.objects.get(pk=contact.pk).concern == "A concern written before rotation."
    with pytest.raises(keyring.KeyringError, match="current"):
        services.retire(result["current"])
    del rows


@pytest.mark.django_db
def test_a_master_key_still_in_use_cannot_be_retired(decided_case, tmp_path, settings):
    settings.MASH_KEY_FILE = str(tmp_path / "ring.json")
    keyring._loaded.clear()
    first = keyring.create().current
    PersonKey.objects.all().delete()
    from mash.cases import services as cases

    cases.record_contact(by=decided_case.manager, **contact_data())
    keys = dict(keyring.load().keys)
    keys["mk-new"] = b"\x01" * 32
    keyring.write(keyring.load().path, "mk-new", keys)
    with pytest.raises(keyring.KeyringError, match="still wrapped"):
        services.retire(first)


@pytest.mark.django_db
def test_a_destroyed_key_leaves_the_data_unreadable_and_stays_destroyed(decided_case):
    child = decided_case.enquiry.child_id
    key = PersonKey.objects.get(person_id=child)
    wrapped = bytes(key.wrapped)
    services.shred([child])
    assert str(key.key_id) in keyring.shredded()
    with pytest.raises(services.DataShredded):
        Contact.objects.get(pk=decided_case.enquiry.contact_id).concern
    with pytest.raises(services.DataShredded):
        RagRatingRecord.objects.filter(enquiry=decided_case.enquiry).first().rationale
    # An earlier copy of the wrapped key put back (a restored backup) is refused, and destroyed again.
    PersonKey.objects.filter(pk=key.pk).update(wrapped=wrapped, shredded_at=None)
    with pytest.raises(services.DataShredded):
        Contact.objects.get(pk=decided_case.enquiry.contact_id).concern
    assert services.apply_register() == 1
    assert bytes(PersonKey.objects.get(pk=key.pk).wrapped) == b""


@pytest.mark.django_db
def test_data_keys_are_unwrapped_once_per_request(decided_case):
    contributions = list(Contribution.objects.filter(enquiry=decided_case.enquiry))
    with services.key_cache(), CaptureQueriesContext(connection) as queries:
        texts = [i.content for c in contributions for i in c.items.all()]
    assert len(texts) >= 6
    assert sum("keys_personkey" in q["sql"] for q in queries.captured_queries) == 1
    with CaptureQueriesContext(connection) as queries:
        [i.content for i in ContributionItem.objects.filter(contribution__enquiry=decided_case.enquiry)[:2]]
    assert sum("keys_personkey" in q["sql"] for q in queries.captured_queries) == 2  # no cache outside one


@pytest.mark.django_db
def test_consent_records_are_encrypted_under_the_person_they_concern(decided_case):
    record = sent(decided_case).consent_record
    assert raw(ConsentRecord, record.pk, "notes").startswith("enc1:")
    assert PersonKey.objects.filter(person_id=record.person_id).exists()


def test_a_new_keyring_file_is_private(tmp_path, settings):
    settings.MASH_KEY_FILE = str(tmp_path / "new" / "ring.json")
    keyring._loaded.clear()
    with pytest.raises(keyring.KeyringMissing, match="no master keyring.*new/ring.json"):
        keyring.load()  # never made on first use
    ring = keyring.create()
    assert (tmp_path / "new" / "ring.json").stat().st_mode & 0o077 == 0
    assert len(ring.key(ring.current)) == 32
    with pytest.raises(keyring.KeyringError, match="already a master keyring"):
        keyring.create()
    assert keyring.load() == ring


def test_a_keyring_from_the_environment(monkeypatch):
    import base64

    monkeypatch.setenv("MASH_MASTER_KEYS", json.dumps({"current": "mk-env", "keys": {
        "mk-env": base64.b64encode(b"\x02" * 32).decode()}}))
    ring = keyring.load()
    assert ring.current == "mk-env" and ring.path is None
    monkeypatch.setenv("MASH_MASTER_KEYS", '{"current": "mk-x", "keys": {}}')
    with pytest.raises(keyring.KeyringError, match="not among its keys"):
        keyring.load()
    monkeypatch.delenv("MASH_MASTER_KEYS")
    assert keyring.load().path is not None
    assert settings.MASH_KEY_FILE


@pytest.mark.django_db
def test_plaintext_put_in_an_encrypted_column_is_refused_when_read(decided_case):
    item = decided_case.items["school_attendance"]
    write_raw(ContributionItem, item.pk, "content", "Forged words written by SQL")
    with pytest.raises(services.CannotDecrypt, match="not a ciphertext"):
        opened(ContributionItem, item.pk, "content")
    assert isinstance(ContributionItem.objects.get(pk=item.pk).content, Unreadable)


@pytest.mark.django_db
def test_the_migration_encrypts_rows_written_before_encryption(decided_case):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    migration = importlib.import_module("mash.keys.migrations.0002_encrypt_existing")
    item, contact_id = decided_case.items["school_attendance"], decided_case.enquiry.contact_id
    write_raw(ContributionItem, item.pk, "content", "Written before encryption")
    write_raw(Contact, contact_id, "concern", "A concern from before")
    with connection.cursor() as cursor:
        editor = SimpleNamespace(connection=connection, execute=lambda sql, params=None: cursor.execute(sql, params))
        migration.encrypt_existing(apps, editor)
    assert raw(ContributionItem, item.pk, "content").startswith("enc1:")
    assert ContributionItem.objects.get(pk=item.pk).content == "Written before encryption"
    assert Contact.objects.get(pk=contact_id).concern == "A concern from before"
    assert ContributionItem.objects.get(pk=decided_case.items["police_incidents"].pk).content == INCIDENT  # untouched
