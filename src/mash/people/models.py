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
    date_of_birth_estimated = models.BooleanField(default=False, help_text="the date of birth is an estimate")
    # An unborn child: no date of birth yet, the expected date instead (pre-birth assessments).
    unborn = models.BooleanField(default=False)
    expected_date = models.DateField("expected date of birth", null=True, blank=True)
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
    # Set when a manager merged this record into another (`people.merging`): it stays as a pointer, and
    # everything that named it names the other; an unmerge clears it.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged")

    class Meta:
        ordering = ["last_name", "first_name"]
        verbose_name_plural = "people"
        indexes = [models.Index(fields=["nhs_number"], name="person_nhs_number"),
                   models.Index(fields=["upn"], name="person_upn")]

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

    def clean(self):
        """An unborn child has an expected date and no date of birth; an estimate needs a date to estimate."""
        errors = {}
        if self.unborn:
            if self.date_of_birth:
                errors["date_of_birth"] = ["A child not born yet has no date of birth: give the expected date"]
            if not self.expected_date:
                errors["expected_date"] = ["Enter the expected date of birth of a child not born yet"]
        elif self.expected_date:
            errors["expected_date"] = ["Only a child not born yet has an expected date of birth"]
        if self.date_of_birth_estimated and not self.date_of_birth:
            errors["date_of_birth_estimated"] = ["Enter the estimated date of birth"]
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


class NameKind(models.TextChoices):
    PREVIOUS = "previous", "Previous name"
    ALIAS = "alias", "Also known as"


class PersonName(models.Model):
    """A name the person had before (e.g. before a surname change) or is also known by. The current name
    is on the person."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="names")
    kind = models.CharField(max_length=16, choices=NameKind.choices)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    until = models.DateField(null=True, blank=True, help_text="when a previous name stopped being used")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person", "id"]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def __str__(self):
        return f"{self.full_name} ({self.get_kind_display()})"


class PersonAddress(models.Model):
    """An address the person lived at, with the dates; the current address is also on the person (to_date
    empty here)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="addresses")
    address_line_1 = models.CharField(max_length=200, blank=True)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    from_date = models.DateField(null=True, blank=True)
    to_date = models.DateField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # The current address first, then the latest; the same on both engines (they sort NULLs differently).
        ordering = ["person", models.F("to_date").desc(nulls_first=True), models.F("from_date").desc(nulls_last=True),
                    "-id"]
        indexes = [models.Index(fields=["postcode"], name="person_address_postcode")]

    @property
    def address(self) -> str:
        return ", ".join(p for p in (self.address_line_1, self.address_line_2, self.town, self.postcode) if p)


class LocalIdentifier(models.Model):
    """A partner agency's own id for the person (a police nominal id, a social care id, a GP's record id)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="local_identifiers")
    agency = models.ForeignKey("partners.Partner", on_delete=models.PROTECT, related_name="+")
    value = models.CharField(max_length=64)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agency", "value"]
        constraints = [models.UniqueConstraint(fields=["agency", "value"], name="local_identifier_once")]


class MatchKey(models.Model):
    """A blocking key of a person for candidate lookup (`people.matching`): a normalised identifier, a
    date of birth, a postcode or a phonetic name code. Derived from the person; rebuilt when they change.
    Lookup is an index search on `key`, never a scan of people."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="match_keys")
    key = models.CharField(max_length=80)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "key"], name="match_key_once")]
        indexes = [models.Index(fields=["key"], name="match_key_key")]


class IdentityOutcome(models.TextChoices):
    SAME = "same", "Same person"
    NEW = "new", "New person"


class IdentityDecision(models.Model):
    """A manager's decision at intake (or on review) that a record is, or is not, a candidate person: who
    decided, why, and what the matcher offered. Matching never merges on its own."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="identity_decisions",
                               help_text="the person the contact was recorded against")
    candidate = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                  help_text="the candidate the matcher offered, if any")
    outcome = models.CharField(max_length=8, choices=IdentityOutcome.choices)
    score = models.FloatField(null=True, blank=True)
    reasons = models.JSONField(default=list, help_text="the matcher's reasons, in words")
    reason = EncryptedTextField(person="person_id", blank=True)
    context = models.CharField(max_length=60, blank=True, help_text="where it was decided, e.g. an enquiry reference")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "id"]


class Merge(models.Model):
    """One record merged into another by a manager, with what was moved, so an unmerge can move it back."""

    kept = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merges_merged")
    reason = EncryptedTextField(person="kept_id")
    moved = models.JSONField(default=dict, help_text="model label -> ids of the rows repointed to the kept record")
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(auto_now_add=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)
    undo_reason = EncryptedTextField(person="kept_id", blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        constraints = [models.CheckConstraint(condition=~models.Q(kept=models.F("merged")), name="merge_not_self")]


class RelationshipType(models.TextChoices):
    MOTHER = "mother", "Mother"
    FATHER = "father", "Father"
    STEP_PARENT = "step_parent", "Step-parent"
    PARENTS_PARTNER = "parents_partner", "Parent's partner"
    CARER = "carer", "Carer or guardian"
    GRANDPARENT = "grandparent", "Grandparent"
    SIBLING = "sibling", "Sibling"
    PARTNER = "partner", "Partner"
    HOUSEHOLD_MEMBER = "household_member", "Other household member"
    OTHER = "other", "Other"


class Relationship(models.Model):
    """How a person is related to a child (or, for "partner", to another adult), from and to when. With one
    record per real person, relationships recorded at different contacts meet: the household of a child is
    every person related to them, and their siblings are also the other children of their parents."""

    child = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="relationships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="related_to")
    relationship = models.CharField(max_length=32, choices=RelationshipType.choices)
    lives_with_child = models.BooleanField(default=False)
    parental_responsibility = models.BooleanField(default=False)
    from_date = models.DateField(null=True, blank=True)
    to_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["child", "id"]
        constraints = [
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
