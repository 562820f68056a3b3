"""The child a contact is about, and the people around them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from mash.keys.fields import EncryptedJSONField, EncryptedTextField

from .identifiers import normalise_nhs_number, normalise_postcode, normalise_upn


class Gender(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Not known"


class Person(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    other_names = models.CharField(max_length=200, blank=True, help_text="known as, previous names")
    date_of_birth = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=16, choices=Gender.choices, default=Gender.UNKNOWN)
    nhs_number = models.CharField(max_length=10, blank=True)
    upn = models.CharField("unique pupil number", max_length=13, blank=True)
    address_line_1 = models.CharField(max_length=200, blank=True)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Set when retention removed everything that identified the person (docs/retention.md).
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name_plural = "people"

    def clean_fields(self, exclude=None):
        # Normalise identifiers first, so "943 476 5919" is checked as the ten digits it stands for.
        errors = {}
        for field, normalise in (("nhs_number", normalise_nhs_number), ("upn", normalise_upn),
                                 ("postcode", normalise_postcode)):
            value = getattr(self, field)
            if value:
                try:
                    setattr(self, field, normalise(value))
                except ValidationError as exc:
                    errors[field] = exc.messages
        try:
            super().clean_fields(exclude=set(exclude or ()) | set(errors))
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def address(self) -> str:
        return ", ".join(p for p in (self.address_line_1, self.address_line_2, self.town, self.postcode) if p)

    def __str__(self):
        return self.full_name


class RelationshipType(models.TextChoices):
    MOTHER = "mother", "Mother"
    FATHER = "father", "Father"
    STEP_PARENT = "step_parent", "Step-parent"
    PARENTS_PARTNER = "parents_partner", "Parent's partner"
    CARER = "carer", "Carer or guardian"
    GRANDPARENT = "grandparent", "Grandparent"
    SIBLING = "sibling", "Sibling"
    HOUSEHOLD_MEMBER = "household_member", "Other household member"
    OTHER = "other", "Other"


class Relationship(models.Model):
    """How a person is related to a child."""

    child = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="relationships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="related_to")
    relationship = models.CharField(max_length=32, choices=RelationshipType.choices)
    lives_with_child = models.BooleanField(default=False)
    parental_responsibility = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["child", "id"]
        constraints = [
            models.UniqueConstraint(fields=["child", "person"], name="relationship_once"),
            models.CheckConstraint(condition=~models.Q(child=models.F("person")), name="relationship_not_self"),
        ]

    def __str__(self):
        return f"{self.person} ({self.get_relationship_display()}) of {self.child}"


class PersonRevision(models.Model):
    """A person's details before an amendment, who amended them and why (`services.amend_person`).

    The earlier details and the reason are encrypted under the person's data key, so destroying the key
    makes them unreadable, in backups too; retention deletes the revisions with the person."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(help_text="1 for the person's first amendment")
    previous = EncryptedJSONField(person="person_id", help_text="the amended fields' values before the amendment")
    changed_fields = models.JSONField(default=list, help_text="the names of the fields amended")
    reason = EncryptedTextField(person="person_id")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person", "number"]
        constraints = [models.UniqueConstraint(fields=["person", "number"], name="person_revision_number_unique")]

    def __str__(self):
        return f"person {self.person_id} revision {self.number}"
