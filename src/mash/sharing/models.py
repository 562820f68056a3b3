"""Requests to partner agencies, and each agency's case-by-case answer (its contribution)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from mash.keys.fields import EncryptedTextField


class RequestStatus(models.TextChoices):
    OPEN = "open", "Awaiting the agency's answer"
    ANSWERED = "answered", "Answered"
    LAPSED = "lapsed", "Not answered before the decision"


class InformationRequest(models.Model):
    enquiry = models.ForeignKey("cases.Enquiry", on_delete=models.PROTECT, related_name="information_requests")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="information_requests")
    question = EncryptedTextField(person="enquiry.child_id", blank=True, help_text="what the MASH wants to know from this agency")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    # What asking the agency relied on (the child's details and the concern leave the council):
    # the child's consent, or sharing without consent that a manager approved. One of the two.
    consent_record = models.ForeignKey("consent.ConsentRecord", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    consent_override = models.ForeignKey("consent.ConsentOverride", null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            # One request per agency per enquiry; a follow-up question is added to it, not a second request.
            models.UniqueConstraint(fields=["enquiry", "partner"], name="one_request_per_agency"),
        ]
        indexes = [
            models.Index(fields=["partner", "status"]),
            # A manager's page of open requests, oldest first (bench/queue_postgres.py).
            models.Index(fields=["status", "requested_at", "id"], name="request_status_age"),
            # Every request, newest first: the API's list for a manager (read backwards).
            models.Index(fields=["requested_at", "id"], name="request_age"),
        ]

    def __str__(self):
        return f"Request to {self.partner} on {self.enquiry}"

    @property
    def consent_basis(self) -> str:
        """What asking relied on, as the agency is told it (never the justification's text, which may
        draw on other agencies' information)."""
        if self.consent_record_id:
            return f"Consent, recorded {timezone.localtime(self.consent_record.recorded_at):%-d %B %Y}"
        if self.consent_override_id:
            o = self.consent_override
            return (f"Without consent, for risk of significant harm: lawful basis {o.lawful_basis} "
                    f"(ISA {o.isa_version.version} clause {o.lawful_basis_clause}), approved by a MASH manager")
        return "Asked before consent was recorded in MASH Hub"


class ContributionKind(models.TextChoices):
    SHARE = "share", "Share information"
    DECLINE = "decline", "Decline to share"
    CONFIDENTIAL_HELD = "confidential_held", "Confidential information held"


class ConfidentialReason(models.TextChoices):
    ONGOING_INVESTIGATION = "ongoing_investigation", "Ongoing investigation"
    COVERT_OPERATION = "covert_operation", "Covert operation"
    RISK_TO_SOURCE = "risk_to_source", "Risk to a source or witness"
    COURT_RESTRICTION = "court_restriction", "Court restriction"
    CLINICAL_CONFIDENTIALITY = "clinical_confidentiality", "Clinical confidentiality"


class Confidentiality(models.TextChoices):
    NORMAL = "normal", "Normal"
    RESTRICTED = "restricted", "Restricted"
    SEALED = "sealed", "Sealed to the contributing agency"


class Contribution(models.Model):
    """An agency's answer to a request. An amendment is a new version; earlier ones are kept."""

    request = models.ForeignKey(InformationRequest, on_delete=models.PROTECT, related_name="contributions")
    enquiry = models.ForeignKey("cases.Enquiry", on_delete=models.PROTECT, related_name="contributions")
    partner = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="contributions")
    version = models.PositiveIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    amendment_reason = EncryptedTextField(person="enquiry.child_id", blank=True)
    # This version was made by the contributing agency lifting its own seal (see services.unseal).
    unsealed = models.BooleanField(default=False)
    kind = models.CharField(max_length=20, choices=ContributionKind.choices)
    # The agency's case-by-case decision: why it shares, declines, or holds back.
    decision_reason = EncryptedTextField(person="enquiry.child_id")
    lawful_basis = models.CharField(max_length=80, blank=True)
    confidential_reason = models.CharField(max_length=32, choices=ConfidentialReason.choices, blank=True)
    contributed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    contributed_at = models.DateTimeField(default=timezone.now)
    isa_version = models.ForeignKey("partners.IsaVersion", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["contributed_at", "id"]
        constraints = [models.UniqueConstraint(fields=["request", "version"], name="contribution_version_unique")]
        indexes = [models.Index(fields=["partner", "contributed_at"])]

    @property
    def is_current(self) -> bool:
        return not hasattr(self, "superseded_by")


class ContributionItem(models.Model):
    """One piece of shared information, in one ISA data category, with why it is relevant."""

    contribution = models.ForeignKey(Contribution, on_delete=models.PROTECT, related_name="items")
    category = models.CharField(max_length=80)
    content = EncryptedTextField(person="contribution.enquiry.child_id")
    relevance_note = EncryptedTextField(person="contribution.enquiry.child_id")
    occurred_on = models.DateField(null=True, blank=True)
    confidentiality = models.CharField(max_length=16, choices=Confidentiality.choices, default=Confidentiality.NORMAL)
    isa_clause = models.CharField(max_length=40, help_text="the ISA clause that permits this category")

    class Meta:
        ordering = ["contribution", "id"]
