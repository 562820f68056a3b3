"""Verifying the audit log: the chain, the Merkle roots and the signed checkpoints recomputed, the chain
checked to follow the events' numbers and times and the index of people; the first bad event named.

On PostgreSQL `fastverify` checks everything in the database first and only says "all holds" or "look
closer"; on any doubt, and always on SQLite, the exact path here walks the seals event by event
(`_walk`): the row in its place (`_row_fails`), the chain link (`_chain_breaks`), the order of numbers
and times (`_Order`), the index of people, and each checkpoint as the walk reaches it (`_Marks`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field

from django.db import connection, transaction

from . import chain, fastverify
from . import rows as eventrows
from .checkpoints import signing_key
from .models import HASHED_COLUMNS, AuditEvent, Checkpoint, SealCursor, canonical_values
from .rows import rows_at
from .sealing import grace_period, late_events


@dataclass
class Report:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    first_bad_event: int | None = None
    first_bad_position: int | None = None
    sealed: int = 0
    pending: int = 0
    checkpoints: int = 0
    seconds: float = 0.0
    method: str = ""  # "database" (the fast path found everything in order) or "exact" (event by event)

    def fail(self, message: str, event_id: int | None = None, position: int | None = None) -> None:
        if self.ok:
            self.first_bad_event, self.first_bad_position = event_id, position
        self.ok = False
        self.problems.append(message)


def verify(public_key_text: str | None = None, outside_checkpoints: list[dict] | None = None,
           batch: int = 20000) -> Report:
    """Recompute the chain, the Merkle roots and the signatures; check that the chain follows the events'
    numbers and times, and the index of people; name the first bad event. One snapshot on PostgreSQL."""
    started = time.perf_counter()
    report = Report()
    public = chain.public_from_text(public_key_text) if public_key_text else signing_key().public_key()
    outermost = not connection.in_atomic_block
    postgres = connection.vendor == "postgresql"
    # SQLite: no transaction, as one would take the write lock (IMMEDIATE) and stop every request's writes
    # for the whole run; the sealer only appends above what the run has read, so its reads agree anyway.
    with transaction.atomic() if postgres else contextlib.nullcontext():
        if outermost and postgres:
            with connection.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        _verify(report, public, outside_checkpoints, batch, own_snapshot=outermost and postgres)
    report.seconds = time.perf_counter() - started
    return report


def _event_at_position(position: int) -> int | None:
    with connection.cursor() as cur:
        cur.execute("SELECT event_id FROM audit_seal WHERE position = %s", [position])
        row = cur.fetchone()
    return row[0] if row else None


def _reference_leaves(event_id: int) -> tuple[str, ...]:
    """The leaves (hex) this event can have been sealed with: of its compact encoding (where it has one) and
    of its canonical encoding, computed in Python (each identifies the row; they never coincide)."""
    values = AuditEvent.objects.filter(id=event_id).values(*HASHED_COLUMNS).first()
    if not values:
        return ()
    values = canonical_values(values)
    compact = eventrows.compact_values(values)
    leaves = (chain.leaf_hash(chain.canonical(values)),) + ((chain.leaf_hash(compact),) if compact else ())
    return tuple(leaf.hex() for leaf in leaves)


def _first_index_mismatch() -> int | None:
    """The position of the first sealed event whose index of people differs from its `people`."""
    if connection.vendor == "postgresql":
        listed = ("SELECT e.id AS event_id, CASE WHEN p.value ~ '^-?[0-9]{1,18}$' THEN p.value::bigint END "
                  "AS person_id FROM audit_auditevent e CROSS JOIN LATERAL jsonb_array_elements_text("
                  "CASE WHEN jsonb_typeof(e.people) = 'array' THEN e.people ELSE '[]'::jsonb END) p")
    else:
        listed = ("SELECT e.id AS event_id, CAST(p.value AS INTEGER) AS person_id FROM audit_auditevent e, "
                  "json_each(CASE WHEN json_valid(e.people) AND json_type(e.people) = 'array' THEN e.people "
                  "ELSE '[]' END) p")
    sql = (f"SELECT DISTINCT s.position FROM ("
           f"SELECT event_id FROM ({listed} EXCEPT SELECT event_id, person_id FROM audit_eventperson) a "
           f"UNION ALL SELECT event_id FROM (SELECT event_id, person_id FROM audit_eventperson EXCEPT {listed}) b"
           f") d JOIN audit_seal s ON s.event_id = d.event_id ORDER BY s.position LIMIT 1")
    with connection.cursor() as cur:
        cur.execute(sql)
        row = cur.fetchone()
    return row[0] if row else None


def _verify(report: Report, public, outside_checkpoints: list[dict] | None, batch: int,
            own_snapshot: bool = False) -> None:
    checkpoints = _all_checkpoints(report, outside_checkpoints)
    grace = grace_period()
    cursor_row = SealCursor.objects.order_by("id").first()
    strict_from = cursor_row.strict_from if cursor_row else 1  # earlier sealers let late commits in
    if report.ok and connection.vendor == "postgresql":
        passed = fastverify.verify_in_database(
            checkpoints, public, grace // dt.timedelta(microseconds=1), strict_from,
            cursor_row.below if cursor_row else 0, _reference_leaves, _first_index_mismatch, concurrent=own_snapshot)
        if passed is not None:
            report.sealed, report.checkpoints, report.pending = passed.sealed, passed.checkpoints, passed.pending
            report.method = "database"
            return
    report.method = "exact"  # event by event: finds and names the first bad event
    index_bad = _first_index_mismatch()
    marks, order = _Marks(report, public, checkpoints), _Order(strict_from, grace)
    walked = _walk(report, _sealed_rows(batch), marks, order, index_bad if index_bad is not None else -1)
    if walked is not None:
        _check_the_rest(report, *walked, marks, order)


def _all_checkpoints(report: Report, outside_checkpoints: list[dict] | None) -> dict[int, dict]:
    """The checkpoints in the database by count, and any the file outside holds that the database lost;
    a difference between the two is reported."""
    checkpoints = {cp.count: cp.as_export() for cp in Checkpoint.objects.order_by("count")}
    for outside in outside_checkpoints or []:
        inside = checkpoints.get(outside["count"])
        if inside is None:
            checkpoints[outside["count"]] = outside  # a checkpoint row was removed: the file still holds it
            report.fail(f"checkpoint of {outside['count']} events is in the file but not in the database")
        elif inside != outside:
            report.fail(f"checkpoint of {outside['count']} events differs between the database and the file")
    return checkpoints


def _walk(report: Report, rows, marks: _Marks, order: _Order, stop_at: int) -> tuple[int, int | None] | None:
    """The exact path: every seal in position order, event by event. (The last position, its event) when all
    of it holds; None once the first fault is reported. `stop_at`: the position whose index of people is bad."""
    sha256, chain_prefix = hashlib.sha256, b"mash-audit-chain"
    head = previous_head = chain.GENESIS
    expected, last_event, previous_event = 1, None, None
    try:
        for position, event_id, leaf_hex, chain_hex, present, at, encoded in rows:
            # "" : the database found the leaf of its compact encoding equal to the seal's (PostgreSQL).
            if position != expected or present is None or encoded != "" and (
                    encoded is None or sha256(b"\x00" + encoded.encode()).hexdigest() != leaf_hex):
                if _row_fails(report, position, expected, event_id, present, leaf_hex):
                    return None
            leaf = bytes.fromhex(leaf_hex)
            new_head = sha256(chain_prefix + head + position.to_bytes(8, "big") + leaf).digest()
            if new_head.hex() != chain_hex:
                _chain_breaks(report, position, event_id, chain_hex, leaf, previous_head, previous_event)
                return None
            fault = order.fault(position, event_id, at)
            if fault is not None:
                _out_of_order(report, fault[0], position, fault[1])
                return None
            if position == stop_at:
                report.fail(f"event #{event_id}: its index of people was altered", event_id, position)
                return None
            if not marks.add(leaf, position, event_id, new_head):
                return None
            previous_head, head = head, new_head
            previous_event = event_id
            expected, last_event = position + 1, event_id
    except MalformedSeal as exc:
        report.fail(f"the seal after position {expected - 1} is malformed (its leaf or chain was rewritten): {exc}",
                    None, expected)
        return None
    finally:
        rows.close()
    return expected - 1, last_event


def _row_fails(report: Report, position: int, expected: int, event_id: int, present, leaf_hex: str) -> bool:
    """A seal out of its place, its event deleted, or its event not matching the seal: reported (True).
    Called when one of these may be so; False when the event matches after all."""
    if position != expected:
        report.fail(f"event #{event_id}: found at position {position} where position {expected} was due; "
                    f"events were removed before it, or rows inserted or reordered", event_id, expected)
        return True
    if present is None:
        report.fail(f"event #{event_id} (position {position}) has been deleted", event_id, position)
        return True
    # The SQL shortcuts may differ from chain.compact and chain.canonical: check with them.
    if leaf_hex not in _reference_leaves(event_id):
        report.fail(f"event #{event_id} (position {position}) does not match its seal: it was "
                    f"altered, or moved here from elsewhere in the log", event_id, position)
        return True
    return False


def _chain_breaks(report: Report, position: int, event_id: int, chain_hex: str, leaf: bytes, previous_head: bytes,
                  previous_event: int | None) -> None:
    """The chain value at `position` is not the one recomputed: name the event put in, or where it breaks."""
    if position > 1 and chain_hex == chain.chain_hash(previous_head, position - 1, leaf).hex():
        report.fail(f"event #{previous_event} (position {position - 1}) was put into the chain "
                    f"afterwards: event #{event_id} after it was sealed directly after position "
                    f"{position - 2}", previous_event, position - 1)
    else:
        report.fail(f"event #{event_id} (position {position}): the chain breaks here; an event "
                    f"before it was removed, inserted or reordered, or its seal was rewritten",
                    event_id, position)


class _Order:
    """The chain follows the events' numbers, and no event is dated the grace period before one sealed ahead
    of it. Who is at fault: this event, unless it is in order once the one that set the mark is taken out
    (then that one was put in ahead of its place)."""

    def __init__(self, strict_from: int, grace: dt.timedelta):
        self.strict_from, self.grace = strict_from, grace
        self.hi_id = self.hi_id_before = self.hi_id_position = 0
        self.hi_at = self.hi_at_before = None
        self.hi_at_position = 0

    def fault(self, position: int, event_id: int, at) -> tuple[int, str] | None:
        """(The position at fault, "numbered" or "dated") when this event breaks the order, else None."""
        if event_id <= self.hi_id and position >= self.strict_from:
            return (self.hi_id_position if event_id > self.hi_id_before else position), "numbered"
        if event_id > self.hi_id:
            self.hi_id_before, self.hi_id, self.hi_id_position = self.hi_id, event_id, position
        # Times in one fixed form per engine (text on PostgreSQL) compare as times; parsed only out of order.
        hi_at = self.hi_at
        if hi_at is None or at >= hi_at:
            self.hi_at_before, self.hi_at, self.hi_at_position = hi_at, at, position
        elif rows_at(at) < rows_at(hi_at) - self.grace:
            before = self.hi_at_before
            in_order_without_mark = before is None or rows_at(at) >= rows_at(before) - self.grace
            return (self.hi_at_position if in_order_without_mark else position), "dated"
        return None


class _Marks:
    """The Merkle frontier grown event by event (chain.Frontier.add, inline), and each checkpoint checked
    when the walk reaches the count it signs."""

    def __init__(self, report: Report, public, checkpoints: dict[int, dict]):
        self.report, self.public, self.checkpoints = report, public, checkpoints
        self.due = sorted(checkpoints)
        self.next_due = self.due.pop(0) if self.due else None
        self.roots: list[tuple[int, bytes]] = []
        self.since: tuple[int, int] | None = None  # (position, event id) of the first event after the last checkpoint

    def add(self, leaf: bytes, position: int, event_id: int, head: bytes) -> bool:
        """The event's leaf added; False when a checkpoint due at its position does not hold (reported)."""
        roots, sha256 = self.roots, hashlib.sha256
        node, height = leaf, 0
        while roots and roots[-1][0] == height:
            node = sha256(b"\x01" + roots.pop()[1] + node).digest()
            height += 1
        roots.append((height, node))
        self.since = self.since or (position, event_id)
        while self.next_due is not None and self.next_due == position:
            frontier = chain.Frontier(size=position, roots=list(roots))
            if not _check_checkpoint(self.report, self.public, self.checkpoints[self.next_due], frontier, head,
                                     self.since):
                return False
            self.since = None
            self.next_due = self.due.pop(0) if self.due else None
        return True


