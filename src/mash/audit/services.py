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

import contextvars
import datetime as dt
import json
import logging
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from . import chain
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
    # No savepoint: inside a caller's transaction, a failure here fails the whole change.
    with transaction.atomic(savepoint=False):
        event = AuditEvent.objects.create(
            kind=kind, action=action[:80], result=result, ip=ctx.ip if ctx else "",
            request_id=ctx.request_id if ctx else "", object_type=object_type[:40],
            object_ref=_cap(object_ref, 300), people=people, fields=sorted(set(fields)),
            purpose=(purpose or (ctx.purpose if ctx else ""))[:120], detail=_cap(detail, 500), **values)
        if people:
            EventPerson.objects.bulk_create([EventPerson(event=event, person_id=p) for p in people])
    if ctx is not None:
        ctx.recorded = True
    elif getattr(settings, "MASH_AUDIT_SEAL_INLINE", True):
        transaction.on_commit(_seal_quietly)
    return event


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
        seal(wait=False)
    except Exception:  # the events are safely recorded; the next seal picks them up
        log.exception("audit: sealing failed; the events wait for the next `mash audit seal`")


def _take_sealer_lock(wait: bool) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: one writer at a time, and the sealer's first statement writes
    with connection.cursor() as cur:
        if wait:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [SEALER_LOCK])
            return True
        cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEALER_LOCK])
        return bool(cur.fetchone()[0])


def _grace() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "MASH_AUDIT_SEAL_GRACE_SECONDS", 300))


def seal(limit: int = 2000, wait: bool = True, sweep: bool = False) -> int:
    """Append every event not yet sealed to the chain, in id order. Returns how many were sealed.

    `sweep` looks behind the cursor too (for a transaction that ran longer than the grace period)."""
    total = 0
    while True:
        done = _seal_batch(limit, wait, sweep)
        if done is None:
            return total
        total += done
        if done < limit:
            return total


def _seal_batch(limit: int, wait: bool, sweep: bool) -> int | None:
    with transaction.atomic():
        if not _take_sealer_lock(wait):
            return None
        cursor = SealCursor.objects.select_for_update().first() or SealCursor.objects.create(below=0)
        last = Seal.objects.order_by("-position").values("position", "chain").first()
        position, head = (last["position"], bytes.fromhex(last["chain"])) if last else (0, chain.GENESIS)
        start = 0 if sweep else cursor.below
        pending = list(AuditEvent.objects.filter(id__gt=start, seal__isnull=True).order_by("id")[:limit])
        seals = []
        for event in pending:
            position += 1
            leaf = chain.leaf_hash(chain.canonical(event.canonical_values()))
            head = chain.chain_hash(head, position, leaf)
            seals.append(Seal(position=position, event_id=event.id, leaf=leaf.hex(), chain=head.hex()))
        Seal.objects.bulk_create(seals)
        now = timezone.now()
        first_unsealed = (AuditEvent.objects.filter(id__gt=cursor.below, seal__isnull=True)
                          .order_by("id").values_list("id", flat=True).first())
        settled = (AuditEvent.objects.filter(id__gt=cursor.below, at__lt=now - _grace())
                   .aggregate(m=Max("id"))["m"]) or cursor.below
        below = min(settled, first_unsealed - 1) if first_unsealed else settled
        if below > cursor.below:
            SealCursor.objects.filter(pk=cursor.pk).update(below=below)
        _checkpoint_if_due(position, head, now)
        return len(seals)


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
    for leaf in (Seal.objects.filter(position__gt=done, position__lte=count).order_by("position")
                 .values_list("leaf", flat=True).iterator(chunk_size=5000)):
        frontier.add(bytes.fromhex(leaf))
    key = signing_key()
    root = frontier.root()
    checkpoint = Checkpoint.objects.create(
        count=count, root=root.hex(), chain_head=head.hex(), at=now, key_id=chain.key_id(key.public_key()),
        signature=chain.sign(key, chain.checkpoint_message(count, root, head, now)), frontier=frontier.to_json())
    outside = getattr(settings, "MASH_AUDIT_CHECKPOINT_FILE", "")
    if outside:
        transaction.on_commit(lambda: _append_outside(Path(outside), checkpoint))
    return checkpoint


def checkpoint_now() -> Checkpoint | None:
    """Seal what is pending and sign a checkpoint of it (None when nothing is new since the last)."""
    seal()
    with transaction.atomic():
        _take_sealer_lock(True)
        last = Seal.objects.order_by("-position").values("position", "chain").first()
        if not last:
            return None
        return _checkpoint_if_due(last["position"], bytes.fromhex(last["chain"]), timezone.now(), force=True)


