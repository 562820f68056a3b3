"""`verify`'s fast path on PostgreSQL: the same checks, with nothing per event crossing to Python but hashes.

It only ever says "all of it holds" (a `Passed`) or "something may not" (None); it never names a fault.
On None `verification.verify` runs the exact path, event by event, which finds and names the first bad event
(and may find nothing: the fast path's shortcuts can cost time, never a missed tampering). Every check
of the exact path is made here, in this order of work:

1. Positions: 1 to n, each once (count, min and max of the primary key).
2. In the database, one pass over seals joined to their events and to the index of people grouped by
   event (on a second connection in the same snapshot, beside 3 and 4, when verify owns its transaction):
   the event exists; its leaf is the hash of its compact encoding (`rows.compact_sql`), or else of the
   SQL form of its canonical encoding (older seals); its `people` has the text of its index rows (a
   difference is rechecked by the exact set difference). Only rows where one of these fails come back
   (at most `CANDIDATES`); a leaf is then rechecked with `chain.compact` and `chain.canonical` in Python.
3. From `audit_seal` alone, by ranges of positions: the database checks every link (the chain value's
   text is the hex of SHA-256 of the previous chain, the position and the leaf; every link holds, so
   every chain value is the recomputed chain) and sends the leaves, the event numbers and the positions
   as bytes; Python checks the positions, builds the Merkle tree a perfect subtree at a time and checks
   each checkpoint's root, chain head and signature, and checks that the numbers rise from `strict_from`.
4. Times: once the numbers rise and no event is behind the sealer, the events in number order are the
   chain in position order, so each event's time is read from `audit_auditevent` alone, in number order,
   eight bytes an event, and checked against the latest before it less the grace period. Before
   `strict_from` (logs sealed before the strict order) the database checks them in position order.
5. Events behind the sealer, and those pending: two counts, as the exact path.
"""

from __future__ import annotations

import hashlib
import threading
from array import array
from dataclasses import dataclass
from itertools import accumulate
from operator import lt
from typing import Callable

from django.db import DatabaseError, connection, transaction

from . import chain
from . import rows as eventrows

CANDIDATES = 1000  # rows the database may send back as doubtful before the exact path is cheaper
RANGE = 65536  # positions per range read by Python (a multiple of every checkpoint subtree it aligns to)


@dataclass
class Passed:
    sealed: int
    checkpoints: int
    pending: int


def verify_in_database(checkpoints: dict[int, dict], public, grace_micros: int, strict_from: int, below: int,
                       reference_leaves: Callable[[int], tuple[str, ...]],
                       index_mismatch: Callable[[], int | None], concurrent: bool = False) -> Passed | None:
    """Everything holds (a `Passed`), or something may not (None). Runs in the caller's snapshot; a
    database error (a malformed hex value, say) is rolled back to a savepoint and answered None.

    `concurrent` (the caller's transaction is verify's own, REPEATABLE READ): the events are checked
    against their seals (2.) on a second connection in the same snapshot (`pg_export_snapshot`) while this
    one reads the chain, so that both CPUs work."""
    try:
        snapshot = None
        if concurrent:  # exported before the savepoint (a subtransaction cannot export one)
            with connection.cursor() as cur:
                cur.execute("SELECT pg_export_snapshot()")
                snapshot = cur.fetchone()[0]
        with transaction.atomic():  # a savepoint: the exact path continues in the same snapshot
            return _verify(checkpoints, public, grace_micros, strict_from, below, reference_leaves, index_mismatch,
                           snapshot)
    except DatabaseError:
        return None


def _verify(checkpoints, public, grace_micros, strict_from, below, reference_leaves, index_mismatch, snapshot):
    with connection.cursor() as cur:
        cur.execute("SET LOCAL jit = off")  # compiling these expressions costs more than it saves
        cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")  # each query's inner side once, not per worker
        cur.execute("SELECT count(*), coalesce(min(position), 1), coalesce(max(position), 0) FROM audit_seal")
        count, first, last = cur.fetchone()
        if first != 1 or last != count:
            return None
        if any(c < 1 or c > last for c in checkpoints):
            return None  # truncated after a checkpoint
        beside = _Beside(snapshot) if snapshot else None
        try:
            verified = _chain_and_tree(cur, last, checkpoints, public, strict_from)
            if verified is None:
                return None
            hi_id, first_strict_id = verified
            bound = max(hi_id, below)
            cur.execute("SELECT count(*) FROM audit_auditevent WHERE id <= %s", [bound])
            if cur.fetchone()[0] != last:
                return None  # events behind the sealer
            if not _times_in_order(cur, grace_micros, strict_from, first_strict_id, hi_id):
                return None
            cur.execute("SELECT count(*) FROM audit_auditevent WHERE id > %s", [bound])
            pending = cur.fetchone()[0]
            doubtful = beside.result() if beside else _doubtful(cur)
        finally:
            if beside:
                beside.close()
        if doubtful is None or not _doubts_cleared(doubtful, reference_leaves, index_mismatch):
            return None
    return Passed(sealed=last, checkpoints=len(checkpoints), pending=pending)