def _check_the_rest(report: Report, last_position: int, last_event: int | None, marks: _Marks,
                    order: _Order) -> None:
    """After a walk in which every seal held: a checkpoint counting more events than remain (the log was
    truncated), the events behind the sealer, and how many wait to be sealed."""
    report.sealed = last_position
    if marks.next_due is not None:
        cp = marks.checkpoints[marks.next_due]
        report.fail(f"the log was truncated: a checkpoint signed at {cp['at']} counts {marks.next_due} events, only "
                    f"{last_position} remain; the first missing is position {last_position + 1}"
                    + (f", after event #{last_event}" if last_event else ""), None, last_position + 1)
    cursor = SealCursor.objects.order_by("id").first()
    bound = max(order.hi_id, cursor.below if cursor else 0)
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM audit_auditevent WHERE id <= %s", [bound])
        behind = c.fetchone()[0] - last_position
        c.execute("SELECT count(*) FROM audit_auditevent WHERE id > %s", [bound])
        report.pending = c.fetchone()[0]
    if behind > 0:
        for late in late_events(limit=10):
            report.fail(late.reason, late.event_id)

class MalformedSeal(Exception):
    pass


def _sealed_rows(batch: int):
    """Every seal in position order with its event: (position, event id, leaf, chain, event present,
    time as text, the event's canonical encoding built by the database or None; on PostgreSQL "" where
    the leaf of its compact encoding, computed by the database, is the seal's).

    PostgreSQL sends each range of `batch` positions as one text, so that a row costs the client a split,
    not a fetch; SQLite, in process, streams rows."""
    canonical = eventrows.canonical_sql(connection.vendor, "e")
    if connection.vendor != "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"SELECT s.position, s.event_id, s.leaf, s.chain, e.id IS NOT NULL, e.at, {canonical} "
                        f"FROM audit_seal s LEFT JOIN audit_auditevent e ON e.id = s.event_id ORDER BY s.position")
            while block := cur.fetchmany(batch):
                yield from block
        return
    # Seals by their primary key, a range at a time, each joined to its event by the event's key: a plan
    # that does not depend on the tables' statistics being fresh (after a million seals they may not be).
    sql = ("SELECT string_agg(concat_ws(' ', s.position, s.event_id, s.leaf, s.chain, coalesce(e.id::text, '-'), "
           "coalesce(to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '-'), coalesce(e.encoded, '-')), "
           "E'\\x1e' ORDER BY s.position), max(s.position) "
           "FROM (SELECT position, event_id, leaf, chain FROM audit_seal WHERE position > %s ORDER BY position LIMIT %s) s "
           f"LEFT JOIN LATERAL (SELECT e.id, e.at, CASE WHEN {eventrows.compact_leaf_sql('e')} = s.leaf THEN '' "
           f"ELSE {canonical} END AS encoded FROM audit_auditevent e "
           "WHERE e.id = s.event_id OFFSET 0) e ON true")  # OFFSET 0: one look-up per seal, never a merge
    with connection.cursor() as cur:
        # Compiling these expressions costs more than it saves; each range's text is sorted in memory.
        cur.execute("SET LOCAL jit = off")
        cur.execute("SET LOCAL work_mem = '64MB'")
        after = 0
        while True:
            cur.execute(sql, [after, batch])
            text, after = cur.fetchone()
            if not text:
                return
            for record in text.split("\x1e"):  # JSON escapes control characters, so none is in an encoding
                try:
                    position, event_id, leaf_hex, chain_hex, present, at, encoded = record.split(" ", 6)
                    position, event_id = int(position), int(event_id)
                except ValueError:  # a seal's text was rewritten with separators in it
                    raise MalformedSeal(record[:80]) from None
                yield position, event_id, leaf_hex, chain_hex, present != "-", at, None if encoded == "-" else encoded


