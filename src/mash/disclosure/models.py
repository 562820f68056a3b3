"""Disclosure packages: the relevant parts of a MASH enquiry passed on to whoever receives the case.

A package is drafted by a MASH manager after the decision: they choose the contributions, and
within them the fields, that are relevant (`selection`). Sending fixes exactly what the recipient
sees (`content`, built by the same code the preview uses) with the ISA clause, the lawful basis and
the consent state it relied on. From then on the package never changes (the database refuses it);
it can only be withdrawn, and it expires when the ISA says.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from mash.keys import integrity
from mash.keys.fields import EncryptedJSONField, EncryptedTextField

from mash.core.vocabulary import RecipientType


def live_q(now=None) -> models.Q:
    """Packages their recipients can open: sent, not withdrawn, not expired."""
    return models.Q(status=PackageStatus.SENT, expires_at__gt=now or timezone.now())


class PackageStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ConsentState(models.TextChoices):
    GIVEN = "given", "Consent given"
    WITHOUT_CONSENT = "without_consent", "Shared without consent (risk of significant harm)"


class DisclosurePackage(models.Model):
    enquiry = models.ForeignKey("cases.Enquiry", on_delete=models.PROTECT, related_name="disclosure_packages")
    decision = models.ForeignKey("cases.Decision", on_delete=models.PROTECT, related_name="+")
    recipient_type = models.CharField(max_length=32, choices=RecipientType.choices)
    # A named receiving professional, or a team: every active receiving professional whose team it is.
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="disclosure_packages")
    recipient_team = models.CharField(max_length=200, blank=True)
    cover_note = EncryptedTextField(person="enquiry.child_id", blank=True, help_text="why this is being passed on, for the recipient")
    lawful_basis = models.CharField(max_length=80)
    # What the manager chose: {"child": [fields], "decision": [fields], "items": {"<item id>": [fields]}}.
    selection = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=PackageStatus.choices, default=PackageStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Fixed when the package is sent.
    content = EncryptedJSONField(person="enquiry.child_id", null=True, blank=True, help_text="exactly what the recipient sees")
    isa_version = models.ForeignKey("partners.IsaVersion", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    isa_clause = models.CharField(max_length=40, blank=True, help_text="the ISA's onward-disclosure clause")
    lawful_basis_clause = models.CharField(max_length=40, blank=True)
    consent_state = models.CharField(max_length=20, choices=ConsentState.choices, blank=True)
    consent_record = models.ForeignKey("consent.ConsentRecord", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="disclosure_packages")
    consent_override = models.ForeignKey("consent.ConsentOverride", null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="disclosure_packages")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = EncryptedTextField(person="enquiry.child_id", blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "status", "expires_at"], name="package_recipient"),
            models.Index(fields=["recipient_team", "status", "expires_at"], name="package_team"),
        ]
        constraints = [
            # Addressed to one professional or to one team, never both or neither.
            models.CheckConstraint(
                condition=(models.Q(recipient__isnull=False) & models.Q(recipient_team=""))
                | (models.Q(recipient__isnull=True) & ~models.Q(recipient_team="")),
                name="package_has_one_addressee"),
        ]

    def __str__(self):
        return f"Disclosure package {self.pk} on {self.enquiry}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_live(self) -> bool:
        """Sent, not withdrawn, not expired: what its recipient can open."""
        return self.status == PackageStatus.SENT and not self.is_expired

    @property
    def state_label(self) -> str:
        if self.status == PackageStatus.SENT and self.is_expired:
            return "Expired"
        return self.get_status_display()

    @property
    def addressed_to(self) -> str:
        return self.recipient.display_name if self.recipient_id else f"{self.recipient_team} (team)"

    # What a package names its enquiry and child by: as sent (its fixed content), which is all its
    # addressee may read of the enquiry; a draft (the MASH team's only) by the enquiry as it is now.
    # A content that failed its integrity check names the enquiry by its reference (the one it was sent
    # under: references never change) and the child not at all.
    @property
    def enquiry_reference_as_sent(self) -> str:
        if self.content is not None and not integrity.unreadable(self.content):
            return self.content.get("enquiry_reference", "")
        return self.enquiry.reference or ""

    @property
    def child_name_as_sent(self) -> str:
        if integrity.unreadable(self.content):
            return integrity.MESSAGE
        if self.content is not None:
            return (self.content.get("child") or {}).get("full_name", "")
        return self.enquiry.child.full_name


class DisposalPermit(models.Model):
    """Lets retention (and only retention) delete or anonymise a sent package past the triggers that
    otherwise keep it fixed. Written and removed inside the one disposal transaction, so none is
    ever committed (docs/retention.md)."""

    package_id = models.BigIntegerField(unique=True)
