"""Subject access requests (UK GDPR Article 15, Data Protection Act 2018): the request, its clock,
what was compiled for it, the reviewer's decision on each item, and the response pack as issued.

Nothing is deleted: a request that is withdrawn is closed with its reason; the pack, once issued,
is kept exactly as it went.

Free text is encrypted (docs/encryption.md): what was compiled about a subject, and the reviewer's
words on it, under that subject's data key; the request's own text (the requester, what was asked,
the identity checks, the extension's reason, pauses' notes, why it closed) under its first subject's
key, because a requester (a parent, a solicitor) need not be a person the MASH holds a key for.
Retention keeps every SAR subject, and so their key, while the request exists.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from mash.keys.fields import EncryptedJSONField, EncryptedTextField


class RequesterRelationship(models.TextChoices):
    SELF = "self", "The person the information is about"
    PARENT = "parent", "A parent or carer, for a child"
    REPRESENTATIVE = "representative", "A solicitor or other representative, with authority"


class SarStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESPONDED = "responded", "Responded"
    WITHDRAWN = "withdrawn", "Withdrawn"


class PauseReason(models.TextChoices):
    IDENTITY = "identity", "Awaiting proof of identity"
    CLARIFICATION = "clarification", "Awaiting clarification of the request"


REQUEST_KEY = "key_person_id"  # the request's text is under its first subject's data key


class SubjectAccessRequest(models.Model):
    """The request. Its subjects must exist before its text is set: services.log_request makes the row,
    then the subjects, then sets the text (encrypted under the first subject's key)."""

    reference = models.CharField(max_length=20, unique=True)
    requester_name = EncryptedTextField(person=REQUEST_KEY)
    requester_relationship = models.CharField(max_length=20, choices=RequesterRelationship.choices)
    requester_contact = EncryptedTextField(person=REQUEST_KEY, help_text="where the response goes: address or email")
    received_on = models.DateField(help_text="the day the request reached the council")
    description = EncryptedTextField(person=REQUEST_KEY, blank=True,
                                     help_text="what was asked for, in the requester's words")
    status = models.CharField(max_length=12, choices=SarStatus.choices, default=SarStatus.OPEN)
    # Identity checks: how the requester's identity (and authority, for a representative) was confirmed.
    identity_verified_on = models.DateField(null=True, blank=True)
    identity_method = EncryptedTextField(person=REQUEST_KEY, blank=True)
    identity_checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                            related_name="+")
    # An extension of up to two further months for a complex request.
    extension_months = models.PositiveSmallIntegerField(default=0)
    extension_reason = EncryptedTextField(person=REQUEST_KEY, blank=True)
    extended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    extended_at = models.DateTimeField(null=True, blank=True)
    compiled_at = models.DateTimeField(null=True, blank=True)
    responded_on = models.DateField(null=True, blank=True)
    closed_reason = EncryptedTextField(person=REQUEST_KEY, blank=True)
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    logged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["received_on", "id"]

    def __str__(self):
        return self.reference

    @property
    def key_person_id(self) -> int | None:
        """Whose data key encrypts the request's own text: its first subject (the earliest SarSubject
        row; subjects are never removed, so it never changes). None before the subjects exist."""
        found = self.__dict__.get("_key_person_id")
        if found is None and self.pk is not None:
            prefetched = getattr(self, "_prefetched_objects_cache", {}).get("subjects")
            if prefetched is not None:
                first = min(prefetched, key=lambda s: s.pk, default=None)
                found = first.person_id if first else None
            else:
                found = self.subjects.order_by("id").values_list("person_id", flat=True).first()
            if found is not None:
                self.__dict__["_key_person_id"] = found
        return found


class SarSubject(models.Model):
    """A person the request concerns."""

    sar = models.ForeignKey(SubjectAccessRequest, on_delete=models.PROTECT, related_name="subjects")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sar", "person"], name="sar_subject_once")]


