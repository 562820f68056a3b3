"""The SQL form of the canonical encoding (verify's shortcut) gives chain.canonical's bytes, and where it
cannot, verify falls back to chain.canonical rather than calling the event altered."""

import datetime as dt

from django.db import connection

from mash.audit import chain, rows, sealing, services, verification
from mash.audit.models import HASHED_COLUMNS, AuditEvent, Kind


def _sql_encoding(event_id: int) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {rows.canonical_sql(connection.vendor)} FROM audit_auditevent e WHERE e.id = %s", [event_id])
        return cur.fetchone()[0]


def _raw_values(event_id: int) -> dict:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {rows.SELECT_COLUMNS} FROM audit_auditevent e WHERE e.id = %s", [event_id])
        return rows.values_from_raw(cur.fetchone())


def test_the_sql_encoding_is_the_canonical_encoding(db):
    tricky = 'quote " backslash \\ newline \n tab \t bell \x07 del \x7f café 子供 😀'
    events = [
        services.record(Kind.READ, "plain", people=[3, 1, 2], fields=["child", "concern"]),
        services.record(Kind.WRITE, tricky[:80], people=[], fields=[], detail=tricky, object_ref="a, b"),
        AuditEvent.objects.create(kind=Kind.LOGIN, action="x", at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)),
        AuditEvent.objects.create(kind=Kind.READ, action="y", actor_id=None, people=[10**12]),
    ]
    for event in events:
        event.refresh_from_db()
        expected = chain.canonical(event.canonical_values())
        assert _sql_encoding(event.pk).encode() == expected, event.action
        assert chain.canonical(_raw_values(event.pk)) == expected


def test_every_column_has_an_sql_encoding():
    sql = rows.canonical_sql("postgresql") + rows.canonical_sql("sqlite")
    for name in HASHED_COLUMNS:
        assert f'"{name}":' in sql


def test_where_the_shortcut_differs_verify_falls_back_to_the_canonical_encoding(db, settings):
    settings.MASH_AUDIT_SEAL_GRACE_SECONDS = 0
    # A field name holding '", "' defeats the SQL form's separator rewriting: the leaf still verifies.
    event = services.record(Kind.READ, "odd fields", fields=['a", ', "b"])
    sealing.seal()
    assert _sql_encoding(event.pk).encode() != chain.canonical(event.canonical_values())
    assert verification.verify().ok
