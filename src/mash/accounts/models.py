"""People who use MASH Hub, their roles, and API tokens for partner systems."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models


class Role(models.TextChoices):
    MASH_MANAGER = "mash_manager", "MASH manager"
    MASH_WORKER = "mash_worker", "MASH worker"
    RECEIVING_PROFESSIONAL = "receiving_professional", "Receiving professional"
    DPO = "dpo", "Data protection officer"
    SYSADMIN = "sysadmin", "System administrator"
    AUDITOR = "auditor", "Auditor"


class User(AbstractUser):
    role = models.CharField(max_length=32, choices=Role.choices)
    partner = models.ForeignKey(
        "partners.Partner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text="The partner agency a MASH worker belongs to",
    )
    job_title = models.CharField(max_length=200, blank=True)
    team = models.CharField(
        max_length=200, blank=True, help_text="For receiving professionals: the team that receives cases"
    )

    objects = UserManager()

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def clean(self):
        super().clean()
        if self.role == Role.MASH_WORKER and not self.partner_id:
            raise ValidationError({"partner": "A MASH worker must belong to a partner agency"})
        # Django admin is for system administrators only.
        if self.is_staff and self.role != Role.SYSADMIN:
            raise ValidationError({"is_staff": "Only system administrators may use the admin site"})

    def save(self, *args, **kwargs):
        # The admin flag follows the role so that no other role can reach Django admin.
        self.is_staff = self.role == Role.SYSADMIN
        self.is_superuser = self.is_superuser and self.role == Role.SYSADMIN
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MASH_MANAGER

    @property
    def is_worker(self) -> bool:
        return self.role == Role.MASH_WORKER

    @property
    def is_receiving_professional(self) -> bool:
        return self.role == Role.RECEIVING_PROFESSIONAL


class ApiToken(models.Model):
    """A bearer token for one agency's system, acting as one of its users. Only its SHA-256 is stored;
    the token is shown once. It works while it is neither revoked nor expired, its user is active and
    still belongs to its agency, and that agency is a signatory of the current ISA."""

    PREFIX = "mash_"

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_tokens")
    partner = models.ForeignKey(
        "partners.Partner", null=True, on_delete=models.PROTECT, related_name="api_tokens",
        help_text="the agency whose system holds the token: the user's own, or the host council for council staff",
    )
    name = models.CharField(max_length=200, blank=True)
    key_prefix = models.CharField(max_length=16, help_text="the first characters, to tell tokens apart")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=150, blank=True, help_text="username of who revoked it")

    class Meta:
        ordering = ["-created_at"]

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def generate(cls) -> str:
        return cls.PREFIX + secrets.token_urlsafe(32)

    def __str__(self):
        return f"{self.key_prefix}… for {self.user}"