class SarPause(models.Model):
    """The clock stopped while identity or clarification was awaited: from started_on to ended_on."""

    sar = models.ForeignKey(SubjectAccessRequest, on_delete=models.PROTECT, related_name="pauses")
    reason = models.CharField(max_length=16, choices=PauseReason.choices)
    note = EncryptedTextField(person=f"sar.{REQUEST_KEY}", blank=True)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")

    class Meta:
        ordering = ["started_on", "id"]


class ItemSource(models.TextChoices):
    PERSON = "person", "Personal details"
    RELATIONSHIP = "relationship", "Family and household"
    CONTACT = "contact", "Contact to the MASH"
    RATING = "rating", "RAG rating"
    DECISION = "decision", "MASH manager's decision"
    CONTRIBUTION = "contribution", "Agency's answer"
    ITEM = "item", "Information shared by an agency"
    PACKAGE = "package", "Disclosure package"
    CONSENT = "consent", "Consent record"
    OVERRIDE = "override", "Sharing without consent"
    RECIPIENTS = "recipients", "Who received the information"


class ItemDecision(models.TextChoices):
    PENDING = "pending", "Not yet reviewed"
    DISCLOSE = "disclose", "Disclose"
    REDACT = "redact", "Disclose with redactions"
    WITHHOLD = "withhold", "Withhold"


class Exemption(models.TextChoices):
    NONE = "", "None"
    THIRD_PARTY = "third_party", "Information about other people (DPA 2018 Sch. 2 para. 16)"
    CRIME = "crime", "Prevention or detection of crime, prejudice to an investigation (DPA 2018 Sch. 2 para. 2)"
    SERIOUS_HARM = "serious_harm", "Serious harm: social work data (DPA 2018 Sch. 3 Part 3)"
    LEGAL_PRIVILEGE = "legal_privilege", "Legal professional privilege (DPA 2018 Sch. 2 para. 19)"


class SarItem(models.Model):
    """One piece of what is held about a subject, as compiled, with the reviewer's decision on it."""

    sar = models.ForeignKey(SubjectAccessRequest, on_delete=models.PROTECT, related_name="items")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=16, choices=ItemSource.choices)
    source_id = models.BigIntegerField()
    enquiry_reference = models.CharField(max_length=20, blank=True)
    title = models.CharField(max_length=300)
    held_on = models.DateField(null=True, blank=True, help_text="when it was recorded")
    agency = models.CharField(max_length=200, blank=True, help_text="who provided it")
    category = models.CharField(max_length=200, blank=True)
    fields = EncryptedJSONField(person="person_id", default=dict, help_text="label -> text, as compiled; empty for a sealed item")
    sealed = models.BooleanField(default=False, help_text="sealed by an agency: its content is not compiled")
    social_work = models.BooleanField(default=False, help_text="social work data: the serious-harm test applies")
    proposed_redactions = EncryptedJSONField(person="person_id", default=list, help_text="other people's details found in the text")
    decision = models.CharField(max_length=10, choices=ItemDecision.choices, default=ItemDecision.PENDING)
    exemption = models.CharField(max_length=20, choices=Exemption.choices, blank=True)
    neither_confirm_nor_deny = models.BooleanField(default=False, help_text="withheld without saying it exists")
    redactions = EncryptedJSONField(person="person_id", default=list, help_text="the words the reviewer confirmed for redaction")
    serious_harm_opinion = EncryptedTextField(person="person_id", blank=True, help_text="for social work data: who was consulted and "
                                                                  "their view on serious harm")
    reason = EncryptedTextField(person="person_id", blank=True, help_text="why it is held back, in the reviewer's words")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["person_id", "enquiry_reference", "held_on", "id"]
        constraints = [models.UniqueConstraint(fields=["sar", "person", "source", "source_id"],
                                               name="sar_item_once_per_subject")]


class SarPack(models.Model):
    """The response as issued: its content never changes."""

    sar = models.OneToOneField(SubjectAccessRequest, on_delete=models.PROTECT, related_name="pack")
    content = EncryptedJSONField(person="key_person_id")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)

    @property
    def key_person_id(self) -> int | None:
        """The pack is encrypted under the data key of the request's first subject."""
        return self.sar.key_person_id
