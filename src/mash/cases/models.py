"""Contacts, MASH enquiries, RAG ratings and decisions. Ratings and decisions are kept as history."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from mash.keys.fields import EncryptedTextField

from mash.core.vocabulary import (OPEN_STATES, EnquiryState, IntakeConsent, Outcome, RagRating, RecipientType,
                                  ReporterType)



class Contact(models.Model):
    """A concern about a child, as received by the MASH front door."""

    received_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    reporter_type = models.CharField(max_length=32, choices=ReporterType.choices)
    reporter_name = EncryptedTextField(person="child_id", blank=True)
    reporter_organisation = models.CharField(max_length=200, blank=True)
    reporter_partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reporter_phone = EncryptedTextField(person="child_id", blank=True)
    reporter_email = EncryptedTextField(person="child_id", blank=True)
    child = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="contacts")
    concern = EncryptedTextField(person="child_id")
    concern_categories = models.JSONField(default=list)
    consent_at_intake = models.CharField(max_length=16, choices=IntakeConsent.choices)
    consent_notes = EncryptedTextField(person="child_id", blank=True)

    class Meta:
        ordering = ["-received_at"]

    def concern_category_labels(self) -> list[str]:
        from mash.core.vocabulary import ConcernCategory

        labels = dict(ConcernCategory.choices)
        return [labels.get(c, c) for c in self.concern_categories]


class Enquiry(models.Model):
    """The MASH's work on one contact, from RAG rating to the manager's decision."""

    reference = models.CharField(max_length=20, unique=True, null=True, blank=True)
    contact = models.OneToOneField(Contact, on_delete=models.PROTECT, related_name="enquiry")
    child = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="enquiries")
    state = models.CharField(max_length=32, choices=EnquiryState.choices, default=EnquiryState.AWAITING_RATING)
    # The current rating and deadline; every rating is kept in RagRatingRecord.
    rag = models.CharField(max_length=8, choices=RagRating.choices, blank=True)
    decision_due_at = models.DateTimeField(null=True, blank=True)
    # When the manager first decided: what asked agencies keep afterwards runs from here (ISA).
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "enquiries"
        indexes = [models.Index(fields=["state", "decision_due_at"])]

    def __str__(self):
        return self.reference or f"enquiry {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.decision_due_at is not None and self.decision_due_at < timezone.now()

    @property
    def time_remaining(self):
        if self.decision_due_at is None:
            return None
        return self.decision_due_at - timezone.now()


class EnquiryAssignment(models.Model):
    """A MASH team member put on an enquiry by a manager: the case assignment need-to-know follows.

    Ending an assignment sets `ended_at`; the row is kept, so who was on the case stays known.
    """

    enquiry = models.ForeignKey(Enquiry, on_delete=models.PROTECT, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assigned_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enquiry", "user"], condition=models.Q(ended_at__isnull=True),
                                    name="one_current_assignment_per_member"),
        ]
        indexes = [models.Index(fields=["user", "ended_at"])]

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


class EnquiryEvent(models.Model):
    """Each step an enquiry took: the state machine's history."""

    enquiry = models.ForeignKey(Enquiry, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=40)
    from_state = models.CharField(max_length=32, blank=True)
    to_state = models.CharField(max_length=32)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = EncryptedTextField(person="enquiry.child_id", blank=True)

    class Meta:
        ordering = ["at", "id"]


class RagRatingRecord(models.Model):
    """One RAG rating of an enquiry; a re-rating adds a record and keeps this one."""

    enquiry = models.ForeignKey(Enquiry, on_delete=models.PROTECT, related_name="ratings")
    rating = models.CharField(max_length=8, choices=RagRating.choices)
    rationale = EncryptedTextField(person="enquiry.child_id")
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rated_at = models.DateTimeField(default=timezone.now)
    decision_due_at = models.DateTimeField()
    isa_version = models.ForeignKey("partners.IsaVersion", on_delete=models.PROTECT, related_name="+")
    isa_clause = models.CharField(max_length=40)

    class Meta:
        ordering = ["rated_at", "id"]


class Decision(models.Model):
    """The MASH manager's decision. An amendment is a new version; earlier ones are kept."""

    enquiry = models.ForeignKey(Enquiry, on_delete=models.PROTECT, related_name="decisions")
    version = models.PositiveIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )
    amendment_reason = EncryptedTextField(person="enquiry.child_id", blank=True)
    outcome = models.CharField(max_length=32, choices=Outcome.choices)
    rationale = EncryptedTextField(person="enquiry.child_id")
    recipient_type = models.CharField(max_length=32, choices=RecipientType.choices, blank=True)
    receiving_team = models.CharField(max_length=200, blank=True)
    receiving_professional = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="received_decisions"
    )
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)
    isa_version = models.ForeignKey("partners.IsaVersion", on_delete=models.PROTECT, related_name="+")
    retention_clause = models.CharField(max_length=40)
    # The repeat-contact flag at the decision (ISA repeat_contacts): the child's contacts in the window when
    # the flag was raised (None: it was not), and the manager's rationale for no further action despite it.
    repeat_contacts = models.PositiveIntegerField(null=True, blank=True)
    repeat_contacts_rationale = EncryptedTextField(person="enquiry.child_id", blank=True)

    class Meta:
        ordering = ["enquiry", "version"]
        constraints = [models.UniqueConstraint(fields=["enquiry", "version"], name="decision_version_unique")]
