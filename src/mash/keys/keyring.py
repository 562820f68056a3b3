"""The master keyring and the shred register, both kept outside the database.

The keyring comes from MASH_MASTER_KEYS (its JSON text, for a secrets manager) or else the file
MASH_KEY_FILE (var/master-keys.json by default, mode 0600). It is made only by an explicit step
(`mash keys init`, the first `mash migrate` of an empty database, `make run` on a fresh clone), never
by a request: a new keyring beside data keys wrapped by another would fork the data (mash.keys.checks):

    {"current": "mk-20261125-1a2b", "keys": {"mk-20261125-1a2b": "<32 bytes, base64>", ...}}

`current` wraps new data keys; the others stay only to open data keys and backups wrapped before a
rotation (`mash keys rotate`, then `mash keys retire ID`).

The shred register (MASH_SHRED_REGISTER, beside the key file by default) lists the id of every
destroyed data key, one per line. It lives outside the database so that restoring an earlier
backup cannot bring a destroyed key back: `mash restore` destroys them again, and no key in the
register is ever unwrapped (docs/decisions/0003-crypto-shredding-and-backups.md).
"""

import base64
import datetime as dt
import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from mash.core.files import fsync_dir

log = logging.getLogger(__name__)

KEY_BYTES = 32


class KeyringError(ImproperlyConfigured):
    """The keyring is missing, unreadable, or lacks a key something was wrapped with."""


class KeyringMissing(KeyringError):
    """No keyring is configured: no MASH_MASTER_KEYS and no file at MASH_KEY_FILE."""




@dataclass(frozen=True)
class Keyring:
    current: str
    keys: dict[str, bytes]
    path: Path | None  # None when it came from the environment (it cannot be rewritten here)

    def key(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise KeyringError(f"master key {key_id!r} is not in the keyring; it was retired or the wrong "
                               "keyring is configured") from None


def new_key_id(today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return f"mk-{today:%Y%m%d}-{secrets.token_hex(3)}"


def _parse(text: str, source: str) -> tuple[str, dict[str, bytes]]:
    try:
        data = json.loads(text)
        keys = {k: base64.b64decode(v, validate=True) for k, v in data["keys"].items()}
        current = data["current"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyringError(f"{source} is not a MASH keyring ({exc})") from None
    if current not in keys:
        raise KeyringError(f"{source}: the current key {current!r} is not among its keys")
    bad = [k for k, v in keys.items() if len(v) != KEY_BYTES]
    if bad:
        raise KeyringError(f"{source}: keys {', '.join(bad)} are not {KEY_BYTES} bytes")
    return current, keys


def _key_file() -> Path:
    return Path(settings.MASH_KEY_FILE)


_lock = threading.RLock()
_loaded: dict[tuple, Keyring] = {}


def load() -> Keyring:
    """The keyring, read once per process (and again if its file changes)."""
    env = os.environ.get("MASH_MASTER_KEYS")
    if env:
        cache_key = ("env", env)
    else:
        path = _key_file()
        try:
            stat = path.stat()
            cache_key = (str(path), stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            cache_key = None
    with _lock:
        if cache_key in _loaded:
            return _loaded[cache_key]
        if env:
            current, keys = _parse(env, "MASH_MASTER_KEYS")
            ring = Keyring(current, keys, None)
        else:
            path = _key_file()
            if cache_key is None:
                raise KeyringMissing(f"there is no master keyring ({where_it_looks()}); "
                                     "`mash keys init` makes one for a new installation")
            current, keys = _parse(path.read_text(), str(path))
            ring = Keyring(current, keys, path)
        _loaded.clear()
        _loaded[cache_key] = ring
        return ring


def where_it_looks() -> str:
    """Where the keyring is looked for, in words for an error message."""
    if os.environ.get("MASH_MASTER_KEYS"):
        return "read from the environment variable MASH_MASTER_KEYS"
    return f"looked for the file {_key_file()}, named by MASH_KEY_FILE; MASH_MASTER_KEYS is not set"


def exists() -> bool:
    return bool(os.environ.get("MASH_MASTER_KEYS")) or _key_file().exists()


def create() -> Keyring:
    """Make a new keyring file (MASH_KEY_FILE) with one master key. Refuses to replace one that exists. Only
    the explicit steps call this (`mash keys init`, the first migrate of an empty database): mash.keys.checks."""
    path = _key_file()
    key_id = new_key_id()
    _write(path, key_id, {key_id: secrets.token_bytes(KEY_BYTES)}, exclusive=True)
    log.warning("keys: made a new master keyring at %s; keep a copy of it apart from the database's "
                "backups (without it nothing encrypted can be read)", path)
    return load()


def write(path: Path, current: str, keys: dict[str, bytes]) -> None:
    """Replace the keyring file in one step (write a new file, then rename), readable by its owner only."""
    _write(path, current, keys, exclusive=False)


def _write(path: Path, current: str, keys: dict[str, bytes], *, exclusive: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"current": current, "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()}},
                      indent=2)
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    if exclusive:
        try:
            os.link(tmp, path)  # fails if a keyring appeared meanwhile: never replace one
        except FileExistsError:
            raise KeyringError(f"there is already a master keyring at {path}; it was not replaced") from None
        finally:
            tmp.unlink()
        fsync_dir(path.parent)
    else:
        os.replace(tmp, path)
        fsync_dir(path.parent)
    with _lock:
        _loaded.clear()


# The shred register ---------------------------------------------------------------------------

def register_path() -> Path:
    configured = settings.MASH_SHRED_REGISTER
    return Path(configured) if configured else _key_file().with_name("shredded-keys")


def shredded() -> frozenset[str]:
    """Ids of every destroyed data key."""
    path = register_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return frozenset()
    cache_key = ("register", str(path), stat.st_mtime_ns, stat.st_size)
    with _lock:
        cached = _register_cache.get(cache_key)
        if cached is not None:
            return cached
        ids = frozenset(line.strip() for line in _whole_lines(path.read_text()) if line.strip())
        _register_cache.clear()
        _register_cache[cache_key] = ids
        return ids


_register_cache: dict[tuple, frozenset[str]] = {}


def add_to_register(key_ids: list[str]) -> None:
    """Append destroyed keys' ids, and make sure they reached the disk before the keys go."""
    if not key_ids:
        return
    path = register_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as fh:
        _lock_and_cut_torn_tail(fd)
        fh.write("".join(f"{k}\n" for k in key_ids))
        fh.flush()
        os.fsync(fh.fileno())


# A register line cut short (decision 0005) --------------------------------------------------------

def _whole_lines(text: str) -> list[str]:
    """The register's lines without an unterminated last one: that was being written when its process
    died, before the transaction destroying the key could commit, so the key was not destroyed."""
    lines = text.split("\n")
    return lines[:-1]


def _lock_and_cut_torn_tail(fd: int) -> None:
    """Hold the register's lock until `fd` is closed, and cut an unterminated last line, so that the
    next id is a line of its own instead of being glued to the torn one (and lost)."""
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX)
    size = os.fstat(fd).st_size
    if not size or os.pread(fd, 1, size - 1) == b"\n":
        return
    data = os.pread(fd, size, 0)
    os.ftruncate(fd, data.rfind(b"\n") + 1)
