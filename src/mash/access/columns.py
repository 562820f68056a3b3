"""Who may read each column: every column of every MASH model that holds free text or an identifier,
mapped to the gate's rule that governs it.

`RULES` is the declaration: "model label.column" -> rule. A rule is one of
- a part of an enquiry (`rules.FIELDS`: child, household, concern, consent, ...): whoever's links
  read that part;
- `REQUEST`: a request to an agency (`rules.VIEW_REQUEST`: the MASH team and the agency asked);
- `CONTRIBUTION`: an agency's answer (its reason, its lawful basis): the MASH team and the agency;
  of "confidential information held", the agency alone (everyone else sees the marker);
- `ITEM`: an item of an answer, or a file attached to it: by its confidentiality (`rules.ITEM_READERS`);
- `AMENDMENT`: why a version of an answer was made (an amendment, or lifting a seal): see
  `rules.amendment_readers` and docs/access.md;
- `PACKAGE`: a disclosure package (`rules.VIEW_PACKAGE`: the team, and its addressee while it is live);
- `DPO`: subject access request material: the data protection officer only (`rules.MANAGE_SAR`);
- `AUDIT`: the audit log, read through its pages (managers and the DPO for a person's trail, auditors
  and the DPO for a user's activity); it records what was read, never the content;
- `SELF`: the signed-in user's own (their API tokens);
- "not case data: <why>" and "never shown: <why>".

`case_record` reads the contact through `CONTACT` (every column of a contact, so nothing of it can
reach a user by default), and `access/tests/test_columns.py` fills every declared column of a whole hub
with a marker of its own and proves each reaches exactly the users its rule allows, on every page,
API response, CSV and PDF. A column this file does not declare fails that test, naming it.
"""

from __future__ import annotations

from django.db.models import CharField, JSONField, TextField

from mash.access.rules import (CHILD, CONCERN, CONSENT, DECISION, HISTORY, HOUSEHOLD, PACKAGES, RAG, RATINGS,
                               REPORTER)

REQUEST, CONTRIBUTION, ITEM, AMENDMENT, PACKAGE = "request", "contribution", "item", "amendment reason", "package"
DPO, AUDIT, SELF = "data protection officer", "audit log readers", "the user themself"
ENQUIRY = "enquiry"  # the enquiry's own reference and state: whoever may view it (rules.VIEW_ENQUIRY)
PERSON = "person"    # CHILD for the enquiry's child, HOUSEHOLD for the people around them
NOT_CASE_DATA, NEVER_SHOWN = "not case data", "never shown"

_STAFF = "not case data: staff, named where they act (who rated, who answered)"
_ISA = "not case data: the information sharing agreement is a published document"
_CODE = "not case data: a code of the ISA or the vocabulary"

# The contact, column by column: `case_record` gives a user exactly the columns whose part they read.
CONTACT = {
    "id": ENQUIRY,
    "received_at": CONCERN,
    "recorded_by": REPORTER,
    "recorded_at": REPORTER,
    "reporter_type": REPORTER,
    "reporter_name": REPORTER,
    "reporter_organisation": REPORTER,
    "reporter_partner": REPORTER,
    "reporter_phone": REPORTER,
    "reporter_email": REPORTER,
    "child": CHILD,
    "concern": CONCERN,
    "concern_categories": CONCERN,
    "consent_at_intake": CONSENT,
    "consent_notes": CONSENT,
}
# What a contact's methods read (each a column's rule).
CONTACT_DERIVED = {"concern_category_labels": CONCERN}

