"""Retention under the ISA: legal holds, and the tombstone of every enquiry disposed of."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from mash.keys.fields import EncryptedTextField


class LegalHold(models.Model):
    """Keeps an enquiry (or everything about a person) past its retention period, e.g. for litigation,
    a public inquiry or a safeguarding practice review. Lifting it is recorded; the hold is kept."""

    enquiry = models.ForeignKey("cases.Enquiry", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="legal_holds")
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="legal_holds")
    # Why it was placed and lifted may name the person or the proceedings: encrypted under the held person's
    # key (for a hold on an enquiry, its child's).
    reason = EncryptedTextField(person="held_person_id")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(default=timezone.now)
    lifted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    lifted_at = models.DateTimeField(null=True, blank=True)
    lift_reason = EncryptedTextField(person="held_person_id", blank=True)

    class Meta:
        ordering = ["placed_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(enquiry__isnull=False, person__isnull=True)
                                   | models.Q(enquiry__isnull=True, person__isnull=False),
                                   name="hold_on_one_thing"),
        ]

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None

    @property
    def held_person_id(self) -> int | None:
        """The person whose key encrypts the reasons: the held person, or the held enquiry's child."""
        return self.person_id or (self.enquiry.child_id if self.enquiry_id else None)


class DisposalAction(models.TextChoices):
    DELETE = "delete", "Deleted"
    ANONYMISE = "anonymise", "Anonymised"


class Disposal(models.Model):
    """The tombstone of a disposed enquiry: what rule applied and what was removed; nothing personal."""

    enquiry_id = models.BigIntegerField(unique=True)  # not a key: a deleted enquiry is gone
    enquiry_reference = models.CharField(max_length=20)
    outcome = models.CharField(max_length=32)
    isa_version = models.CharField(max_length=40)
    isa_clause = models.CharField(max_length=40)
    retain_for_months = models.PositiveIntegerField()
    decided_on = models.DateField()
    due_on = models.DateField()
    action = models.CharField(max_length=12, choices=DisposalAction.choices)
    rows = models.JSONField(default=dict, help_text="table -> rows deleted or anonymised")
    keys_destroyed = models.PositiveIntegerField(default=0)
    disposed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["disposed_at", "id"]
