"""Consent, per person and enquiry, and the sharing without consent a manager approved.

A consent record is a statement made at a time: a newer record for the same person and enquiry
takes its place, and the earlier one is kept. Withdrawal of consent is added to the record it
withdraws (once, with who, when and why); nothing else about a record ever changes.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from mash.keys.fields import EncryptedTextField

from mash.core.vocabulary import ConsentStatus, NotSoughtReason


class ConsentRecord(models.Model):
    enquiry = models.ForeignKey("cases.Enquiry", on_delete=models.PROTECT, related_name="consent_records")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="consent_records")
    status = models.CharField(max_length=16, choices=ConsentStatus.choices)
    not_sought_reason = models.CharField(max_length=32, choices=NotSoughtReason.choices, blank=True)
    given_by = EncryptedTextField(person="person_id", blank=True,
                                help_text="who gave or refused consent, e.g. the child's mother")
    notes = EncryptedTextField(person="person_id", blank=True)
    # What the consent covers: ConsentPurpose values, and partner agencies by ISA id.
    purposes = models.JSONField(default=list)
    agencies = models.JSONField(default=list)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    withdrawal_reason = EncryptedTextField(person="person_id", blank=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["enquiry", "person", "recorded_at"])]

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def state(self) -> str:
        """The status, or "withdrawn" for consent given and later withdrawn."""
        return "withdrawn" if self.is_withdrawn else self.status

    @property
    def state_label(self) -> str:
        if self.is_withdrawn:
            return "Withdrawn"
        if self.status == ConsentStatus.NOT_SOUGHT and self.not_sought_reason:
            return f"Not sought: {self.get_not_sought_reason_display().lower()}"
        return self.get_status_display()


class OverrideStatus(models.TextChoices):
    PROPOSED = "proposed", "Awaiting a manager's approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ConsentOverride(models.Model):
    """Sharing without consent on one enquiry: the significant-harm justification, the lawful basis
    the ISA allows for it, and a MASH manager's approval."""

    enquiry = models.ForeignKey("cases.Enquiry", on_delete=models.PROTECT, related_name="consent_overrides")
    justification = EncryptedTextField(person="enquiry.child_id", help_text="why the child or an adult may be at risk of significant harm")
    lawful_basis = models.CharField(max_length=80)
    lawful_basis_clause = models.CharField(max_length=40)
    purposes = models.JSONField(default=list)
    isa_version = models.ForeignKey("partners.IsaVersion", on_delete=models.PROTECT, related_name="+")
    isa_clause = models.CharField(max_length=40, help_text="the ISA clause on sharing without consent")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=OverrideStatus.choices, default=OverrideStatus.PROPOSED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = EncryptedTextField(person="enquiry.child_id", blank=True)

    class Meta:
        ordering = ["proposed_at", "id"]
        indexes = [models.Index(fields=["status", "decided_at"])]

    @property
    def is_approved(self) -> bool:
        return self.status == OverrideStatus.APPROVED
