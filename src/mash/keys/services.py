"""Envelope encryption: a data key per person, wrapped by the master key (docs/encryption.md).

Values are AES-256-GCM ciphertexts written as text, `enc1:` then base64 of nonce and ciphertext.
The associated data names the table, column, row and person, so a ciphertext copied into another
row, column or person's record fails to decrypt instead of being shown in the wrong place.

Unwrapped data keys are kept for one request (or one `key_cache()` block) and then forgotten.
"""

import base64
import contextlib
import contextvars
import os
import secrets
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import IntegrityError, transaction
from django.utils import timezone

from mash.core.faults import fault_point

from . import checks, keyring
from .wrapping import NONCE, CannotDecrypt, DataShredded, _unwrap, _wrap_aad  # noqa: F401 (the errors, for callers)
from .models import PersonKey

PREFIX = "enc1:"
# Per-request cache of unwrapped keys ----------------------------------------------------------

_cache: contextvars.ContextVar[dict | None] = contextvars.ContextVar("mash_keys", default=None)


@contextlib.contextmanager
def key_cache():
    """Keep unwrapped data keys for the length of the block (a request, a command), then drop them."""
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def key_cache_middleware(get_response):
    def middleware(request):
        with key_cache():
            return get_response(request)

    return middleware


def forget_cached_keys() -> None:
    cache = _cache.get()
    if cache is not None:
        cache.clear()


# Wrapping -------------------------------------------------------------------------------------

def _wrap(data_key: bytes, master: bytes, key_id, person_id: int) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(master).encrypt(nonce, data_key, _wrap_aad(key_id, person_id))


def _data_key(person_id: int, *, create: bool) -> AESGCM:
    cache = _cache.get()
    if cache is not None and person_id in cache:
        return cache[person_id]
    row = PersonKey.objects.filter(person_id=person_id).first()
    if row is None:
        if not create:
            raise CannotDecrypt(f"person {person_id} has no data key")
        row = _create_key(person_id)
    if row.is_shredded or str(row.key_id) in keyring.shredded():
        raise DataShredded(f"the data of person {person_id} was destroyed (key {row.key_id})")
    key = AESGCM(_unwrap(row, keyring.load()))
    if cache is not None:
        cache[person_id] = key
    return key


def _create_key(person_id: int) -> PersonKey:
    ring = keyring.load()
    # Never wrap a new key under a keyring that cannot open what the database already holds (a fork).
    checks.require()
    key_id = uuid.uuid4()
    row = PersonKey(person_id=person_id, key_id=key_id, master_key_id=ring.current,
                    wrapped=_wrap(AESGCM.generate_key(256), ring.key(ring.current), key_id, person_id))
    try:
        with transaction.atomic():
            row.save()
        return row
    except IntegrityError:  # made by someone else meanwhile
        return PersonKey.objects.get(person_id=person_id)


# Values ---------------------------------------------------------------------------------------

def _aad(table: str, column: str, row: int, person_id: int) -> bytes:
    return f"mash|v1|{table}|{column}|{row}|{person_id}".encode()