RULES: dict[str, str] = {
    "accounts.User.password": "never shown: a password hash",
    "accounts.User.username": _STAFF,
    "accounts.User.first_name": _STAFF,
    "accounts.User.last_name": _STAFF,
    "accounts.User.email": _STAFF,
    "accounts.User.job_title": _STAFF,
    "accounts.User.team": _STAFF,
    "accounts.ApiToken.name": SELF,
    "accounts.ApiToken.key_prefix": SELF,
    "accounts.ApiToken.key_hash": "never shown: a token's hash",
    "accounts.ApiToken.revoked_by": SELF,
    "partners.Partner.slug": _ISA,
    "partners.Partner.name": _ISA,
    "partners.IsaVersion.version": _ISA,
    "partners.IsaVersion.title": _ISA,
    "partners.IsaVersion.document": _ISA,
    "partners.IsaVersion.source_text": _ISA,
    "partners.IsaVersion.source_sha256": _ISA,
    **{f"people.Person.{c}": PERSON for c in ("first_name", "last_name", "other_names", "nhs_number", "upn",
                                              "address_line_1", "address_line_2", "town", "postcode")},
    # A person's amendment history (earlier details, the fields' names, the reason): kept for the record.
    "people.PersonRevision.previous": HISTORY,
    "people.PersonRevision.changed_fields": HISTORY,
    "people.PersonRevision.reason": HISTORY,
    **{f"people.PersonName.{c}": PERSON for c in ("first_name", "last_name", "kind")},
    **{f"people.PersonAddress.{c}": PERSON for c in ("address_line_1", "address_line_2", "town", "postcode")},
    "people.LocalIdentifier.value": PERSON,
    "people.MatchKey.key": "never shown: a blocking key for matching, derived from the person's details",
    # Who decided that a record is (or is not) a known person, and merges: the MASH managers' record.
    **{f"people.IdentityDecision.{c}": HISTORY for c in ("outcome", "reasons", "reason", "context")},
    **{f"people.Merge.{c}": HISTORY for c in ("reason", "moved", "undo_reason")},
    **{f"cases.Contact.{c}": rule for c, rule in CONTACT.items()},
    "cases.Enquiry.reference": ENQUIRY,
    "cases.EnquiryEvent.action": HISTORY,
    "cases.EnquiryEvent.from_state": HISTORY,
    "cases.EnquiryEvent.to_state": HISTORY,
    "cases.EnquiryEvent.note": HISTORY,
    "cases.RagRatingRecord.rationale": RATINGS,
    "cases.RagRatingRecord.isa_clause": RATINGS,
    "cases.Decision.amendment_reason": DECISION,
    "cases.Decision.rationale": DECISION,
    "cases.Decision.receiving_team": DECISION,
    "cases.Decision.retention_clause": DECISION,
    "cases.Decision.repeat_contacts_rationale": DECISION,
    "sharing.InformationRequest.question": REQUEST,
    "sharing.Contribution.amendment_reason": AMENDMENT,
    "sharing.Contribution.decision_reason": CONTRIBUTION,
    "sharing.Contribution.lawful_basis": CONTRIBUTION,
    "sharing.ContributionItem.category": ITEM,
    "sharing.ContributionItem.content": ITEM,
    "sharing.ContributionItem.relevance_note": ITEM,
    "sharing.ContributionItem.isa_clause": ITEM,
    "consent.ConsentRecord.given_by": CONSENT,
    "consent.ConsentRecord.notes": CONSENT,
    "consent.ConsentRecord.purposes": CONSENT,
    "consent.ConsentRecord.agencies": CONSENT,
    "consent.ConsentRecord.withdrawal_reason": CONSENT,
    "consent.ConsentOverride.justification": CONSENT,
    "consent.ConsentOverride.lawful_basis": CONSENT,
    "consent.ConsentOverride.lawful_basis_clause": CONSENT,
    "consent.ConsentOverride.purposes": CONSENT,
    "consent.ConsentOverride.isa_clause": CONSENT,
    "consent.ConsentOverride.decision_note": CONSENT,
    "disclosure.DisclosurePackage.recipient_team": PACKAGE,
    "disclosure.DisclosurePackage.cover_note": PACKAGE,
    "disclosure.DisclosurePackage.lawful_basis": PACKAGE,
    "disclosure.DisclosurePackage.selection": PACKAGE,
    "disclosure.DisclosurePackage.content": PACKAGE,
    "disclosure.DisclosurePackage.isa_clause": PACKAGE,
    "disclosure.DisclosurePackage.lawful_basis_clause": PACKAGE,
    "disclosure.DisclosurePackage.withdrawal_reason": PACKAGES,
    "training.TrainingRecord.course": "not case data: a member of staff's training, seen by them, managers and "
                                      "system administrators",
    "training.TrainingRecord.evidence_reference": "not case data: a member of staff's training certificate",
    "training.TrainingRecord.source": "not case data: where a training record came from",
    **{f"sar.SubjectAccessRequest.{c}": DPO for c in (
        "reference", "requester_name", "requester_contact", "description", "identity_method", "extension_reason",
        "closed_reason")},
    "sar.SarPause.note": DPO,
    **{f"sar.SarItem.{c}": DPO for c in ("enquiry_reference", "title", "agency", "category", "fields",
                                         "proposed_redactions", "redactions", "serious_harm_opinion", "reason")},
    "sar.SarPack.content": DPO,
    "attachments.Attachment.filename": ITEM,
    "attachments.Attachment.content_type": ITEM,
    "attachments.Attachment.sha256": "never shown: the file's digest, for integrity checks",
    "attachments.Attachment.data": ITEM,
    **{f"audit.AuditEvent.{c}": AUDIT for c in ("action", "actor", "role", "organisation", "ip", "request_id",
                                                "object_type", "object_ref", "people", "fields", "purpose",
                                                "detail")},
    "audit.Seal.leaf": "not case data: a hash of the audit chain",
    "audit.Seal.chain": "not case data: a hash of the audit chain",
    "audit.Checkpoint.root": "not case data: a signed checkpoint of the audit log",
    "audit.Checkpoint.chain_head": "not case data: a signed checkpoint of the audit log",
    "audit.Checkpoint.key_id": "not case data: a signed checkpoint of the audit log",
    "audit.Checkpoint.signature": "not case data: a signed checkpoint of the audit log",
    "audit.Checkpoint.frontier": "not case data: a signed checkpoint of the audit log",
    "keys.PersonKey.master_key_id": "never shown: which master key wraps a person's data key",
    "retention.LegalHold.reason": "never shown: legal holds are placed and lifted on the command line",
    "retention.LegalHold.lift_reason": "never shown: legal holds are placed and lifted on the command line",
    "retention.Disposal.enquiry_reference": "never shown: a tombstone, read on the command line",
    "retention.Disposal.outcome": "never shown: a tombstone, read on the command line",
    "retention.Disposal.isa_version": "never shown: a tombstone, read on the command line",
    "retention.Disposal.isa_clause": "never shown: a tombstone, read on the command line",
    "retention.Disposal.rows": "never shown: a tombstone, read on the command line",
}


