"""Recording the audit log: who is acting and from where, each change as an event, and what a request reads.

Recording (`record`, `note_read`) is on the request path and only INSERTs: a write's event commits
in the write's own transaction; the reads of a request are gathered and written as one event before
the response leaves (`flush_request`), and a request whose reads cannot be recorded is refused.
What is recorded is sealed into the chain afterwards (`sealing`), and checked by `verification`.
"""

from __future__ import annotations

import contextvars
import json
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from mash.core.web import client_ip  # also settings.AXES_CLIENT_IP_CALLABLE, as mash.audit.services.client_ip

from .models import HASHED_COLUMNS, AuditEvent, Kind, Result
from .sealing import seal_quietly


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
    elif settings.MASH_AUDIT_SEAL_INLINE:
        transaction.on_commit(seal_quietly)
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