def is_ciphertext(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def encrypt(plaintext: str, *, table: str, column: str, row: int, person_id: int) -> str:
    nonce = os.urandom(NONCE)
    sealed = _data_key(person_id, create=True).encrypt(nonce, plaintext.encode(), _aad(table, column, row, person_id))
    return PREFIX + base64.b64encode(nonce + sealed).decode()


def decrypt(token: str, *, table: str, column: str, row: int, person_id: int) -> str:
    if not is_ciphertext(token):
        raise CannotDecrypt(f"{table}.{column} of row {row} is not a ciphertext")
    try:
        raw = base64.b64decode(token[len(PREFIX):], validate=True)
    except ValueError:
        raise CannotDecrypt(f"{table}.{column} of row {row} is damaged") from None
    try:
        plain = _data_key(person_id, create=False).decrypt(raw[:NONCE], raw[NONCE:],
                                                           _aad(table, column, row, person_id))
    except InvalidTag:
        raise CannotDecrypt(f"{table}.{column} of row {row} does not decrypt: it was altered, or copied "
                            "from another row, column or person") from None
    return plain.decode()


# Keeping keys ---------------------------------------------------------------------------------

def shred(person_ids) -> list[PersonKey]:
    """Destroy these people's data keys. The register is written (and synced) first, so a key is never
    gone from the database yet missing from the register that keeps it gone after a restore."""
    person_ids = sorted(set(person_ids))
    with transaction.atomic():
        rows = list(PersonKey.objects.select_for_update().filter(person_id__in=person_ids, shredded_at__isnull=True))
        keyring.add_to_register([str(r.key_id) for r in rows])
        now = timezone.now()
        PersonKey.objects.filter(pk__in=[r.pk for r in rows]).update(wrapped=b"", shredded_at=now)
    forget_cached_keys()
    for r in rows:
        r.wrapped, r.shredded_at = b"", now
    return rows


def apply_register() -> int:
    """Destroy again any key the register says was destroyed (after restoring an earlier backup)."""
    ids = keyring.shredded()
    if not ids:
        return 0
    with transaction.atomic():
        return (PersonKey.objects.filter(key_id__in=[uuid.UUID(i) for i in ids], shredded_at__isnull=True)
                .update(wrapped=b"", shredded_at=timezone.now()))


def rotate(batch: int = 500) -> dict:
    """Make a new master key current and re-wrap every data key with it. The data stays as it is."""
    ring = keyring.load()
    checks.require()
    if ring.path is None:
        raise keyring.KeyringError(
            "the keyring comes from MASH_MASTER_KEYS, which this command cannot change: add a new key to "
            "it yourself, or point MASH_KEY_FILE at a keyring file and rotate that")
    new_id = keyring.new_key_id()
    while new_id in ring.keys:
        new_id = keyring.new_key_id()
    keys = dict(ring.keys)
    keys[new_id] = secrets.token_bytes(keyring.KEY_BYTES)
    # The file first: if re-wrapping stops half way, both keys are there and every data key still opens.
    keyring.write(ring.path, new_id, keys)
    fault_point("keys.rotate.after_keyring")
    ring = keyring.load()
    master = ring.key(new_id)
    done = 0
    last = 0
    while True:
        with transaction.atomic():
            rows = list(PersonKey.objects.select_for_update().filter(pk__gt=last, shredded_at__isnull=True)
                        .exclude(master_key_id=new_id).order_by("pk")[:batch])
            if not rows:
                break
            now = timezone.now()
            for row in rows:
                row.wrapped = _wrap(_unwrap(row, ring), master, row.key_id, row.person_id)
                row.master_key_id, row.rewrapped_at = new_id, now
            PersonKey.objects.bulk_update(rows, ["wrapped", "master_key_id", "rewrapped_at"])
            fault_point("keys.rotate.in_batch")  # before the batch commits
            done += len(rows)
            last = rows[-1].pk
        fault_point("keys.rotate.after_batch")  # a batch committed, others still to do
    forget_cached_keys()
    return {"current": new_id, "rewrapped": done, "previous": sorted(k for k in keys if k != new_id)}


def retire(key_id: str) -> None:
    """Remove a master key no data key needs. Backups made while it was current can no longer be read."""
    ring = keyring.load()
    if ring.path is None:
        raise keyring.KeyringError("the keyring comes from MASH_MASTER_KEYS; remove the key there")
    if key_id not in ring.keys:
        raise keyring.KeyringError(f"there is no master key {key_id!r}")
    if key_id == ring.current:
        raise keyring.KeyringError(f"{key_id} is the current master key; rotate first")
    in_use = PersonKey.objects.filter(master_key_id=key_id, shredded_at__isnull=True).count()
    if in_use:
        raise keyring.KeyringError(f"{in_use} data keys are still wrapped with {key_id}; run `mash keys rotate`")
    keys = {k: v for k, v in ring.keys.items() if k != key_id}
    keyring.write(ring.path, ring.current, keys)


def status() -> dict:
    from django.db.models import Count

    ring = keyring.load()
    by_master = dict(PersonKey.objects.filter(shredded_at__isnull=True).values_list("master_key_id")
                     .annotate(n=Count("id")).values_list("master_key_id", "n"))
    return {"current": ring.current, "source": str(ring.path) if ring.path else "MASH_MASTER_KEYS",
            "master_keys": {k: by_master.get(k, 0) for k in ring.keys},
            "missing": sorted(set(by_master) - set(ring.keys)),
            "shredded": PersonKey.objects.filter(shredded_at__isnull=False).count(),
            "register": len(keyring.shredded())}


# Backups and attachments: whole files under a file key wrapped by the master key --------------

def seal_file_key(file_key: bytes, purpose: str) -> dict:
    # No database check here: `mash backup` is checked by mash.cli, and an attachment's name is encrypted
    # under its child's data key first, which does not open under a keyring that does not match.
    ring = keyring.load()
    nonce = os.urandom(NONCE)
    wrapped = AESGCM(ring.key(ring.current)).encrypt(nonce, file_key, f"mash-file-key|v1|{purpose}".encode())
    return {"master_key_id": ring.current, "wrapped_key": base64.b64encode(nonce + wrapped).decode()}


def open_file_key(header: dict, purpose: str) -> bytes:
    ring = keyring.load()
    raw = base64.b64decode(header["wrapped_key"])
    try:
        return AESGCM(ring.key(header["master_key_id"])).decrypt(raw[:NONCE], raw[NONCE:],
                                                                 f"mash-file-key|v1|{purpose}".encode())
    except InvalidTag:
        raise CannotDecrypt("the file's key does not open with the master key: the file was altered") from None