def text_columns():
    """Every column of every MASH model that holds free text or an identifier: (label, field).
    Columns with fixed choices hold a code, not text, and are left out."""
    from django.apps import apps
    from django.db import models

    for model in apps.get_models():
        if not model.__module__.startswith("mash."):
            continue
        for f in model._meta.concrete_fields:
            if f.choices:
                continue
            if isinstance(f, (models.CharField, models.TextField, models.JSONField)):
                yield f"{model._meta.label}.{f.name}", f


def rule_of(column: str) -> str | None:
    return RULES.get(column)


def undeclared() -> list[str]:
    return sorted(label for label, _ in text_columns() if label not in RULES)


class RedactedRow:
    """A row as one user may read it. Each column is read through its rule (a part of the enquiry,
    `rules`: column -> part); a column whose part the user may not read reads as empty (its
    `get_..._display` too). Methods are reached only where `derived` names the part they read;
    anything else is an AttributeError, so nothing undeclared can reach a page or a response."""

    def __init__(self, row, rules: dict[str, str], readable: frozenset[str], derived: dict[str, str] | None = None):
        self._row, self._rules, self._readable, self._derived = row, rules, readable, derived or {}
        self._fields = {}
        for f in row._meta.concrete_fields:
            self._fields[f.name] = self._fields[f.attname] = f

    def may_read(self, column: str) -> bool:
        field = self._fields.get(column)
        rule = self._rules.get(field.name if field is not None else column)
        return rule is not None and rule in self._readable

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        column = name[4:-8] if name.startswith("get_") and name.endswith("_display") else name
        field = self._fields.get(column)
        if field is None and name in self._derived:
            if self._derived[name] in self._readable:
                return getattr(self._row, name)
            return lambda *args, **kwargs: []
        if field is None:
            if name == "pk":
                return self._row.pk
            raise AttributeError(f"{type(self._row).__name__}.{name} has no rule in mash.access.columns")
        if self.may_read(field.name):
            return getattr(self._row, name)
        if column != name:
            return lambda: ""
        if isinstance(field, JSONField):
            return []
        if isinstance(field, (CharField, TextField)) and not field.is_relation:
            return ""
        return None

