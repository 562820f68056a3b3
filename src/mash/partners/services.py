"""Loading the ISA and answering what it permits."""

import hashlib
from pathlib import Path

from django.db import transaction

from mash.audit import services as audit
from mash.audit.models import Kind as AuditKind

from .isa import IsaInvalid, parse
from .models import IsaVersion, Partner
from .selectors import NoAgreementLoaded, agreement_for, current, current_version, signatories  # noqa: F401 (the ISA's reads, for callers)


def validate_text(text: str):
    """The parsed document, or IsaInvalid naming each bad field."""
    return parse(text)


def read_file(path: str | Path) -> str:
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IsaInvalid([f"{path}: no such file"]) from None
    except UnicodeDecodeError:
        raise IsaInvalid([f"{path}: not UTF-8 text"]) from None


@transaction.atomic
def load_text(text: str, *, loaded_by=None) -> tuple[IsaVersion, bool]:
    """Load a new ISA version. Returns (version, created). Earlier versions are never touched."""
    doc = parse(text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    existing = IsaVersion.objects.filter(version=doc.version).first()
    if existing is not None:
        if existing.source_sha256 == digest:
            return existing, False
        raise IsaInvalid(
            [f"version: '{doc.version}' is already loaded with different text; give the changed agreement a new version"]
        )
    for entry in doc.partners:
        by_slug = Partner.objects.filter(slug=entry.id).first()
        clash = Partner.objects.filter(name=entry.name).exclude(slug=entry.id).first()
        if clash:
            raise IsaInvalid([f"partners: '{entry.name}' is already the name of partner '{clash.slug}'"])
        if by_slug is None:
            Partner.objects.create(slug=entry.id, name=entry.name, partner_type=entry.type.value)
        elif (by_slug.name, by_slug.partner_type) != (entry.name, entry.type.value):
            by_slug.name, by_slug.partner_type = entry.name, entry.type.value
            by_slug.save(update_fields=["name", "partner_type"])
    version = IsaVersion.objects.create(
        version=doc.version,
        title=doc.title,
        effective_from=doc.effective_from,
        document=doc.model_dump(mode="json"),
        source_text=text,
        source_sha256=digest,
        loaded_by=loaded_by,
    )
    audit.record(AuditKind.ADMIN, "isa.load", actor=loaded_by, object_type="isaversion", object_ref=doc.version,
                 detail=f"sha256 {digest}")
    return version, True


def load_file(path: str | Path, *, loaded_by=None) -> tuple[IsaVersion, bool]:
    return load_text(read_file(path), loaded_by=loaded_by)
