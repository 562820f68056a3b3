"""Sealing the audit log: the events not yet in the chain, in the order of their numbers.

Sealing (`seal`) runs after the response (and from `mash audit seal`): it takes the events not yet
in the chain, in id order, and appends their `Seal` rows, holding a lock only the sealer takes, so
requests never queue behind one head row. Every `MASH_AUDIT_CHECKPOINT_EVERY` events or
`MASH_AUDIT_CHECKPOINT_MINUTES` it signs a checkpoint (`checkpoints`). `verification.verify` rechecks
all of it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from mash.core.faults import fault_point

from . import chain
from . import rows as eventrows
from .checkpoints import checkpoint_if_due
from .models import HASHED_COLUMNS, AuditEvent, Checkpoint, Seal, SealCursor, canonical_values
from .rows import rows_at

log = logging.getLogger(__name__)

SEALER_LOCK = 0x6D617368  # "mash": the PostgreSQL advisory lock only the sealer takes


def seal_quietly() -> None:
    try:
        seal(wait=False, gap_wait=INLINE_GAP_WAIT_SECONDS)
    except Exception:  # the events are safely recorded; the next seal picks them up
        log.exception("audit: sealing failed; the events wait for the next `mash audit seal`")


def _take_sealer_lock(wait: bool) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: one writer at a time, and the sealer's transaction begins IMMEDIATE
    with connection.cursor() as cur:
        if wait:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [SEALER_LOCK])
            return True
        cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEALER_LOCK])
        return bool(cur.fetchone()[0])


def grace_period() -> dt.timedelta:
    return dt.timedelta(seconds=settings.MASH_AUDIT_SEAL_GRACE_SECONDS)


# How long one run of the sealer waits for transactions that may still commit an event into a gap.
GAP_WAIT_SECONDS = 0.5
# After a request's response the wait is short: a worker is not held; `mash audit seal` settles the rest.
INLINE_GAP_WAIT_SECONDS = 0.02


@dataclass
class Late:
    """An event behind the sealer: numbered below events already sealed, or dated too far before them."""

    event_id: int
    at: dt.datetime
    reason: str


def seal(limit: int = 5000, wait: bool = True, gap_wait: float = GAP_WAIT_SECONDS) -> int:
    """Append the events not yet sealed to the chain, in the order of their numbers. Returns how many.

    The chain follows the events' numbers strictly: an event is never sealed after one numbered above
    it. A gap in the numbers (a transaction that rolled back, or one still running) is passed only
    once it is settled; an event that turns up behind the sealer later, or is dated more than the
    grace period before an event already sealed, is never sealed: `sweep` and `verify` report it."""
    total, retried = 0, False
    while True:
        done = _seal_batch(limit, wait, gap_wait)
        if done is None:
            return total
        consumed, sealed, fresh_gap = done
        total += sealed
        if fresh_gap and not retried:
            # Most gaps are transactions about to commit: look again shortly, once, before waiting on them.
            retried = True
            time.sleep(min(gap_wait, 0.02))
            continue
        if consumed < limit:
            return total


# The number each connection's sealer last stopped at, a gap it has seen once: seen again, it is settled.
_gap_seen: dict[str, int] = {}


def _read_events(after: int, upto: int | None = None, limit: int | None = None) -> list[tuple]:
    """(number, time, encoding) of the events after `after`, in order. The database builds each encoding
    (PostgreSQL: rows.compact_sql; SQLite: rows.canonical_sql); one holding an escape, or a separator too
    many or too few, is rebuilt in Python (`_reference_encoding`), which is then the one hashed, so that
    what is sealed never depends on how an engine escapes a string."""
    postgres = connection.vendor == "postgresql"
    encoding = eventrows.compact_sql("e") if postgres else eventrows.canonical_sql(connection.vendor, "e")
    sql = f"SELECT e.id, e.at, {encoding} FROM audit_auditevent e WHERE e.id > %s"
    params: list = [after]
    if upto is not None:
        sql += " AND e.id <= %s"
        params.append(upto)
    sql += " ORDER BY e.id"
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        found = cur.fetchall()
    events = []
    for event_id, at, encoded in found:
        if at.__class__ is not dt.datetime or at.tzinfo is None:
            at = rows_at(at)
        if (encoded is None or "\\" in encoded
                or (postgres and encoded.count(chain.SEPARATOR) != eventrows.COMPACT_SEPARATORS)):
            encoded = _reference_encoding(event_id)
        else:
            encoded = encoded.encode()
        events.append((event_id, at, encoded))
    return events


def _reference_encoding(event_id: int) -> bytes:
    """What the sealer hashes for this event: on PostgreSQL its compact encoding where it has one, else
    (and on SQLite) its canonical encoding, computed in Python."""
    values = canonical_values(AuditEvent.objects.filter(id=event_id).values(*HASHED_COLUMNS).first())
    compact = eventrows.compact_values(values) if connection.vendor == "postgresql" else None
    return compact if compact is not None else chain.canonical(values)


def _older_transactions_finished(timeout: float) -> bool:
    """PostgreSQL: wait until every other transaction of this database in progress now has ended (True),
    or `timeout` passes (False).

    Called after reading the pending events. A number below a visible event but not visible itself was
    taken by a transaction that already had its transaction id (`_insert_event` takes it first), so
    one in progress now, or one that has ended: after they have all ended a new snapshot shows its
    event if it committed, and the number is settled if not. Only transaction ids are polled (no lock
    table), so writers are not slowed; transactions of other databases on the server are not waited for."""
    with connection.cursor() as cur:
        # Of the transactions in progress now, those of this database (the stats snapshot is fresh).
        cur.execute("SELECT pg_stat_clear_snapshot()")
        cur.execute("SELECT coalesce(array_agg(x::text), '{}') FROM pg_snapshot_xip(pg_current_snapshot()) x "
                    "WHERE x::xid IN (SELECT backend_xid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL)")
        waiting = cur.fetchone()[0]
        deadline = time.monotonic() + timeout
        while waiting:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
            cur.execute("SELECT coalesce(array_agg(x::text), '{}') FROM unnest(%s::xid8[]) x "
                        "WHERE pg_xact_status(x) = 'in progress'", [waiting])
            waiting = cur.fetchone()[0]
    return True


def _seal_batch(limit: int, wait: bool, gap_wait: float) -> tuple[int, int, bool] | None:
    with transaction.atomic():
        if not _take_sealer_lock(wait):
            return None
        fault_point("audit.seal.after_lock")
        cursor = SealCursor.objects.select_for_update().order_by("id").first() or SealCursor.objects.create(below=0)
        with connection.cursor() as cur:
            cur.execute("SELECT position, chain FROM audit_seal ORDER BY position DESC LIMIT 1")
            last = cur.fetchone()
        position, head = (last[0], bytes.fromhex(last[1])) if last else (0, chain.GENESIS)
        pending = _read_events(cursor.below, limit=limit)
        postgres = connection.vendor == "postgresql"
        now, grace = timezone.now(), grace_period()
        below, latest = cursor.below, cursor.latest
        settled = not postgres  # SQLite: no other writer runs while the sealer's transaction is open
        waited = fresh_gap = False
        seals, consumed, i = [], 0, 0
        while i < len(pending):
            event_id, at, encoded = pending[i]
            if event_id != below + 1 and not settled:
                if not waited and _gap_seen.get(connection.alias) != below and at >= now - grace:
                    _gap_seen[connection.alias] = below  # first sight: stop here, without waiting on anyone
                    fresh_gap = True
                    break
                if not waited:
                    waited = True
                    if _older_transactions_finished(gap_wait):
                        settled = True
                        pending[i:] = _read_events(below, upto=pending[-1][0])  # a new snapshot
                        continue
                if at >= now - grace:
                    break  # the gap may still fill: wait for the next run
                # else: the gap is older than the grace period; a transaction that commits into it now is late
            if latest is not None and at < latest - grace:
                log.warning("audit: event #%s is dated %s, more than the grace period before an event already "
                            "sealed; not sealed (see `mash audit seal --sweep`)", event_id, at)
            elif at > now + grace:
                log.warning("audit: event #%s is dated %s, in the future; not sealed", event_id, at)
            else:
                position += 1
                leaf = chain.leaf_hash(encoded)
                head = chain.chain_hash(head, position, leaf)
                seals.append((position, event_id, leaf.hex(), head.hex()))
                latest = at if latest is None or at > latest else latest
            below = event_id
            consumed += 1
            i += 1
        fault_point("audit.seal.before_insert")
        _insert_seals(seals, now)
        fault_point("audit.seal.after_insert")
        if below != cursor.below or latest != cursor.latest:
            SealCursor.objects.filter(pk=cursor.pk).update(below=below, latest=latest)
        fault_point("audit.seal.after_batch")
        checkpoint_if_due(position, head, now)
    fault_point("audit.seal.after_commit")
    return consumed, len(seals), fresh_gap


def _insert_seals(seals: list[tuple], now: dt.datetime) -> None:
    if not seals:
        return
    sealed_at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy("COPY audit_seal (position, event_id, leaf, chain, sealed_at) FROM STDIN") as copy:
                for row in seals:
                    copy.write_row((*row, sealed_at))
            return
        cur.executemany("INSERT INTO audit_seal (position, event_id, leaf, chain, sealed_at) VALUES (%s, %s, %s, %s, %s)",
                        [(*row, sealed_at) for row in seals])


def sweep() -> list[Late]:
    """Seal what can be sealed, then list the events behind the sealer, which are never sealed.

    An event numbered below one already sealed committed after the sealer had passed its number
    (a transaction held open longer than the grace period), or was inserted afterwards with an old
    number; one dated more than the grace period before an event already sealed was backdated or
    held open as long. Either way it is a finding, for a person to look at, never adopted."""
    seal()
    return late_events()


def late_events(limit: int = 1000) -> list[Late]:
    cursor = SealCursor.objects.order_by("id").first()
    with connection.cursor() as cur:
        cur.execute("SELECT max(event_id) FROM audit_seal")
        bound = max(cursor.below if cursor else 0, cur.fetchone()[0] or 0)
        cur.execute("SELECT e.id FROM audit_auditevent e WHERE e.id <= %s AND NOT EXISTS "
                    "(SELECT 1 FROM audit_seal s WHERE s.event_id = e.id) ORDER BY e.id LIMIT %s", [bound, limit])
        ids = [row[0] for row in cur.fetchall()]
    found = []
    for event in AuditEvent.objects.filter(id__in=ids).order_by("id"):
        found.append(Late(event.id, event.at, f"event #{event.id} ({event.kind}, {event.action}, dated "
                                              f"{chain.utc_text(event.at)}) is behind the sealer: it is numbered or "
                                              f"dated before events already sealed, so it committed late or was "
                                              f"inserted afterwards, and it is not in the chain"))
    return found


def checkpoint_now() -> Checkpoint | None:
    """Seal what is pending and sign a checkpoint of it (None when nothing is new since the last)."""
    seal()
    with transaction.atomic():
        _take_sealer_lock(True)
        last = Seal.objects.order_by("-position").values("position", "chain").first()
        if not last:
            return None
        checkpoint = checkpoint_if_due(last["position"], bytes.fromhex(last["chain"]), timezone.now(), force=True)
    fault_point("audit.checkpoint.after_commit")
    return checkpoint
