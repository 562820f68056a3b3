"""Each person's data key, wrapped by the master key (envelope encryption, docs/encryption.md).

The data key itself is never stored: only `wrapped`, which the master key named by `master_key_id`
opens. Destroying a person's key (crypto-shredding) empties `wrapped` and records when; whatever
was encrypted under it, here or in any backup, can no longer be read.
"""

import uuid

from django.db import models
from django.utils import timezone


class PersonKey(models.Model):
    # Not a foreign key: the key outlives nothing, but a person may be deleted by retention
    # after their key is destroyed, and the shred register names keys, never people.
    person_id = models.BigIntegerField(unique=True)
    key_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    wrapped = models.BinaryField(blank=True)
    master_key_id = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    rewrapped_at = models.DateTimeField(null=True, blank=True)
    shredded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["master_key_id"])]

    def __str__(self):
        return f"data key {self.key_id} (person {self.person_id})"

    @property
    def is_shredded(self) -> bool:
        return self.shredded_at is not None
