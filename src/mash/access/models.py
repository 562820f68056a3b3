"""What the gate refused, and to whom: each denial is recorded (the user saw only "not found")."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class AccessDenial(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    role = models.CharField(max_length=32, blank=True)
    partner = models.CharField(max_length=80, blank=True, help_text="the user's agency, by ISA id")
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=40, blank=True)
    object_ref = models.CharField(max_length=60, blank=True, help_text="reference or id as asked for")
    exists = models.BooleanField(help_text="whether the object exists (the user is not told)")
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.object_type} {self.object_ref}: {self.reason}"
