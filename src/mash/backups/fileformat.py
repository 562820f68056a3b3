"""The backup file: its format, written and read (docs/backups.md).

A backup file is one line of JSON (the header), a newline, then the database's snapshot (SQLite's
database file, or PostgreSQL's `pg_dump --format=custom`) encrypted with AES-256-GCM in chunks:

    header  {"magic": "MASH-BACKUP", "version": 1, "engine": ..., "file_key": seal_file_key(...), ...}\\n
    chunk   4-byte big-endian length of the ciphertext | 12-byte nonce | ciphertext (with its tag)
    ...

Each backup has its own random 32-byte file key, wrapped by the current master key
(`mash.keys.services.seal_file_key`). Each chunk's associated data binds the SHA-256 of the header
line, the chunk's index and whether it is the last, so a header, chunk or ending that was altered,
reordered, dropped, cut short or added to fails to decrypt, and restore writes nothing. A file is
written as `PATH.partial`, locked while written, then renamed; one left by a killed backup is removed
by the next (`remove_stale_partials`).
"""

import contextlib
import fcntl
import hashlib
import json
import os
import struct
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mash.core.faults import fault_point
from mash.core.files import fsync_dir
from mash.keys import keyring
from mash.keys import services as keys

MAGIC = "MASH-BACKUP"
VERSION = 1
PURPOSE = "backup"
CHUNK = 1024 * 1024
NONCE = 12
TAG = 16
MAX_HEADER = 64 * 1024
SQLITE = "sqlite"
POSTGRESQL = "postgresql"
PARTIAL = ".partial"


class BackupError(Exception):
    """A backup could not be made or restored; the message says why and what to do."""


# The file format ------------------------------------------------------------------------------

def _chunk_aad(header_digest: bytes, index: int, final: bool) -> bytes:
    return b"MASH-BACKUP|v1|" + header_digest + struct.pack(">QB", index, 1 if final else 0)