def _out_of_order(report: Report, culprit: int, position: int, how: str) -> None:
    event_id = _event_at_position(culprit)
    if culprit == position:
        report.fail(f"event #{event_id} (position {position}) was sealed out of order: it is {how} before an event "
                    f"sealed ahead of it, so it was inserted afterwards (backdated) or sealed out of turn",
                    event_id, position)
    else:
        after = _event_at_position(position)
        report.fail(f"event #{event_id} (position {culprit}) was sealed out of order: event #{after} after it is "
                    f"{how} before it, so it was put into the chain ahead of its place", event_id, culprit)


def _check_checkpoint(report: Report, public, cp: dict, frontier: chain.Frontier, head: bytes,
                      since: tuple[int, int]) -> bool:
    """`since`: the first event after the previous checkpoint, where a rewritten stretch can begin."""
    root = frontier.root()
    position, event_id = since
    if cp["root"] != root.hex() or cp["chain_head"] != head.hex():
        report.fail(f"the log from event #{event_id} (position {position}) to position {cp['count']} does not match "
                    f"the checkpoint signed at {cp['at']}: events in it were rewritten, inserted or removed and the "
                    f"chain recomputed", event_id, position)
        return False
    at = dt.datetime.strptime(cp["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    message = chain.checkpoint_message(cp["count"], root, head, at)
    if not chain.signature_valid(public, message, cp["signature"]):
        report.fail(f"checkpoint of {cp['count']} events: the signature does not verify with key "
                    f"{chain.key_id(public)}", event_id, position)
        return False
    report.checkpoints += 1
    return True
