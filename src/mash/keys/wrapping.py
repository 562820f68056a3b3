"""Data keys wrapped under a master key: the format, and opening one. Below both the services that
encrypt and the start-up checks that prove the keyring opens the database's data keys."""

import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE = 12


class CannotDecrypt(Exception):
    """A ciphertext did not open: it was altered, or moved from another row, column or person."""


class DataShredded(CannotDecrypt):
    """The person's data key was destroyed: what was encrypted under it is gone for good."""


def _wrap_aad(key_id: uuid.UUID | str, person_id: int) -> bytes:
    return f"mash-data-key|v1|{key_id}|{person_id}".encode()


def _unwrap(row, ring) -> bytes:
    wrapped = bytes(row.wrapped)
    try:
        return AESGCM(ring.key(row.master_key_id)).decrypt(wrapped[:NONCE], wrapped[NONCE:],
                                                            _wrap_aad(row.key_id, row.person_id))
    except InvalidTag:
        raise CannotDecrypt(f"the data key of person {row.person_id} does not open with master key "
                            f"{row.master_key_id}: it was altered") from None
