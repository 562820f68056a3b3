"""Checkpoints of the audit log: the Merkle root and chain head of the first n events, signed with
the Ed25519 key kept outside the database, and copied to a file outside it (docs/audit.md)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from mash.core.faults import fault_point

from . import chain
from .models import Checkpoint, Seal


def checkpoint_if_due(count: int, head: bytes, now: dt.datetime, force: bool = False) -> Checkpoint | None:
    last = Checkpoint.objects.order_by("-count").first()
    done = last.count if last else 0
    if count <= done:
        return None
    every = settings.MASH_AUDIT_CHECKPOINT_EVERY
    minutes = settings.MASH_AUDIT_CHECKPOINT_MINUTES
    since = last.at if last else Seal.objects.filter(position=1).values_list("sealed_at", flat=True).first()
    due = force or count - done >= every or (since is not None and now - since >= dt.timedelta(minutes=minutes))
    if not due:
        return None
    frontier = chain.Frontier.from_json(last.frontier if last else None)
    with connection.cursor() as cur:
        cur.execute("SELECT leaf FROM audit_seal WHERE position > %s AND position <= %s ORDER BY position",
                    [done, count])
        for (leaf,) in cur.fetchall():
            frontier.add(bytes.fromhex(leaf))
    key = signing_key()
    root = frontier.root()
    checkpoint = Checkpoint.objects.create(
        count=count, root=root.hex(), chain_head=head.hex(), at=now, key_id=chain.key_id(key.public_key()),
        signature=chain.sign(key, chain.checkpoint_message(count, root, head, now)), frontier=frontier.to_json())
    fault_point("audit.checkpoint.after_insert")
    outside = settings.MASH_AUDIT_CHECKPOINT_FILE
    if outside:
        transaction.on_commit(lambda: _append_outside(Path(outside)))
    return checkpoint



def _last_count_in_file(path: Path) -> int:
    """The count of the last checkpoint in the file (0 if none), reading only its tail."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 8192))
            lines = f.read().decode("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return 0
    for line in reversed(lines):
        try:
            data = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash, or the first line of the tail
        if "count" in data:
            return int(data["count"])
    return 0


def _append_outside(path: Path) -> None:
    """Append to the file every checkpoint it does not have yet (one lost to a crash as well)."""
    fault_point("audit.checkpoint.before_file")
    done = _last_count_in_file(path)
    missing = list(Checkpoint.objects.filter(count__gt=done).order_by("count"))
    if not missing:
        return
    with path.open("a", encoding="utf-8") as out:
        for checkpoint in missing:
            out.write(json.dumps(checkpoint.as_export(), sort_keys=True) + "\n")
        out.flush()
        os.fsync(out.fileno())


def export_checkpoints(path: Path) -> int:
    """Write every checkpoint, with the public key that checks them, to a file outside the database."""
    key = signing_key().public_key()
    rows = list(Checkpoint.objects.order_by("count"))
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"public_key": chain.public_text(key), "key_id": chain.key_id(key)}) + "\n")
        for cp in rows:
            out.write(json.dumps(cp.as_export(), sort_keys=True) + "\n")
    return len(rows)


def read_checkpoint_file(path: Path) -> tuple[str | None, list[dict]]:
    public, rows = None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        data = json.loads(line)
        if "public_key" in data:
            public = data["public_key"]
        else:
            rows.append(data)
    return public, rows


# --- The signing key ----------------------------------------------------------------------------------------------

def _key_file() -> Path:
    return Path(settings.MASH_AUDIT_SIGNING_KEY_FILE)


def signing_key():
    """The Ed25519 key that signs checkpoints: MASH_AUDIT_SIGNING_KEY, or a key file made on first use."""
    text = os.environ.get("MASH_AUDIT_SIGNING_KEY", "")
    if not text:
        path = _key_file()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(chain.new_private_key_text() + "\n")
        text = path.read_text()
    return chain.private_from_text(text)
