"""Model fields whose values are encrypted under the data key of the person they concern.

    concern = EncryptedTextField(person="child_id")
    content = EncryptedJSONField(person="enquiry.child_id", null=True)

`person` is the attribute path, from the row, to the person's id. The column keeps its type (text,
or JSON holding one string), and holds `enc1:...`. Reading the attribute decrypts it, once per
instance; saving encrypts it again only if it changed, so a row whose other columns change keeps
the same ciphertext (sent disclosure packages rely on that: the database refuses to change them).

The associated data names the row's primary key, which a new row has only once inserted: the
insert writes an empty value and the ciphertext follows in an update in the same transaction, so
no plaintext ever reaches the database. Writing an encrypted column any other way (a queryset
`update()`, `bulk_create`) is refused rather than storing plaintext.
"""

import json
from operator import attrgetter

from django.db import models
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_save

from mash.core.errors import DomainError

from . import integrity, services


class Ciphertext(str):
    """A value as read from the database, not yet decrypted."""


class Sealed(str):
    """A value this module encrypted, or left as it was read: the only kind written to the column."""


class EncryptedDataError(ValueError):
    pass


class DamagedData(DomainError):
    """Something would copy a value that failed its integrity check (shown as "cannot be shown")."""

    status = 409

    def __init__(self, where: str = ""):
        super().__init__("This cannot be done: part of it failed an integrity check and has been reported. "
                         "Ask your system administrator.")
        self.where = where


class _Decrypting(DeferredAttribute):
    """Decrypts on first read; a data descriptor, so it sees every read and write."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        data = instance.__dict__
        attname = self.field.attname
        if attname not in data:
            super().__get__(instance, cls)  # a deferred column: load it
        value = data[attname]
        if isinstance(value, Ciphertext):
            try:
                plain = self.field.open(instance, value)
            except services.DataShredded:
                raise
            except services.CannotDecrypt as exc:
                # Damaged: shown as "cannot be shown", reported; the rest of the record still reads.
                plain = integrity.stand_in(self.field, integrity.report(instance, self.field, exc))
            instance.__dict__.setdefault("_mash_opened", {})[attname] = (value, self.field.fingerprint(plain))
            data[attname] = plain
            return plain
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class _Encrypted:
    descriptor_class = _Decrypting
    placeholder = Sealed("")

    def __init__(self, *args, person: str, **kwargs):
        self.person = person
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        # Migrations see the plain column it is (encryption is Python's business, not the schema's), so
        # making a column encrypted changes no table: SQLite would otherwise rebuild the table and lose
        # its triggers. Historical models in data migrations therefore read the raw ciphertext.
        name, path, args, kwargs = super().deconstruct()
        return name, f"django.db.models.{self._base().__name__}", args, kwargs

    def clone(self):
        _, _, args, kwargs = self.deconstruct()
        return self._base()(*args, **kwargs)

    def _base(self):
        return models.JSONField if isinstance(self, models.JSONField) else models.TextField

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        if not cls._meta.abstract:
            post_save.connect(_encrypt_new_row, sender=cls, dispatch_uid=f"mash-encrypt-{cls._meta.label}")

    # What the column holds <-> what the attribute holds.
    def person_id(self, instance) -> int:
        person_id = attrgetter(self.person)(instance)
        if person_id is None:
            raise EncryptedDataError(f"{instance._meta.label}.{self.name}: no person to encrypt for ({self.person})")
        return person_id

    def _where(self, instance) -> dict:
        return {"table": instance._meta.db_table, "column": self.column, "row": instance.pk,
                "person_id": self.person_id(instance)}

    def open(self, instance, token: str):
        return self.decode(services.decrypt(token, **self._where(instance)))

    def seal(self, instance, value) -> Sealed:
        if integrity.holds_unreadable(value):
            # A value that failed its integrity check is never written anywhere under a new ciphertext.
            raise DamagedData(f"{instance._meta.label}.{self.name}")
        return Sealed(services.encrypt(self.encode(value), **self._where(instance)))

    def is_empty(self, value) -> bool:
        return value is None or value == ""

    def pre_save(self, instance, add):
        value = instance.__dict__.get(self.attname)
        if isinstance(value, Ciphertext):
            return Sealed(value)  # never read, so unchanged
        if self.is_empty(value):
            return value
        opened = instance.__dict__.get("_mash_opened", {}).get(self.attname)
        if opened and opened[1] == self.fingerprint(value):
            return Sealed(opened[0])
        if instance.pk is None:
            instance.__dict__.setdefault("_mash_pending", set()).add(self.attname)
            return self.placeholder
        return self.seal(instance, value)

    def get_db_prep_save(self, value, connection):
        if not (self.is_empty(value) or isinstance(value, Sealed)):
            raise EncryptedDataError(f"{self.model._meta.label}.{self.name} is encrypted: set it on the object and "
                                     "save() it, not through update() or bulk_create()")
        return super().get_db_prep_save(value, connection)


def _as_read(field, value):
    """A non-empty value must be a ciphertext: plaintext put in the column round the application (by
    SQL, a restore of a doctored dump) is refused when read, not shown as if it were genuine."""
    if services.is_ciphertext(value):
        return Ciphertext(value)
    if field.is_empty(value):
        return value
    return Ciphertext("not-a-ciphertext")


class EncryptedTextField(_Encrypted, models.TextField):
    def from_db_value(self, value, expression, connection):
        return _as_read(self, value)

    def encode(self, value) -> str:
        return str(value)

    def decode(self, text: str):
        return text

    def fingerprint(self, value):
        return value


class EncryptedJSONField(_Encrypted, models.JSONField):
    def from_db_value(self, value, expression, connection):
        return _as_read(self, super().from_db_value(value, expression, connection))

    def is_empty(self, value) -> bool:
        return value is None or isinstance(value, Sealed)

    def encode(self, value) -> str:
        return json.dumps(value, cls=self.encoder)

    def decode(self, text: str):
        return json.loads(text, cls=self.decoder)

    def fingerprint(self, value):
        return json.dumps(value, cls=self.encoder, sort_keys=True)


def _encrypt_new_row(sender, instance, created, raw=False, **kwargs):
    pending = instance.__dict__.pop("_mash_pending", None)
    if not pending:
        return
    values = {}
    for attname in pending:
        field = instance._meta.get_field(attname)
        values[attname] = field.seal(instance, instance.__dict__[attname])
    sender._base_manager.filter(pk=instance.pk).update(**values)
    opened = instance.__dict__.setdefault("_mash_opened", {})
    for attname, token in values.items():
        field = instance._meta.get_field(attname)
        opened[attname] = (str(token), field.fingerprint(instance.__dict__[attname]))


def encrypted_fields(model) -> list:
    return [f for f in model._meta.concrete_fields if isinstance(f, _Encrypted)]
