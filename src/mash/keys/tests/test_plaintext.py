"""No plaintext column unaccounted for: every text-like column of every table the application has,
Django's and third-party apps' included, is encrypted or listed in mash.keys.plaintext with the reason
it may stay plain (docs/encryption.md)."""

from django.apps import apps
from django.db import models

from mash.keys.fields import encrypted_fields
from mash.keys.plaintext import PLAINTEXT

TEXT_LIKE = (models.CharField, models.TextField, models.JSONField, models.BinaryField, models.GenericIPAddressField,
             models.FileField)


def _columns():
    text, encrypted = set(), set()
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.managed or model._meta.proxy:
            continue
        sealed = {f.name for f in encrypted_fields(model)}
        for f in model._meta.concrete_fields:
            name = f"{model._meta.label}.{f.name}"
            if f.name in sealed:
                encrypted.add(name)
            elif isinstance(f, TEXT_LIKE):
                text.add(name)
    return text, encrypted


def test_every_text_column_is_encrypted_or_listed_with_a_reason():
    text, _ = _columns()
    missing = sorted(text - set(PLAINTEXT))
    assert not missing, ("plaintext columns neither encrypted nor listed in mash/keys/plaintext.py with the reason "
                         f"they may stay plain: {missing}")


def test_the_list_names_only_plaintext_columns_and_gives_each_a_reason():
    text, encrypted = _columns()
    stale = sorted(set(PLAINTEXT) - text)
    assert not stale, f"listed in mash/keys/plaintext.py but not a plaintext column (encrypted now, or gone): {stale}"
    assert not set(PLAINTEXT) & encrypted
    assert all(len(reason.strip()) > 10 for reason in PLAINTEXT.values())


def test_subject_access_material_is_encrypted():
    _, encrypted = _columns()
    assert {f"sar.SubjectAccessRequest.{c}" for c in (
        "requester_name", "requester_contact", "description", "identity_method", "extension_reason",
        "closed_reason")} | {"sar.SarPause.note", "sar.SarItem.reason", "sar.SarItem.fields",
                             "sar.SarItem.redactions", "sar.SarItem.proposed_redactions",
                             "sar.SarItem.serious_harm_opinion", "sar.SarPack.content"} <= encrypted
