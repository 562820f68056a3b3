"""verify's fast path (PostgreSQL) and the compact encoding it rebuilds in SQL.

The fast path may only say "all holds" or "look closer": every tampering in docs/audit.md's table is
tested in test_log.py and test_backdating.py, where a fast path that passed a tampered log would fail
the test; here, that it is the path taken on logs that are in order, and that its SQL is chain.compact."""

import datetime as dt

import pytest
from django.db import connection
from hypothesis import given, settings as hsettings, strategies as st

from mash.audit import chain, rows, sealing, services, verification
from mash.audit.fastverify import _Tree
from mash.audit.models import HASHED_COLUMNS, AuditEvent, EventPerson, Kind, Seal, canonical_values
from mash.testing.database import tampering

LONG = "子供 é 😀 " * 60  # 480 characters, 1,320 bytes


def _values(event_id: int) -> dict:
    return canonical_values(AuditEvent.objects.filter(id=event_id).values(*HASHED_COLUMNS).first())


def _sql(expression: str, event_id: int) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {expression} FROM audit_auditevent e WHERE e.id = %s", [event_id])
        return cur.fetchone()[0]


def _create(**values) -> AuditEvent:
    """An event as an older writer or another tool may have inserted it, with its index of people."""
    event = AuditEvent.objects.create(**values)
    EventPerson.objects.bulk_create([EventPerson(event=event, person_id=p) for p in set(event.people)])
    return event


def _awkward_events() -> list[AuditEvent]:
    utc = dt.timezone.utc
    return [
        services.record(Kind.READ, "plain", people=[3, 1, 2], fields=["child", "concern"]),
        _create(kind=Kind.LOGIN_FAILED, action="no one", actor_id=None, people=[], fields=[]),
        _create(kind=Kind.WRITE, action='quote " backslash \\ newline \n tab \t', actor_id=7,
                                  detail="bell \x07 del \x7f record sep \x1e café 子供 😀", object_ref="a, b",
                                  fields=['a", "b', "new\nline", "ctl \x01 \x1f", "\\"], people=[10**12, -1]),
        _create(kind=Kind.READ, action="long", detail=LONG, object_ref=LONG[:300], actor="ü" * 150),
        _create(kind=Kind.READ, action="unit separator \x1f in a value", detail="x"),
        _create(kind=Kind.READ, action="whole second", at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=utc)),
        _create(kind=Kind.READ, action="last microsecond",
                                  at=dt.datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=utc)),
        _create(kind=Kind.READ, action="before 2000",
                                  at=dt.datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=utc)),
        _create(kind=Kind.READ, action="another zone",
                                  at=dt.datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))),
    ]


@pytest.mark.postgres
def test_the_compact_sql_is_chain_compact(db):
    for event in _awkward_events():
        values = _values(event.pk)
        expected = rows.compact_values(values)
        text = _sql(rows.compact_sql("e"), event.pk)
        if expected is None:  # a text holding the separator: no compact encoding, and the SQL's is told apart
            assert "\x1f" in event.action
            assert text.count(chain.SEPARATOR) != rows.COMPACT_SEPARATORS
            continue
        assert text.encode() == expected, event.action
        assert _sql(rows.compact_leaf_sql("e"), event.pk) == chain.leaf_hash(expected).hex()


def test_the_compact_encoding_tells_values_apart():
    base = {"a": "x", "b": "", "n": None, "at": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), "l": [1]}
    one = chain.compact(base, nullable=("n",))
    assert one.startswith(b"mash-audit-event/v2\x1f") and not one.startswith(b"{")
    for changed in ({"a": "", "b": "x"}, {"n": 0}, {"l": [1, 2]}, {"l": ["1"]},
                    {"at": dt.datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=dt.timezone.utc)}):
        assert chain.compact({**base, **changed}, nullable=("n",)) != one, changed
    assert chain.compact({**base, "a": "x\x1f"}, nullable=("n",)) is None  # the separator: none
    assert chain.compact({**base, "b": None}, nullable=("n",)) is None  # None only where a column may be NULL


