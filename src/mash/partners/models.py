"""The partner agencies and the versions of the Information Sharing Agreement they signed."""

from django.conf import settings
from django.db import models

from mash.core.vocabulary import PartnerType


class Partner(models.Model):
    """An organisation signed up to the ISA. Created and kept up to date by loading the ISA."""

    slug = models.SlugField(max_length=80, unique=True, help_text="the partner's id in the ISA")
    name = models.CharField(max_length=200, unique=True)
    partner_type = models.CharField(max_length=32, choices=PartnerType.choices)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class IsaVersion(models.Model):
    """One loaded version of the ISA. Never edited: a change is a new version."""

    version = models.CharField(max_length=40, unique=True)
    title = models.CharField(max_length=300)
    effective_from = models.DateField()
    document = models.JSONField(help_text="the validated agreement")
    source_text = models.TextField(help_text="the YAML exactly as loaded")
    source_sha256 = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now_add=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-loaded_at", "-id"]
        verbose_name = "ISA version"

    def __str__(self):
        return f"ISA {self.version}"
