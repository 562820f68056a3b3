"""Training completions: each user's annual refresher in handling confidential information.

A record is never edited: a correction is a new record, and the latest completion counts.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class TrainingRecord(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_records")
    course = models.CharField(max_length=200)
    completed_on = models.DateField()
    evidence_reference = models.CharField(max_length=200, help_text="e.g. the learning system's certificate id")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", help_text="empty when imported from a file")
    source = models.CharField(max_length=300, blank=True, help_text="the file an import came from, and its line")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-completed_on", "-id"]
        indexes = [models.Index(fields=["user", "completed_on"])]


class TrainingReminder(models.Model):
    """A reminder sent before a refresher expires: at most one per user, expiry date and threshold."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_reminders")
    expires_on = models.DateField(help_text="the expiry the reminder was about")
    days_before = models.PositiveSmallIntegerField(help_text="the threshold: 30, 14 or 7 days before expiry")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [models.UniqueConstraint(fields=["user", "expires_on", "days_before"],
                                               name="one_reminder_per_threshold")]