class _Beside:
    """`_doubtful` on a connection of its own, in this transaction's snapshot, in a thread."""

    def __init__(self, snapshot: str):
        self.answer, self.conn = None, None
        try:
            self.conn = connection.Database.connect(**connection.get_connection_params())
        except Exception:
            self.thread = None
            return
        self.thread = threading.Thread(target=self._run, args=(snapshot,), daemon=True)
        self.thread.start()

    def _run(self, snapshot: str) -> None:
        try:
            with self.conn.cursor() as cur:
                cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cur.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # the server's own identifier
                cur.execute("SET LOCAL jit = off")
                cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")
                self.answer = _doubtful(cur)
        except Exception:
            self.answer = None

    def result(self):
        if self.thread is None:
            return None
        self.thread.join()
        return self.answer

    def close(self) -> None:
        if self.thread is not None:
            self.thread.join()
        if self.conn is not None:
            self.conn.close()


def _doubtful(cur) -> list[tuple] | None:
    """Sealed events that may not match their seals: (event id, leaf, present, leaf matched in SQL, index text
    differs), or None when there are too many to look at one by one."""
    leaf_ok = (f"CASE WHEN s.leaf = {eventrows.compact_leaf_sql('e')} THEN true "
               f"WHEN s.leaf = {eventrows.canonical_leaf_sql('e')} THEN true ELSE false END")
    # Each event's index of people as the text of a jsonb array, from one pass over the index grouped by event
    # (rows in the index's order; were the text ever in another order, the exact set difference decides).
    index_differs = "e.people::text IS DISTINCT FROM '[' || coalesce(i.people, '') || ']'"
    cur.execute("SET LOCAL work_mem = '256MB'")  # the index's texts in memory, not in batches on disk
    cur.execute(
        f"SELECT s.event_id, s.leaf, e.id IS NOT NULL, e.id IS NOT NULL AND {leaf_ok}, {index_differs} "
        f"FROM audit_seal s LEFT JOIN audit_auditevent e ON e.id = s.event_id "
        f"LEFT JOIN (SELECT event_id, string_agg(person_id::text, ', ') AS people FROM audit_eventperson "
        f"GROUP BY event_id) i ON i.event_id = s.event_id "
        f"WHERE e.id IS NULL OR NOT {leaf_ok} OR {index_differs} LIMIT %s", [CANDIDATES + 1])
    doubtful = cur.fetchall()
    return None if len(doubtful) > CANDIDATES else doubtful


def _doubts_cleared(doubtful: list[tuple], reference_leaves, index_mismatch) -> bool:
    for event_id, leaf, present, leaf_matched, _index_differs in doubtful:
        if not present:
            return False
        # The SQL forms may differ from chain.compact and chain.canonical (an escape): recheck with them.
        if not leaf_matched and leaf not in reference_leaves(event_id):
            return False
    # The text of an index may differ from `people` with the same set (people unsorted): the exact set
    # difference decides.
    return not any(row[4] for row in doubtful) or index_mismatch() is None


class _Tree:
    """The Merkle frontier (as chain.Frontier), grown a perfect subtree at a time."""

    def __init__(self):
        self.size, self.roots = 0, []

    def extend(self, leaves: list[bytes]) -> None:
        """Add the leaves that follow position `size`."""
        sha256, i, n = hashlib.sha256, 0, len(leaves)
        while i < n:
            # The largest perfect subtree that starts here: aligned to `size`, within the leaves given.
            height = (n - i).bit_length() - 1
            if self.size:
                height = min(height, (self.size & -self.size).bit_length() - 1)
            width = 1 << height
            level = leaves[i:i + width]
            while len(level) > 1:
                level = [sha256(b"\x01" + a + b).digest() for a, b in zip(level[0::2], level[1::2])]
            node = level[0]
            while self.roots and self.roots[-1][0] == height:
                node = sha256(b"\x01" + self.roots.pop()[1] + node).digest()
                height += 1
            self.roots.append((height, node))
            i += width
            self.size += width

    def root(self) -> bytes:
        return chain.Frontier(size=self.size, roots=list(self.roots)).root()


_GENESIS_HEX = chain.GENESIS.hex()


