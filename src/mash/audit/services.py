"""Recording, sealing and verifying the audit log.

Recording (`record`, `note_read`) is on the request path and only INSERTs: a write's event commits
in the write's own transaction; the reads of a request are gathered and written as one event before
the response leaves (`flush_request`), and a request whose reads cannot be recorded is refused.

Sealing (`seal`) runs after the response (and from `mash audit seal`): it takes the events not yet
in the chain, in id order, and appends their `Seal` rows, holding a lock only the sealer takes, so
requests never queue behind one head row. Every `MASH_AUDIT_CHECKPOINT_EVERY` events or
`MASH_AUDIT_CHECKPOINT_MINUTES` it signs a checkpoint. `verify` rechecks all of it.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from mash.core.faults import fault_point

from . import chain, fastverify
from . import rows as eventrows
from .models import (HASHED_COLUMNS, AuditEvent, Checkpoint, EventPerson, Kind, Result, Seal, SealCursor,
                     canonical_values)

log = logging.getLogger(__name__)

SEALER_LOCK = 0x6D617368  # "mash": the PostgreSQL advisory lock only the sealer takes


# --- Who is acting, from where ----------------------------------------------------------------------

@dataclass
class RequestContext:
    request: object = None
    ip: str = ""
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    purpose: str = ""
    kind: str = Kind.READ
    reads: dict = field(default_factory=dict)  # (object_type, ref) -> (people, fields)
    recorded: bool = False


_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("mash_audit", default=None)


def client_ip(request) -> str:
    """The client's address: from X-Forwarded-For only behind a proxy that is trusted to set it."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") if getattr(settings, "MASH_TRUST_X_FORWARDED_FOR", False) else ""
    return (forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR", ""))[:45]


def begin_request(request) -> contextvars.Token:
    return _context.set(RequestContext(request=request, ip=client_ip(request)))


def end_request(token: contextvars.Token) -> None:
    _context.reset(token)


def current() -> RequestContext | None:
    return _context.get()


def set_purpose(purpose: str) -> None:
    ctx = _context.get()
    if ctx is not None:
        ctx.purpose = purpose[:120]


def mark_export() -> None:
    """What this request reads leaves the system as a file: record it as an export."""
    ctx = _context.get()
    if ctx is not None:
        ctx.kind = Kind.EXPORT


def _actor_values(actor) -> dict:
    if actor is None:
        ctx = _context.get()
        actor = getattr(ctx.request, "user", None) if ctx else None
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {"actor_id": None, "actor": "", "role": "", "organisation": ""}
    partner = getattr(actor, "partner", None) if getattr(actor, "partner_id", None) else None
    return {"actor_id": actor.pk, "actor": actor.get_username(), "role": getattr(actor, "role", "") or "",
            "organisation": getattr(partner, "slug", "") if partner else ""}


def record(kind: str, action: str, *, actor=None, result: str = Result.OK, object_type: str = "",
           object_ref: str = "", people: Iterable[int] = (), fields: Iterable[str] = (), purpose: str = "",
           detail: str = "", username: str = "") -> AuditEvent:
    """Append one event. Inside a transaction it commits (or not) with the change it records."""
    ctx = _context.get()
    values = _actor_values(actor)
    if username and not values["actor"]:
        values["actor"] = username[:150]
    people = sorted({int(p) for p in people if p is not None})
    event = AuditEvent(
        kind=kind, action=action[:80], result=result, ip=ctx.ip if ctx else "",
        request_id=ctx.request_id if ctx else "", object_type=object_type[:40],
        object_ref=_cap(object_ref, 300), people=people, fields=sorted(set(fields)),
        purpose=(purpose or (ctx.purpose if ctx else ""))[:120], detail=_cap(detail, 500), **values)
    # No savepoint: inside a caller's transaction, a failure here fails the whole change.
    with transaction.atomic(savepoint=False):
        event.id = _insert_event(event)
    event._state.adding, event._state.db = False, connection.alias
    if ctx is not None:
        ctx.recorded = True
    elif getattr(settings, "MASH_AUDIT_SEAL_INLINE", True):
        transaction.on_commit(_seal_quietly)
    return event


_EVENT_COLUMNS = [name for name in HASHED_COLUMNS if name != "id"]
_sequence: dict[str, str] = {}


def _insert_event(event: AuditEvent) -> int:
    """INSERT the event and its index of people in one statement (PostgreSQL) or two (SQLite); its number.

    On PostgreSQL the transaction takes its transaction id *before* the event's number, so that a number
    the sealer cannot see yet always belongs to a transaction its snapshot shows in progress
    (`_older_transactions_finished`)."""
    params = []
    for name in _EVENT_COLUMNS:
        value = getattr(event, name)
        if name == "at":
            value = connection.ops.adapt_datetimefield_value(value)
        elif name in ("people", "fields"):
            value = json.dumps(value)
        params.append(value)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            if connection.alias not in _sequence:
                cur.execute("SELECT pg_get_serial_sequence('audit_auditevent', 'id')")
                _sequence[connection.alias] = cur.fetchone()[0]
            values = ", ".join("%s::jsonb" if name in ("people", "fields") else "%s" for name in _EVENT_COLUMNS)
            cur.execute(
                "WITH x AS (SELECT pg_current_xact_id() AS xid), "
                f"e AS (INSERT INTO audit_auditevent (id, {', '.join(_EVENT_COLUMNS)}) "
                f"SELECT CASE WHEN x.xid IS NOT NULL THEN nextval(%s::regclass) END, {values} FROM x RETURNING id), "
                "p AS (INSERT INTO audit_eventperson (event_id, person_id) SELECT e.id, unnest(%s::bigint[]) FROM e) "
                "SELECT id FROM e", [_sequence[connection.alias], *params, list(event.people)])
            return cur.fetchone()[0]
        cur.execute(f"INSERT INTO audit_auditevent ({', '.join(_EVENT_COLUMNS)}) VALUES "
                    f"({', '.join(['%s'] * len(_EVENT_COLUMNS))}) RETURNING id", params)
        event_id = cur.fetchone()[0]
        if event.people:
            cur.executemany("INSERT INTO audit_eventperson (event_id, person_id) VALUES (%s, %s)",
                            [(event_id, p) for p in event.people])
        return event_id


def _cap(text: str, limit: int) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- Reads --------------------------------------------------------------------------------------------

def note_read(object_type: str, ref: str, people: Iterable[int] = (), fields: Iterable[str] = ()) -> None:
    """Someone is reading case data. In a request it is recorded with the request's other reads,
    before the response leaves; elsewhere (a command) at once."""
    ctx = _context.get()
    if ctx is None:
        record(Kind.READ, f"read {object_type}", object_type=object_type, object_ref=ref, people=people,
               fields=fields)
        return
    known_people, known_fields = ctx.reads.setdefault((object_type, str(ref)), (set(), set()))
    known_people.update(p for p in people if p is not None)
    known_fields.update(fields)


def flush_request(ctx: RequestContext) -> AuditEvent | None:
    """Write the request's reads as one event. Raises if it cannot: the caller refuses the response."""
    if not ctx.reads:
        return None
    people, fields, by_type = set(), set(), {}
    for (object_type, ref), (p, f) in ctx.reads.items():
        people |= p
        fields |= f
        by_type.setdefault(object_type, []).append(ref)
    refs = "; ".join(f"{t}: {', '.join(r)}" for t, r in by_type.items())
    counts = ", ".join(f"{len(r)} {t}" for t, r in by_type.items())
    action = f"{'export' if ctx.kind == Kind.EXPORT else 'read'} {'+'.join(by_type)}"
    ctx.reads = {}
    return record(ctx.kind, action, object_type="+".join(by_type), object_ref=refs, people=people,
                  fields=fields, detail=counts)


def track(qs: QuerySet, object_type: str, describe: Callable) -> QuerySet:
    """A queryset that notes each row it loads as read (`describe(obj) -> (ref, people)`).

    Counting or checking existence loads no row and notes nothing."""
    base = type(qs)
    key = (base, object_type, describe)
    cls = _tracked_classes.get(key)
    if cls is None:
        def note(model, obj):
            if isinstance(obj, model):  # rows of values() or values_list() are not noted
                ref, people = describe(obj)
                note_read(object_type, ref, people, ("summary",))

        def _fetch_all(self, _super=base._fetch_all):
            fresh = self._result_cache is None
            _super(self)
            if fresh:
                for obj in self._result_cache:
                    note(self.model, obj)

        def iterator(self, chunk_size=None, _super=base.iterator):
            for obj in _super(self, chunk_size=chunk_size):
                note(self.model, obj)
                yield obj

        cls = type(f"Tracked{base.__name__}", (base,), {"_fetch_all": _fetch_all, "iterator": iterator})
        _tracked_classes[key] = cls
    clone = qs.all()
    clone.__class__ = cls
    return clone


_tracked_classes: dict = {}


def untracked(qs: QuerySet) -> QuerySet:
    """The same query without noting reads (the gate's own look-ups)."""
    clone = qs.all()
    for klass in type(clone).__mro__:
        if klass not in _tracked_classes.values():
            clone.__class__ = klass
            break
    return clone


# --- Sealing -------------------------------------------------------------------------------------------

def _seal_quietly() -> None:
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


def _grace() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "MASH_AUDIT_SEAL_GRACE_SECONDS", 300))


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
        now, grace = timezone.now(), _grace()
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
        _checkpoint_if_due(position, head, now)
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


