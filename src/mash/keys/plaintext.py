"""Every text-like column that is NOT encrypted, with the reason it may stay plain (docs/encryption.md).

`keys/tests/test_plaintext.py` walks every model in the database, Django's and third-party apps'
included, and fails for a text-like column (CharField, TextField, JSONField, EmailField, SlugField,
GenericIPAddressField, BinaryField...) that is neither an encrypted field nor listed here, and for an
entry here that names no such column. A new column of free text about a person is encrypted
(`EncryptedTextField(person=...)`); anything else is listed with the reason it is not personal, or why
it must stay plain (searched at the front door, removed by retention instead).

An entry whose reason starts "TODO(lead)" holds personal free text that should be encrypted by the
domain that owns it: it is listed so the test passes while that is done, and says what is wrong.
"""

CODE = "a code from a fixed list (a choice, a state, an ISA identifier); never free text"
ISA = "the ISA's own wording or identifiers, public to every partner (isa/mash-isa.yaml)"
IDENTIFIER = ("identifies a person; searched and matched at the front door, so it stays plain; removed by "
              "retention (anonymised or deleted) instead (docs/encryption.md, docs/retention.md)")
STAFF = ("about a member of staff, not the people the MASH holds data about; needed in clear to sign in, "
         "name who did what in the audit log and send reminders")
SIGN_IN = ("a failed or locked-out sign-in (django-axes), kept to enforce lockout; staff data: the username "
           "tried, the browser and the page; the password and code are masked (AXES_SENSITIVE_PARAMETERS)")
AUDIT = ("the append-only, hash-chained audit log: cannot be encrypted or shredded without breaking verification, "
         "so it holds no case content: staff names, ids, references, part names and the application's own words")
ADMIN = ("the admin site's log: it edits only staff accounts, API tokens, partners and ISA versions "
         "(accounts/admin.py, partners/admin.py); no case data is registered there")
DJANGO = "Django's own bookkeeping: model, permission and group names"
HASH = "a hash, signature or key id: nothing readable"