def _chain_and_tree(cur, last: int, checkpoints: dict[int, dict], public, strict_from: int):
    """Every link of the chain, the Merkle root and chain head at every checkpoint and its signature, and
    the numbers' order from `strict_from`. (highest number, number at `strict_from`), or None."""
    tree, due = _Tree(), sorted(checkpoints)
    hi_id, first_strict_id, previous_id = 0, None, None
    # Each link, in the database: chain = SHA-256("mash-audit-chain" || the previous chain || position || leaf)
    # as the chain's text (lower-case hex, as the exact path compares text), the previous chain from the row
    # before (the first row of a range is the last of the one before). Python gets the leaves, the numbers and
    # the positions as the aggregate took them, and checks the positions are in order.
    sql = ("SELECT string_agg(l, ''::bytea), string_agg(int8send(event_id), ''::bytea), "
           "string_agg(int8send(position), ''::bytea), "
           "bool_and(encode(sha256('mash-audit-chain'::bytea || p || int8send(position) || l), 'hex') = chain) "
           "FROM (SELECT position, event_id, chain, decode(leaf, 'hex') AS l, "
           "decode(lag(chain, 1, %s) OVER (ORDER BY position), 'hex') AS p "
           "FROM audit_seal WHERE position >= %s AND position <= %s) x WHERE position > %s")
    heads = {}
    if due:
        cur.execute("SELECT position, chain FROM audit_seal WHERE position = ANY(%s)", [due])
        heads = dict(cur.fetchall())
    done = 0
    while done < last:
        upto = min(last, done + RANGE)
        cur.execute(sql, [_GENESIS_HEX, max(1, done), upto, done])
        leaves, numbers, positions, links_hold = cur.fetchone()
        leaves, numbers = bytes(leaves), bytes(numbers)
        size = upto - done
        if not links_hold or len(leaves) != 32 * size or len(numbers) != 8 * size:
            return None  # a link that does not hold, or a leaf that is not 64 hex digits
        if bytes(positions) != _big_endian(range(done + 1, upto + 1)):
            return None
        ids = _numbers(numbers)
        # Numbers rise along the chain from strict_from: each above every one before it.
        lo = max(strict_from - done - 1, 0)  # index in this range of position strict_from (or of its start)
        if lo < size:
            strict = ids[lo:]
            if first_strict_id is None:
                first_strict_id = strict[0]
                if strict[0] <= max(hi_id, max(ids[:lo], default=0)):
                    return None
            elif strict[0] <= previous_id:
                return None
            if not all(map(lt, strict[:-1], strict[1:])):
                return None
        hi_id, previous_id = max(hi_id, max(ids)), ids[-1]
        leaf_list = [leaves[o:o + 32] for o in range(0, 32 * size, 32)]
        at = 0
        while due and due[0] <= upto:
            count = due.pop(0)
            tree.extend(leaf_list[at:count - done])
            at = count - done
            cp, root, head = checkpoints[count], tree.root(), heads.get(count, "")
            if cp["root"] != root.hex() or cp["chain_head"] != head or not _signed(public, cp, root, bytes.fromhex(head)):
                return None
        tree.extend(leaf_list[at:])
        done = upto
    return hi_id, first_strict_id


_SWAP = array("q", [1]).tobytes() != (1).to_bytes(8, "big")  # this machine's integers are little-endian


def _big_endian(numbers) -> bytes:
    values = array("q", numbers)
    if _SWAP:
        values.byteswap()
    return values.tobytes()


def _numbers(blob) -> array:
    values = array("q", bytes(blob) if blob is not None else b"")
    if _SWAP:
        values.byteswap()
    return values


def _signed(public, cp: dict, root: bytes, head: bytes) -> bool:
    import datetime as dt

    at = dt.datetime.strptime(cp["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    return chain.signature_valid(public, chain.checkpoint_message(cp["count"], root, head, at), cp["signature"])


def _times_in_order(cur, grace_micros: int, strict_from: int, first_strict_id, hi_id: int) -> bool:
    """No event dated more than the grace period before one sealed ahead of it."""
    grace = f"{grace_micros} microseconds"
    latest = None  # microseconds since 2000-01-01 UTC of the latest event so far
    if strict_from > 1:
        # Before strict_from the chain may not follow the numbers: in position order, in the database.
        cur.execute(
            "SELECT coalesce(bool_or(at < before - %s::interval), false), "
            "(SELECT (extract(epoch FROM max(e.at) - '2000-01-01 00:00:00+00') * 1000000)::bigint "
            " FROM audit_seal s JOIN audit_auditevent e ON e.id = s.event_id WHERE s.position < %s) "
            "FROM (SELECT e.at, max(e.at) OVER (ORDER BY s.position ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) "
            "AS before FROM audit_seal s JOIN audit_auditevent e ON e.id = s.event_id WHERE s.position < %s) x",
            [grace, strict_from, strict_from])
        late, latest = cur.fetchone()
        if late:
            return False
    if first_strict_id is None:
        return True  # every position is before strict_from
    # From strict_from the numbers rise along the chain and every event up to the highest is sealed, so
    # number order is position order.
    lo = first_strict_id
    while lo <= hi_id:
        hi = min(hi_id, lo + RANGE - 1)
        # The times as the aggregate took them from the ordered rows, and their numbers, to check that order.
        cur.execute("SELECT string_agg(t, ''::bytea), string_agg(int8send(id), ''::bytea) FROM ("
                    "SELECT timestamptz_send(at) AS t, id FROM audit_auditevent WHERE id >= %s AND id <= %s ORDER BY id) x",
                    [lo, hi])
        blob, numbers = cur.fetchone()
        times, ids = _numbers(blob), _numbers(numbers)
        if len(times) != len(ids) or not all(map(lt, ids[:-1], ids[1:])):
            return False
        if times:
            start = times[0] if latest is None else latest
            marks = list(accumulate(times, max, initial=start))  # marks[i]: the latest before times[i]
            if any(t < m - grace_micros for t, m in zip(times, marks)):
                return False
            latest = marks[-1]
        lo = hi + 1
    return True