def _checkpoint_if_due(count: int, head: bytes, now: dt.datetime, force: bool = False) -> Checkpoint | None:
    last = Checkpoint.objects.order_by("-count").first()
    done = last.count if last else 0
    if count <= done:
        return None
    every = getattr(settings, "MASH_AUDIT_CHECKPOINT_EVERY", 1000)
    minutes = getattr(settings, "MASH_AUDIT_CHECKPOINT_MINUTES", 60)
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
    outside = getattr(settings, "MASH_AUDIT_CHECKPOINT_FILE", "")
    if outside:
        transaction.on_commit(lambda: _append_outside(Path(outside)))
    return checkpoint


def checkpoint_now() -> Checkpoint | None:
    """Seal what is pending and sign a checkpoint of it (None when nothing is new since the last)."""
    seal()
    with transaction.atomic():
        _take_sealer_lock(True)
        last = Seal.objects.order_by("-position").values("position", "chain").first()
        if not last:
            return None
        checkpoint = _checkpoint_if_due(last["position"], bytes.fromhex(last["chain"]), timezone.now(), force=True)
    fault_point("audit.checkpoint.after_commit")
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


# --- Keys ----------------------------------------------------------------------------------------------

def _key_file() -> Path:
    return Path(getattr(settings, "MASH_AUDIT_SIGNING_KEY_FILE", "") or (settings.VAR_DIR / "audit-signing.key"))


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


