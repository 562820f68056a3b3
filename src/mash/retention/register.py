"""The disposal register: what retention disposed of, kept outside the database (docs/retention.md).

Like the shred register (`mash.keys.keyring`), it lives beside the master keyring, so that restoring
a backup made before a retention run cannot bring a disposed child back: `mash restore` disposes
again, in the restored database and before it reports success, of everything the register lists
(`mash.retention.services.reapply`). Decision 0005.

One JSON line per disposed enquiry, ids only, never anything about a person:

    {"v": 1, "at": "2027-11-25T02:00:03Z", "enquiry": 41, "action": "delete",
     "people": {"97": "delete", "98": "anonymise"}}

`people` are the people the disposal let go of (their data keys destroyed), each with what was done
to their record. The line is appended and synced to the disk inside the disposal's transaction,
before it commits (the ordering argued in decision 0003 for the shred register): the database never
shows a disposal the register lacks. A disposal whose transaction then fails leaves a line for an
enquiry that was due anyway; the next run disposes of it.

MASH_DISPOSAL_REGISTER names the file; by default it is `disposals` beside the shred register.
"""

import datetime as dt
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from mash.core.files import fsync_dir
from mash.keys import keyring

VERSION = 1
ACTIONS = ("delete", "anonymise")


class RegisterError(Exception):
    """The disposal register cannot be read: the message names the file and the line."""


@dataclass(frozen=True)
class Entry:
    enquiry_id: int
    action: str
    people: dict[int, str]  # person id -> "delete" or "anonymise"
    at: str = ""

    def line(self) -> str:
        return json.dumps({"v": VERSION, "at": self.at, "enquiry": self.enquiry_id, "action": self.action,
                           "people": {str(p): fate for p, fate in sorted(self.people.items())}},
                          sort_keys=True, separators=(",", ":"))


def path() -> Path:
    configured = settings.MASH_DISPOSAL_REGISTER
    return Path(configured) if configured else keyring.register_path().with_name("disposals")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def append(enquiry_id: int, action: str, people: dict[int, str]) -> Entry:
    """Add one disposal, and make sure it reached the disk before returning (call it inside the
    disposal's transaction, before the commit)."""
    if action not in ACTIONS or any(fate not in ACTIONS for fate in people.values()):
        raise ValueError(f"unknown disposal action in {action!r} {people!r}")
    entry = Entry(int(enquiry_id), action, {int(p): f for p, f in people.items()}, _now())
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    created = not target.exists()
    fd = os.open(target, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _cut_torn_tail(fd)
        data = (entry.line() + "\n").encode()
        while data:
            data = data[os.write(fd, data):]
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the lock
    if created:
        fsync_dir(target.parent)
    return entry


def _cut_torn_tail(fd: int) -> None:
    """A last line without its newline was being written when its process died, before its
    transaction could commit: that disposal did not happen, so the partial line goes."""
    size = os.fstat(fd).st_size
    if not size or os.pread(fd, 1, size - 1) == b"\n":
        return
    at = size
    while at > 0:
        start = max(0, at - 4096)
        block = os.pread(fd, at - start, start)
        cut = block.rfind(b"\n")
        if cut >= 0:
            os.ftruncate(fd, start + cut + 1)
            return
        at = start
    os.ftruncate(fd, 0)




def entries() -> list[Entry]:
    """Every disposal in the register, oldest first. A torn last line (no newline) is left out;
    any other line that is not an entry raises RegisterError."""
    target = path()
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        return []
    lines = raw.split(b"\n")
    if lines and lines[-1]:
        lines = lines[:-1]  # torn: its transaction never committed
    found = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if data.get("v") != VERSION:
                raise ValueError("unknown version")
            entry = Entry(int(data["enquiry"]), data["action"],
                          {int(p): fate for p, fate in data["people"].items()}, str(data.get("at", "")))
            if entry.action not in ACTIONS or any(fate not in ACTIONS for fate in entry.people.values()):
                raise ValueError("unknown action")
        except (ValueError, KeyError, TypeError, AttributeError):
            raise RegisterError(f"the disposal register {target} has a line that is not a disposal (line {number}); "
                                "mend it before restoring") from None
        found.append(entry)
    return found