@pytest.mark.postgres
def test_postgresql_seals_the_compact_encoding_and_the_fast_path_verifies(db, settings):
    settings.MASH_AUDIT_SEAL_GRACE_SECONDS = 10**9
    events = _awkward_events()
    sealing.seal()
    for event in events:
        values = _values(event.pk)
        compact = rows.compact_values(values)
        leaf = chain.leaf_hash(compact if compact is not None else chain.canonical(values)).hex()
        assert Seal.objects.get(event=event).leaf == leaf, event.action
    assert verification.verify().method == "database"
    # With the usual grace period, "whole second" (January) is dated long before the events sealed ahead of
    # it: the fast path declines, and the exact path names it as sealed out of order.
    settings.MASH_AUDIT_SEAL_GRACE_SECONDS = 300
    report = verification.verify()
    assert not report.ok and report.first_bad_event == events[5].pk and report.method == "exact"
    assert "out of order" in report.problems[0]


@pytest.mark.postgres
def test_the_fast_path_verifies_an_untouched_log_of_either_encoding(db, settings):
    settings.MASH_AUDIT_SEAL_GRACE_SECONDS = 10**9
    settings.MASH_AUDIT_CHECKPOINT_EVERY = 3
    events = _awkward_events()  # one sealed with the canonical encoding (it holds the separator)
    sealing.seal()
    # An event whose people are not in order: the index's text differs, its set does not (rechecked exactly).
    _create(kind=Kind.READ, action="unsorted", people=[5, 2])
    sealing.checkpoint_now()
    report = verification.verify()
    assert report.ok and report.method == "database", report.problems
    assert (report.sealed, report.pending) == (len(events) + 1, 0) and report.checkpoints == 2


@given(st.integers(min_value=0, max_value=300), st.lists(st.integers(min_value=0, max_value=300), max_size=6))
@hsettings(max_examples=60, deadline=None)
def test_the_tree_grown_by_subtrees_is_the_frontier(size, cuts):
    leaves = [chain.leaf_hash(str(i).encode()) for i in range(size)]
    tree, frontier, done = _Tree(), chain.Frontier(), 0
    for cut in sorted({c for c in cuts if c <= size} | {size}):
        tree.extend(leaves[done:cut])
        for leaf in leaves[done:cut]:
            frontier.add(leaf)
        done = cut
        assert (tree.size, tree.roots, tree.root()) == (frontier.size, frontier.roots, frontier.root())


@pytest.mark.postgres
def test_before_strict_from_a_backdated_event_still_fails_the_fast_path(db, settings):
    """Before strict_from the chain need not follow the numbers, but the times are checked all the same."""
    settings.MASH_AUDIT_SEAL_GRACE_SECONDS = 300
    now = dt.datetime.now(dt.timezone.utc)
    events = [_create(kind=Kind.READ, action=f"old {n}", at=now - dt.timedelta(seconds=s))
              for n, s in enumerate((10, 3600, 5))]  # the second dated an hour before the first
    head = chain.GENESIS
    with tampering() as cur:
        for position, event in enumerate(events, start=1):
            leaf = chain.leaf_hash(chain.canonical(_values(event.pk)))
            head = chain.chain_hash(head, position, leaf)
            Seal.objects.create(position=position, event=event, leaf=leaf.hex(), chain=head.hex())
        cur.execute("INSERT INTO audit_sealcursor (below, latest, strict_from) VALUES (%s, %s, %s)",
                    [events[2].pk, connection.ops.adapt_datetimefield_value(events[2].at), 4])
    settings.MASH_AUDIT_SEAL_GRACE_SECONDS = 7200  # within the grace period: in order, by the fast path
    report = verification.verify()
    assert report.ok and report.method == "database", report.problems
    settings.MASH_AUDIT_SEAL_GRACE_SECONDS = 300
    report = verification.verify()
    # The fast path declines; the exact path names the first event, put ahead of its place (the one after
    # it is in order once it is taken out).
    assert not report.ok and report.method == "exact" and report.first_bad_event == events[0].pk
    assert "dated before" in report.problems[0]