# --- Verifying ------------------------------------------------------------------------------------------

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
    checkpoints = {cp.count: cp.as_export() for cp in Checkpoint.objects.order_by("count")}
    for outside in outside_checkpoints or []:
        inside = checkpoints.get(outside["count"])
        if inside is None:
            checkpoints[outside["count"]] = outside  # a checkpoint row was removed: the file still holds it
            report.fail(f"checkpoint of {outside['count']} events is in the file but not in the database")
        elif inside != outside:
            report.fail(f"checkpoint of {outside['count']} events differs between the database and the file")
    due = sorted(checkpoints)
    next_due = due.pop(0) if due else None
    grace = _grace()
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
    stop_at = index_bad if index_bad is not None else -1

    sha256, genesis = hashlib.sha256, chain.GENESIS
    chain_prefix = b"mash-audit-chain"
    head = previous_head = genesis
    roots: list[tuple[int, bytes]] = []  # the Merkle frontier, inline (chain.Frontier.add)
    expected, last_event = 1, None
    hi_id = hi_id_before = 0
    hi_id_position = 0
    hi_at = hi_at_before = None
    hi_at_position = 0
    previous_event = None
    since_checkpoint = None  # (position, event id) of the first event after the last checkpoint passed
    rows = _sealed_rows(batch)
    try:
        for position, event_id, leaf_hex, chain_hex, present, at, encoded in rows:
            if position != expected:
                report.fail(f"event #{event_id}: found at position {position} where position {expected} was due; "
                            f"events were removed before it, or rows inserted or reordered", event_id, expected)
                return
            if present is None:
                report.fail(f"event #{event_id} (position {position}) has been deleted", event_id, position)
                return
            # "" : the database found the leaf of its compact encoding equal to the seal's (PostgreSQL).
            if encoded != "" and (encoded is None or sha256(b"\x00" + encoded.encode()).hexdigest() != leaf_hex):
                # The SQL shortcuts may differ from chain.compact and chain.canonical: check with them.
                if leaf_hex not in _reference_leaves(event_id):
                    report.fail(f"event #{event_id} (position {position}) does not match its seal: it was "
                                f"altered, or moved here from elsewhere in the log", event_id, position)
                    return
            leaf = bytes.fromhex(leaf_hex)
            new_head = sha256(chain_prefix + head + position.to_bytes(8, "big") + leaf).digest()
            if new_head.hex() != chain_hex:
                if position > 1 and chain_hex == chain.chain_hash(previous_head, position - 1, leaf).hex():
                    report.fail(f"event #{previous_event} (position {position - 1}) was put into the chain "
                                f"afterwards: event #{event_id} after it was sealed directly after position "
                                f"{position - 2}", previous_event, position - 1)
                else:
                    report.fail(f"event #{event_id} (position {position}): the chain breaks here; an event "
                                f"before it was removed, inserted or reordered, or its seal was rewritten",
                                event_id, position)
                return
            # The chain follows the events' numbers, and no event is dated the grace period before one sealed
            # ahead of it. Who is at fault: this event, unless it is in order once the one that set the mark
            # is taken out (then that one was put in ahead of its place).
            if event_id <= hi_id and position >= strict_from:
                culprit = hi_id_position if event_id > hi_id_before else position
                _out_of_order(report, culprit, position, "numbered")
                return
            if event_id > hi_id:
                hi_id_before, hi_id, hi_id_position = hi_id, event_id, position
            # Times in one fixed form per engine (text on PostgreSQL) compare as times; parsed only out of order.
            if hi_at is None or at >= hi_at:
                hi_at_before, hi_at, hi_at_position = hi_at, at, position
            elif rows_at(at) < rows_at(hi_at) - grace:
                culprit = (hi_at_position if hi_at_before is None or rows_at(at) >= rows_at(hi_at_before) - grace
                           else position)
                _out_of_order(report, culprit, position, "dated")
                return
            if position == stop_at:
                report.fail(f"event #{event_id}: its index of people was altered", event_id, position)
                return
            node, height = leaf, 0
            while roots and roots[-1][0] == height:
                node = sha256(b"\x01" + roots.pop()[1] + node).digest()
                height += 1
            roots.append((height, node))
            since_checkpoint = since_checkpoint or (position, event_id)
            while next_due is not None and next_due == position:
                frontier = chain.Frontier(size=position, roots=list(roots))
                if not _check_checkpoint(report, public, checkpoints[next_due], frontier, new_head, since_checkpoint):
                    return
                since_checkpoint = None
                next_due = due.pop(0) if due else None
            previous_head, head = head, new_head
            previous_event = event_id
            expected, last_event = position + 1, event_id
    except MalformedSeal as exc:
        report.fail(f"the seal after position {expected - 1} is malformed (its leaf or chain was rewritten): {exc}",
                    None, expected)
        return
    finally:
        rows.close()
    last_position = expected - 1
    report.sealed = last_position
    if next_due is not None:
        cp = checkpoints[next_due]
        report.fail(f"the log was truncated: a checkpoint signed at {cp['at']} counts {next_due} events, only "
                    f"{last_position} remain; the first missing is position {last_position + 1}"
                    + (f", after event #{last_event}" if last_event else ""), None, last_position + 1)
    cursor = SealCursor.objects.order_by("id").first()
    bound = max(hi_id, cursor.below if cursor else 0)
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