def open_private(path: Path):
    """A new file readable by its owner only (an existing one is emptied and made so)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")


def read_full(stream, size: int) -> bytes:
    """Up to `size` bytes, fewer only at the end (a pipe returns what it has)."""
    parts, wanted = [], size
    while wanted:
        part = stream.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def _is_backup_header(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            line = fh.readline(MAX_HEADER + 1)
        return json.loads(line).get("magic") == MAGIC
    except (OSError, ValueError, AttributeError):
        return False


def remove_stale_partials(folder: Path) -> list[str]:
    """`*.partial` backups in `folder` that no running backup holds (it keeps a lock on its own)."""
    removed = []
    for partial in sorted(folder.glob("*" + PARTIAL)):
        try:
            fd = os.open(partial, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # a backup is writing it
        try:
            # Still the file we locked (not one a new backup has just made under the same name).
            if os.fstat(fd).st_ino == partial.stat().st_ino and _is_backup_header(partial):
                partial.unlink()
                removed.append(str(partial))
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)
    return removed


def encrypt_stream(read, dest: Path, fields: dict) -> dict:
    """Encrypt what `read(n)` returns, until it returns b"", into `dest` (written as dest.partial,
    locked while written, then renamed). Returns the header."""
    file_key = AESGCM.generate_key(256)
    header = {"magic": MAGIC, "version": VERSION, **fields, "cipher": "AES-256-GCM", "chunk_size": CHUNK,
              "file_key": keys.seal_file_key(file_key, PURPOSE)}
    line = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(line).digest()
    aes = AESGCM(file_key)
    partial = dest.with_name(dest.name + PARTIAL)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise BackupError(f"another backup is being written to {dest}") from None
    try:
        os.ftruncate(fd, 0)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb", closefd=False) as out:
            out.write(line + b"\n")
            index = 0
            chunk = read(CHUNK)
            while True:
                following = read(CHUNK)
                final = not following
                nonce = os.urandom(NONCE)
                sealed = aes.encrypt(nonce, chunk, _chunk_aad(digest, index, final))
                out.write(struct.pack(">I", len(sealed)) + nonce + sealed)
                if index == 0:
                    out.flush()
                    fault_point("backup.after_first_chunk")
                if final:
                    break
                chunk, index = following, index + 1
            out.flush()
            os.fsync(out.fileno())
        fault_point("backup.before_rename")
        os.replace(partial, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    finally:
        os.close(fd)
    fsync_dir(dest.parent)
    return header


def encrypt_file(source: Path, dest: Path, fields: dict) -> dict:
    """Encrypt the file `source` into `dest` (see encrypt_stream). Returns the header."""
    with open(source, "rb") as src:
        return encrypt_stream(lambda n: read_full(src, n), dest, fields)


def read_header(path: Path) -> tuple[dict, bytes]:
    """The header of a MASH backup, and its line as written; BackupError if it is not one."""
    try:
        with open(path, "rb") as fh:
            line = fh.readline(MAX_HEADER + 1)
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a directory, not a MASH backup") from None
    if not line.endswith(b"\n"):
        raise BackupError(f"{path} is not a MASH backup (it does not start with a MASH-BACKUP header)")
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("magic") != MAGIC:
        raise BackupError(f"{path} is not a MASH backup (it does not start with a MASH-BACKUP header)")
    version = header.get("version")
    if version != VERSION:
        raise BackupError(f"{path} is a MASH backup in format {version!r}, which this version of MASH Hub "
                          f"cannot read (it reads format {VERSION})")
    if header.get("engine") not in (SQLITE, POSTGRESQL) or not isinstance(header.get("file_key"), dict):
        raise BackupError(f"{path}: the backup's header is damaged")
    return header, line.rstrip(b"\n")


def decrypt_chunks(path: Path):
    """The backup's payload, chunk by chunk, each verified before it is yielded; BackupError (altered,
    truncated, wrong keyring) as soon as one does not verify, or if the last chunk is missing. A
    consumer must not act on what it was given until the generator is exhausted."""
    header, line = read_header(path)
    digest = hashlib.sha256(line).digest()
    try:
        file_key = keys.open_file_key(header["file_key"], PURPOSE)
    except keyring.KeyringError as exc:
        raise BackupError(f"cannot open {path}: {exc}. Restoring needs the keyring that holds the master key "
                          "the backup was made under (MASH_KEY_FILE or MASH_MASTER_KEYS)") from None
    except (keys.CannotDecrypt, KeyError, TypeError, ValueError):
        raise BackupError(f"cannot open {path}: its file key does not open with master key "
                          f"{header['file_key'].get('master_key_id')!r}: the backup was altered") from None
    aes = AESGCM(file_key)
    index = 0
    with open(path, "rb") as fh:
        fh.seek(len(line) + 1)
        while True:
            length = fh.read(4)
            if len(length) < 4:
                raise BackupError(f"{path} is truncated: it ends after {index} chunks, before its last chunk")
            size = struct.unpack(">I", length)[0]
            if not TAG <= size <= CHUNK + TAG:
                raise BackupError(f"{path} was altered: chunk {index} has an impossible length ({size} bytes)")
            nonce = fh.read(NONCE)
            sealed = fh.read(size)
            if len(nonce) < NONCE or len(sealed) < size:
                raise BackupError(f"{path} is truncated: chunk {index} is cut short")
            final = not fh.peek(1)
            try:
                plain = aes.decrypt(nonce, sealed, _chunk_aad(digest, index, final))
            except InvalidTag:
                raise BackupError(_why_not(aes, path, nonce, sealed, digest, index, final)) from None
            yield plain
            if final:
                return
            index += 1


def verify(path: Path) -> dict:
    """Decrypt the whole backup, keeping nothing: every chunk and its ending checked. Returns the header."""
    for _ in decrypt_chunks(path):
        pass
    return read_header(path)[0]


def decrypt_file(path: Path, dest: Path) -> dict:
    """Decrypt the backup at `path` into the file `dest`, for tests and tools (`mash restore` never
    writes the payload to a file). Raises BackupError; `dest` may then hold part of the payload."""
    with open_private(dest) as out:
        for plain in decrypt_chunks(path):
            out.write(plain)
        out.flush()
        os.fsync(out.fileno())
    return read_header(path)[0]


def _why_not(aes: AESGCM, path, nonce, sealed, digest, index, final) -> str:
    """Why a chunk did not decrypt: try it with the other ending flag to tell a cut from a change."""
    try:
        aes.decrypt(nonce, sealed, _chunk_aad(digest, index, not final))
    except InvalidTag:
        return (f"{path} was altered: chunk {index} does not decrypt (the file or its header was changed, "
                "or chunks were reordered)")
    if final:
        return f"{path} is truncated: it ends after chunk {index}, which is not its last chunk"
    return f"{path} was altered: there is data after its last chunk ({index})"