PLAINTEXT: dict[str, str] = {
    # Django and third-party apps
    "admin.LogEntry.object_id": ADMIN,
    "admin.LogEntry.object_repr": ADMIN,
    "admin.LogEntry.change_message": ADMIN + "; names the fields changed, not their values",
    "auth.Permission.name": DJANGO,
    "auth.Permission.codename": DJANGO,
    "auth.Group.name": DJANGO,
    "contenttypes.ContentType.app_label": DJANGO,
    "contenttypes.ContentType.model": DJANGO,
    "sessions.Session.session_key": "a random session id",
    "sessions.Session.session_data": ("signed session state: the user's id, the sign-in and two-factor state, "
                                      "times, and short confirmation messages in the application's words; it "
                                      "expires at most 10 hours after sign-in"),
    "otp_totp.TOTPDevice.name": "the label of a staff member's authenticator",
    "otp_totp.TOTPDevice.key": ("the authenticator's shared secret: a credential, not personal information; "
                                "django-otp reads it to check codes"),
    "otp_static.StaticDevice.name": "the label of a staff member's backup codes",
    "otp_static.StaticToken.token": "an unused backup code: a credential, not personal information (django-otp)",
    **{f"axes.{model}.{column}": SIGN_IN
       for model in ("AccessAttempt", "AccessLog", "AccessFailureLog")
       for column in ("user_agent", "username", "http_accept", "path_info", "ip_address")},
    "axes.AccessAttempt.get_data": SIGN_IN,
    "axes.AccessAttempt.post_data": SIGN_IN,
    "axes.AccessLog.session_hash": SIGN_IN,
    # accounts
    "accounts.User.password": "a salted hash",
    "accounts.User.username": STAFF,
    "accounts.User.first_name": STAFF,
    "accounts.User.last_name": STAFF,
    "accounts.User.email": STAFF,
    "accounts.User.role": CODE,
    "accounts.User.job_title": STAFF,
    "accounts.User.team": STAFF,
    "accounts.ApiToken.name": "a partner system's label for its token",
    "accounts.ApiToken.key_prefix": "the first characters of a token, to recognise it; the token is kept only hashed",
    "accounts.ApiToken.key_hash": HASH,
    "accounts.ApiToken.revoked_by": STAFF,
    # partners
    "partners.Partner.slug": ISA,
    "partners.Partner.name": ISA,
    "partners.Partner.partner_type": CODE,
    "partners.IsaVersion.version": ISA,
    "partners.IsaVersion.title": ISA,
    "partners.IsaVersion.document": ISA,
    "partners.IsaVersion.source_text": ISA,
    "partners.IsaVersion.source_sha256": HASH,
    # people
    "people.Person.first_name": IDENTIFIER,
    "people.Person.last_name": IDENTIFIER,
    "people.Person.other_names": IDENTIFIER,
    "people.Person.gender": CODE,
    "people.Person.nhs_number": IDENTIFIER,
    "people.Person.upn": IDENTIFIER,
    "people.Person.address_line_1": IDENTIFIER,
    "people.Person.address_line_2": IDENTIFIER,
    "people.Person.town": IDENTIFIER,
    "people.Person.postcode": IDENTIFIER,
    "people.Relationship.relationship": CODE,
    **{f"people.PersonName.{c}": IDENTIFIER for c in ("first_name", "last_name")},
    "people.PersonName.kind": CODE,
    **{f"people.PersonAddress.{c}": IDENTIFIER for c in ("address_line_1", "address_line_2", "town", "postcode")},
    "people.LocalIdentifier.value": IDENTIFIER,
    "people.MatchKey.key": ("a blocking key derived from the person's identifiers (a normalised NHS number, a "
                            "date of birth, a postcode, a phonetic code of a name): looked up at the front door, "
                            "so it stays plain; deleted with the person and rebuilt when they change"),
    "people.IdentityDecision.outcome": CODE,
    "people.IdentityDecision.reasons": ("the matcher's reasons in its own words ('same NHS number', 'similar "
                                        "name'): they name what agreed, never the values"),
    "people.IdentityDecision.context": "an enquiry reference or the name of the page where it was decided",
    "people.Merge.moved": "ids of the rows a merge repointed, kept so an unmerge can move them back",
    "people.PersonRevision.changed_fields": ("the names of the fields amended; the earlier values and the reason "
                                             "are encrypted"),
    # cases
    "cases.Contact.reporter_type": CODE,
    "cases.Contact.reporter_organisation": ("the reporting organisation's name (a school, a GP practice, a police "
                                            "force); a member of the public gives none. The reporter's own name, "
                                            "phone and email are encrypted"),
    "cases.Contact.concern_categories": CODE,
    "cases.Contact.consent_at_intake": CODE,
    "cases.Enquiry.reference": "the enquiry's reference, made by the application (MASH-2026-000001)",
    "cases.Enquiry.state": CODE,
    "cases.Enquiry.rag": CODE,
    "cases.EnquiryEvent.action": CODE,
    "cases.EnquiryEvent.from_state": CODE,
    "cases.EnquiryEvent.to_state": CODE,
    "cases.RagRatingRecord.rating": CODE,
    "cases.RagRatingRecord.isa_clause": CODE,
    "cases.Decision.outcome": CODE,
    "cases.Decision.recipient_type": CODE,
    "cases.Decision.receiving_team": "the name of a team in the receiving service, not of a person",
    "cases.Decision.retention_clause": CODE,
    # sharing
    "sharing.InformationRequest.status": CODE,
    "sharing.Contribution.kind": CODE,
    "sharing.Contribution.lawful_basis": CODE,
    "sharing.Contribution.confidential_reason": CODE,
    "sharing.ContributionItem.category": CODE,
    "sharing.ContributionItem.confidentiality": CODE,
    "sharing.ContributionItem.isa_clause": CODE,
    # consent
    "consent.ConsentRecord.status": CODE,
    "consent.ConsentRecord.not_sought_reason": CODE,
    "consent.ConsentRecord.purposes": CODE,
    "consent.ConsentRecord.agencies": "the agencies' ISA ids",
    "consent.ConsentOverride.lawful_basis": CODE,
    "consent.ConsentOverride.lawful_basis_clause": CODE,
    "consent.ConsentOverride.purposes": CODE,
    "consent.ConsentOverride.isa_clause": CODE,
    "consent.ConsentOverride.status": CODE,
    # disclosure
    "disclosure.DisclosurePackage.recipient_type": CODE,
    "disclosure.DisclosurePackage.recipient_team": "the name of a team in the receiving service, not of a person",
    "disclosure.DisclosurePackage.lawful_basis": CODE,
    "disclosure.DisclosurePackage.selection": "which items and which of their fields were chosen: ids and field names",
    "disclosure.DisclosurePackage.status": CODE,
    "disclosure.DisclosurePackage.isa_clause": CODE,
    "disclosure.DisclosurePackage.lawful_basis_clause": CODE,
    "disclosure.DisclosurePackage.consent_state": CODE,
    # training
    "training.TrainingRecord.course": STAFF + " (a staff member's training course)",
    "training.TrainingRecord.evidence_reference": STAFF + " (a certificate or learning-system reference)",
    "training.TrainingRecord.source": "where a completion came from: the import file's name and line",
    # sar
    "sar.SubjectAccessRequest.reference": "the request's reference, made by the application (SAR-2026-0001)",
    "sar.SubjectAccessRequest.requester_relationship": CODE,
    "sar.SubjectAccessRequest.status": CODE,
    "sar.SarPause.reason": CODE,
    "sar.SarItem.source": CODE,
    "sar.SarItem.enquiry_reference": "an enquiry's reference, made by the application",
    "sar.SarItem.title": ("fixed wording naming the kind of record, the agency and the ISA category "
                          "(sar/compile.py); never free text"),
    "sar.SarItem.agency": "the name of the agency that provided it",
    "sar.SarItem.category": "the ISA category's label",
    "sar.SarItem.decision": CODE,
    "sar.SarItem.exemption": CODE,
    # attachments
    "attachments.Attachment.content_type": "the file's type, judged from its bytes",
    "attachments.Attachment.sha256": ("a digest of the file as uploaded, to check it is unaltered; nothing "
                                      "readable (it could only confirm a guess of the whole file)"),
    # audit
    **{f"audit.AuditEvent.{column}": AUDIT for column in (
        "kind", "action", "result", "actor", "role", "organisation", "ip", "request_id", "object_type", "people",
        "fields", "purpose")},
    "audit.AuditEvent.object_ref": AUDIT + ("; ids and application-made references only: search text and "
                                            "whatever is typed where a reference goes are not kept "
                                            "(audit.typed.loggable_ref, sar.selectors.sar_people), and in events recorded "
                                            "before that are not shown (audit/shown.py)"),
    "audit.AuditEvent.detail": AUDIT + "; a reason or a count in the application's words",
    "audit.Seal.leaf": HASH,
    "audit.Seal.chain": HASH,
    "audit.Checkpoint.root": HASH,
    "audit.Checkpoint.chain_head": HASH,
    "audit.Checkpoint.key_id": HASH,
    "audit.Checkpoint.signature": HASH,
    "audit.Checkpoint.frontier": HASH,
    # keys
    "keys.PersonKey.wrapped": "a person's data key, encrypted under the master key",
    "keys.PersonKey.master_key_id": HASH,
    # retention
    "retention.Disposal.enquiry_reference": "the disposed enquiry's reference, made by the application",
    "retention.Disposal.outcome": CODE,
    "retention.Disposal.isa_version": CODE,
    "retention.Disposal.isa_clause": CODE,
    "retention.Disposal.action": CODE,
    "retention.Disposal.rows": "how many rows of each table were deleted or anonymised",
}