def rows_at(value) -> dt.datetime:
    """An event's time as the raw cursor gives it (text, or a naive datetime on SQLite): UTC, aware."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


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


# --- Reading the log (for its pages; every such read is itself recorded) -----------------------------

def events_about(person_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        id__in=EventPerson.objects.filter(person_id=person_id).values("event_id")).order_by("-id")


def events_by(actor_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(actor_id=actor_id).order_by("-id")


def in_period(qs: QuerySet, since: dt.date | None, until: dt.date | None) -> QuerySet:
    if since:
        qs = qs.filter(at__date__gte=since)
    if until:
        qs = qs.filter(at__date__lte=until)
    return qs


def activity_by_actor(since: dt.date | None = None, until: dt.date | None = None):
    """Each actor's number of events and their latest, for the auditor's list of users."""
    qs = in_period(AuditEvent.objects.exclude(actor_id__isnull=True), since, until)
    return (qs.values("actor_id", "actor", "role", "organisation")
            .annotate(events=Count("id"), denials=Count("id", filter=Q(kind=Kind.DENIAL)), last=Max("at"))
            .order_by("-last"))


def status() -> dict:
    last = Checkpoint.objects.order_by("-count").first()
    sealed = Seal.objects.aggregate(m=Max("position"))["m"] or 0
    return {"events": AuditEvent.objects.count(), "sealed": sealed, "last_checkpoint": last}
