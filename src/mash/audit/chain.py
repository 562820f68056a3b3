"""The audit log's cryptography, free of Django: canonical encoding, hash chain, Merkle tree, signatures.

- Each event has one canonical encoding (`canonical`): JSON with sorted keys, no spaces, UTF-8, times
  in UTC to the microsecond with a `Z`. It depends on no setting (time zone, language, database), so
  the same row always hashes the same. PostgreSQL seals with the `compact` encoding instead (cheaper
  for the database to rebuild); each is one-to-one and they never coincide, so a leaf of either
  identifies the row.
- A *leaf* is SHA-256(0x00 || encoding) and an inner node SHA-256(0x01 || left || right), as in
  Certificate Transparency (RFC 6962 section 2.1); the *root* of the first n leaves is that RFC's
  Merkle Tree Hash. `Frontier` keeps the roots of the perfect subtrees so far (one per bit of n), so
  the root of any prefix is computed in one pass, without keeping the leaves.
- The *chain* links every sealed event to the one before it: chain(p) = SHA-256("mash-audit-chain" ||
  chain(p-1) || p || leaf(p)), chain(0) = 32 zero bytes. Changing, removing, adding or reordering a
  sealed event changes every chain value after it.
- A *checkpoint* is an Ed25519 signature over (count, Merkle root, chain head, time), kept in the
  database and exported to a file outside it, so a log cut short after a checkpoint is caught.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = bytes(32)
CHECKPOINT_CONTEXT = b"mash-audit-checkpoint/v1\n"


def utc_text(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    if moment.utcoffset():
        moment = moment.astimezone(dt.timezone.utc)
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
            f"{moment.second:02d}.{moment.microsecond:06d}Z")


_PLAIN = (str, int, type(None))
_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def canonical(values: dict) -> bytes:
    """One event's bytes. Values are str, int, bool, None, lists of those, or aware datetimes."""

    def plain(value):
        if isinstance(value, dt.datetime):
            return utc_text(value)
        if isinstance(value, float):
            raise TypeError("floats have no single encoding: store them as text")
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    out = {}
    for k, v in values.items():  # the common types pass as they are; the rest as plain() says
        out[k] = v if type(v) in _PLAIN or (type(v) is list and all(type(x) in _PLAIN for x in v)) else plain(v)
    return _encode(out).encode("utf-8")


COMPACT_PREFIX = "mash-audit-event/v2"
SEPARATOR = "\x1f"  # the unit separator: no value written into a compact encoding holds it
_EPOCH_2000 = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
_MICROSECOND = dt.timedelta(microseconds=1)


def compact(values: dict, nullable: Iterable[str] = ()) -> bytes | None:
    """The compact encoding of one event (leaves sealed on PostgreSQL), or None where it has none.

    `COMPACT_PREFIX`, then each value in the order of the sorted keys, joined by `SEPARATOR`: text as it is;
    integers in decimal; None as nothing (only for the keys in `nullable`); times as the 16 hex digits of
    the microseconds since 2000-01-01T00:00:00Z (a signed 64-bit big-endian integer: the bytes PostgreSQL's
    `timestamptz_send` gives); lists as JSON with ", " between items and non-ASCII kept (what PostgreSQL
    prints for a jsonb array, which escapes every control character, so a list never holds the separator).

    It is one-to-one where it is given: every text is free of the separator (None is returned otherwise,
    and the event is sealed with `canonical`), so the separators fall only between values, and the prefix
    keeps it apart from any `canonical` encoding (which begins with "{"). The database builds it in SQL
    far more cheaply than the JSON (`rows.compact_sql`); `verify` accepts a leaf of either encoding, and
    each identifies the row's values."""
    parts = [COMPACT_PREFIX]
    for key in sorted(values):
        value = values[key]
        if value is None:
            if key not in nullable:
                return None
            parts.append("")
        elif isinstance(value, str):
            if SEPARATOR in value:
                return None
            parts.append(value)
        elif isinstance(value, bool) or isinstance(value, float):
            raise TypeError(f"{key}: no compact encoding for {type(value).__name__}")
        elif isinstance(value, int):
            parts.append(str(value))
        elif isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise ValueError("audit times must be timezone-aware")
            parts.append(format(((value - _EPOCH_2000) // _MICROSECOND) & 0xFFFF_FFFF_FFFF_FFFF, "016x"))
        elif isinstance(value, (list, tuple)):
            if any(isinstance(v, (bool, float)) or not isinstance(v, (int, str)) for v in value):
                raise TypeError(f"{key}: lists of text or integers only")
            parts.append(json.dumps(list(value), ensure_ascii=False))
        else:
            raise TypeError(f"{key}: no compact encoding for {type(value).__name__}")
    return SEPARATOR.join(parts).encode("utf-8")


def leaf_hash(encoding: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + encoding).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def chain_hash(previous: bytes, position: int, leaf: bytes) -> bytes:
    return hashlib.sha256(b"mash-audit-chain" + previous + position.to_bytes(8, "big") + leaf).digest()


@dataclass
class Frontier:
    """The roots of the perfect subtrees covering the first `size` leaves, largest first."""

    size: int = 0
    roots: list[tuple[int, bytes]] = field(default_factory=list)  # (height, root)

    def add(self, leaf: bytes) -> None:
        height, node = 0, leaf
        while self.roots and self.roots[-1][0] == height:
            _, left = self.roots.pop()
            node, height = node_hash(left, node), height + 1
        self.roots.append((height, node))
        self.size += 1

    def root(self) -> bytes:
        """RFC 6962's Merkle Tree Hash of the leaves so far (SHA-256 of nothing for none)."""
        if not self.roots:
            return hashlib.sha256(b"").digest()
        node = self.roots[-1][1]
        for _, left in reversed(self.roots[:-1]):
            node = node_hash(left, node)
        return node

    def to_json(self) -> dict:
        return {"size": self.size, "roots": [[h, r.hex()] for h, r in self.roots]}

    @classmethod
    def from_json(cls, data: dict | None) -> "Frontier":
        if not data:
            return cls()
        return cls(size=int(data["size"]), roots=[(int(h), bytes.fromhex(r)) for h, r in data["roots"]])


def merkle_root(leaves: list[bytes]) -> bytes:
    """The root computed from the definition (RFC 6962 2.1), to test `Frontier` against."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


# --- Checkpoint signatures --------------------------------------------------------------------

def checkpoint_message(count: int, root: bytes, head: bytes, at: dt.datetime) -> bytes:
    return CHECKPOINT_CONTEXT + f"{count}\n{root.hex()}\n{head.hex()}\n{utc_text(at)}\n".encode()


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_text(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def public_from_text(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip()))


def new_private_key_text() -> str:
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return base64.b64encode(raw).decode()


def private_from_text(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text.strip()))


def sign(private: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(private.sign(message)).decode()


def signature_valid(public: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature), message)
        return True
    except (InvalidSignature, ValueError):
        return False