def _append_outside(path: Path, checkpoint: Checkpoint) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(checkpoint.as_export(), sort_keys=True) + "\n")


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

    def fail(self, message: str, event_id: int | None = None, position: int | None = None) -> None:
        if self.ok:
            self.first_bad_event, self.first_bad_position = event_id, position
        self.ok = False
        self.problems.append(message)


def verify(public_key_text: str | None = None, outside_checkpoints: list[dict] | None = None,
           batch: int = 5000) -> Report:
    """Recompute the chain, the Merkle roots and the signatures; name the first bad event."""
    import time

    started = time.perf_counter()
    report = Report()
    public = chain.public_from_text(public_key_text) if public_key_text else signing_key().public_key()
    checkpoints = {cp.count: cp.as_export() for cp in Checkpoint.objects.order_by("count")}
    for outside in outside_checkpoints or []:
        inside = checkpoints.get(outside["count"])
        if inside is None:
            checkpoints[outside["count"]] = outside  # a checkpoint row was removed: the file still holds it
            report.fail(f"checkpoint of {outside['count']} events is in the file but not in the database")
        elif inside != outside:
            report.fail(f"checkpoint of {outside['count']} events differs between the database and the file")
    due = sorted(checkpoints)
    head, frontier, expected = chain.GENESIS, chain.Frontier(), 1
    last_position, last_event = 0, None
    since_checkpoint = None  # (position, event id) of the first event after the last checkpoint passed
    while True:
        seals = list(Seal.objects.filter(position__gt=last_position).order_by("position")
                     .values_list("position", "event_id", "leaf", "chain")[:batch])
        if not seals:
            break
        events = {e["id"]: e for e in AuditEvent.objects.filter(id__in=[s[1] for s in seals]).values(*HASHED_COLUMNS)}
        indexed: dict[int, set] = {}
        for event_id, person_id in EventPerson.objects.filter(event_id__in=list(events)).values_list(
                "event_id", "person_id"):
            indexed.setdefault(event_id, set()).add(person_id)
        for position, event_id, leaf_hex, chain_hex in seals:
            event = events.get(event_id)
            if position != expected:
                report.fail(f"event #{event_id}: found at position {position} where position {expected} was due; "
                            f"events were removed before it, or rows inserted or reordered", event_id, expected)
                return _done(report, started)
            if event is None:
                report.fail(f"event #{event_id} (position {position}) has been deleted", event_id, position)
                return _done(report, started)
            leaf = chain.leaf_hash(chain.canonical(canonical_values(event)))
            if leaf.hex() != leaf_hex:
                report.fail(f"event #{event_id} (position {position}) does not match its seal: it was altered, "
                            f"or moved here from elsewhere in the log", event_id, position)
                return _done(report, started)
            head = chain.chain_hash(head, position, leaf)
            if head.hex() != chain_hex:
                report.fail(f"event #{event_id} (position {position}): the chain breaks here; an event before it "
                            f"was removed, inserted or reordered, or its seal was rewritten", event_id, position)
                return _done(report, started)
            if indexed.get(event_id, set()) != set(event["people"] or []):
                report.fail(f"event #{event_id}: its index of people was altered", event_id, position)
                return _done(report, started)
            frontier.add(leaf)
            since_checkpoint = since_checkpoint or (position, event_id)
            while due and due[0] == position:
                if not _check_checkpoint(report, public, checkpoints[due.pop(0)], frontier, head, since_checkpoint):
                    return _done(report, started)
                since_checkpoint = None
            expected, last_position, last_event = position + 1, position, event_id
    report.sealed = last_position
    for count in due:
        cp = checkpoints[count]
        report.fail(f"the log was truncated: a checkpoint signed at {cp['at']} counts {count} events, only "
                    f"{last_position} remain; the first missing is position {last_position + 1}"
                    + (f", after event #{last_event}" if last_event else ""), None, last_position + 1)
        break
    cursor = SealCursor.objects.first()
    behind = AuditEvent.objects.filter(seal__isnull=True)
    if cursor is not None:
        inserted = behind.filter(id__lte=cursor.below).order_by("id").values_list("id", flat=True).first()
        if inserted is not None:
            report.fail(f"event #{inserted} was inserted behind the sealer: events after it were sealed "
                        f"before it existed", inserted)
    report.pending = behind.count()
    return _done(report, started)


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


def _done(report: Report, started: float) -> Report:
    import time

    report.seconds = time.perf_counter() - started
    return report


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
