#!/usr/bin/env python
"""The worker queues on PostgreSQL, as the contributions table grows to 1,000,000 rows.

Does a worker's queue cost what the worker may see, or what the tables hold? This script fills a
dedicated database in steps (10k -> 100k -> 1M contributions, with their enquiries and requests),
keeps what three chosen workers may see fixed while everything else grows, and times at each step
the real listings through the access gate (cases.selectors.enquiries and
sharing.selectors.information_requests, filtered by mash.access.gate and mash.access.filters) and the
JSON API. Beside the gate's queries it times, for comparison, the earlier OR-of-EXISTS form of the
workers' filters that src/ replaced, which must return the same rows.

    .venv/bin/python bench/queue_postgres.py            # full run: 10k, 100k, 1M contributions
    .venv/bin/python bench/queue_postgres.py --quick    # 10k, 100k
    .venv/bin/python bench/queue_postgres.py --smoke    # 2k, 3k, one run each: does it still work?

The database is dropped and made again on every run: $MASH_BENCH_POSTGRES_URL, by default
postgres://postgres@127.0.0.1:5432/mash_bench (its name must contain "bench"). Figures go to stdout
and to bench/results/queue_postgres.json.

The API is called as people call it outside demo mode: each user signs in with a password, sets up an
authenticator app on the set-up page (a code computed from the key it shows) and so holds a session that
has given its second factor. MASH_DEMO_MODE is switched off for the run.

`--smoke` (run by `make test`) uses tiny sizes (the measured agencies asked on 5, 50 and 500 enquiries,
2,000 then 3,000 contributions) and one run, asserts no figure, writes no JSON unless
--output is given and drops its database at the end. Its database is $MASH_BENCH_POSTGRES_URL, else one
named <database>_smoke_bench on the server of $MASH_DATABASE_URL; when neither is PostgreSQL it prints
"SKIPPED: ..." and exits 0. Every run, smoke or not, exits non-zero when something is wrong: a sign-in or
API call that fails, an API count that is not the gate's, a worker who sees nothing, visible rows that
change as the tables grow, or the earlier form returning other rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import platform
import secrets
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "src"))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mash_bench"
FULL_STEPS = [10_000, 100_000, 1_000_000]
QUICK_STEPS = [10_000, 100_000]
SMOKE_STEPS = [2_000, 3_000]

# The three agencies whose workers are measured, and what each is asked on (fixed for the whole run).
MEASURED = {"small": ("g4s-sarc", 50), "medium": ("essex-probation", 500), "large": ("essex-police", 5_000)}
N_MEASURED = max(n for _, n in MEASURED.values())
SMOKE_DIVISOR = 10  # --smoke: the measured agencies are asked on 5, 50 and 500 enquiries
PAGE = 50


# --- The database ----------------------------------------------------------------------------------

def recreate_database(url: str, create: bool = True, durable: bool = True) -> None:
    """Drop the benchmark's database, and (unless create is false) make it again, empty. Not durable
    (--smoke, where no time is judged): commits do not wait for the disk, which makes migrating faster."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to drop the database '{name}': the benchmark's database name must contain "
                         "'bench' (set MASH_BENCH_POSTGRES_URL)")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        if create and not durable:
            conn.execute(sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(sql.Identifier(name)))


def smoke_url() -> str | None:
    """--smoke without MASH_BENCH_POSTGRES_URL: <database>_smoke_bench on MASH_DATABASE_URL's server, if that
    is PostgreSQL (never the database itself); None when it is not."""
    parts = urlsplit(os.environ.get("MASH_DATABASE_URL", ""))
    if not parts.scheme.startswith("postgres"):
        return None
    return urlunsplit(parts._replace(path=f"/{parts.path.lstrip('/')[:40]}_smoke_bench"))


def setup_django(url: str) -> None:
    os.environ["MASH_DATABASE_URL"] = url
    # The bench database's keyring, audit signing key and secret key are as throwaway as it is: a folder
    # of their own, never the checkout's var/ (unless MASH_VAR_DIR says where).
    if "MASH_VAR_DIR" not in os.environ:
        import atexit
        import shutil
        import tempfile

        var = tempfile.mkdtemp(prefix="mash-bench-var-")
        atexit.register(shutil.rmtree, var, ignore_errors=True)
        os.environ["MASH_VAR_DIR"] = var
    os.environ["MASH_DEBUG"] = "0"
    # As in production: a session reaches the API only once it has given its second factor.
    os.environ["MASH_DEMO_MODE"] = "0"
    os.environ["DJANGO_SETTINGS_MODULE"] = "mash.settings"
    import django
    from django.conf import settings

    django.setup()
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS.append("testserver")
    assert not settings.DEBUG, "DEBUG must be off: Django keeps every query in memory with it on"
    assert settings.MASH_TWO_FACTOR_REQUIRED, "two-factor sign-in must be required, as outside demo mode"


# Every NOT NULL column without a database default of each table this script fills, as the INSERTs
# below fill them. Checked against the migrated schema, so that a new column fails here, clearly.
FILLED_COLUMNS = {
    "people_person": {"first_name", "last_name", "other_names", "date_of_birth", "gender", "nhs_number", "upn",
                      "address_line_1", "address_line_2", "town", "postcode", "created_at", "created_by_id",
                      "date_of_birth_estimated", "unborn"},
    "cases_contact": {"received_at", "recorded_at", "reporter_type", "reporter_name", "reporter_organisation",
                      "reporter_phone", "reporter_email", "concern", "concern_categories", "consent_at_intake",
                      "consent_notes", "child_id", "recorded_by_id"},
    "cases_enquiry": {"reference", "state", "rag", "decision_due_at", "created_at", "child_id", "contact_id",
                      "decided_at"},
    "cases_enquiryassignment": {"assigned_at", "ended_at", "assigned_by_id", "ended_by_id", "enquiry_id",
                                "user_id"},
    "sharing_informationrequest": {"question", "requested_at", "status", "enquiry_id", "partner_id",
                                   "requested_by_id"},
    "sharing_contribution": {"version", "amendment_reason", "kind", "decision_reason", "lawful_basis",
                             "confidential_reason", "contributed_at", "contributed_by_id", "enquiry_id",
                             "isa_version_id", "partner_id", "supersedes_id", "request_id", "unsealed"},
    "sharing_contributionitem": {"category", "content", "relevance_note", "occurred_on", "confidentiality",
                                 "isa_clause", "contribution_id"},
}


def check_schema(cursor) -> None:
    missing = []
    for table, filled in FILLED_COLUMNS.items():
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'",
            [table])
        for (column,) in cursor.fetchall():
            if column not in filled:
                missing.append(f"{table}.{column}")
    if missing:
        raise SystemExit("the schema has NOT NULL columns this benchmark does not fill: " + ", ".join(missing)
                         + "\nadd them to FILLED_COLUMNS and to the INSERTs in bench/queue_postgres.py")


# --- Filling it, in SQL ----------------------------------------------------------------------------
#
# People, contacts and enquiries share their id (g). Enquiries 1..5,000 are the measured agencies':
# the large agency is asked on all of them, the medium one on 1..500, the small one on 1..50; the
# enquiry's state follows g % 10. Every later enquiry (5,001 on) is background: asked of four of the
# ten other agencies, never of the measured three, and mostly decided and closed long ago, as a hub's
# history is. Each answered request has a contribution; every tenth a second version (an amendment),
# every tenth contribution an item.

PEOPLE_SQL = """
INSERT INTO people_person (id, first_name, last_name, other_names, date_of_birth, gender, nhs_number, upn,
                           address_line_1, address_line_2, town, postcode, created_at, created_by_id,
                           date_of_birth_estimated, unborn)
SELECT g, (ARRAY['Amelia','Oliver','Isla','Noah','Ava','Leo','Mia','Arlo','Freya','Theo','Ivy','Finley'])[1 + g %% 12],
       (ARRAY['Exampleton','Sampleford','Mockridge','Testwood','Placeholm','Fictionby','Demoley'])[1 + g %% 7],
       '', DATE '2008-01-01' + (g %% 6000), CASE WHEN g %% 2 = 0 THEN 'female' ELSE 'male' END, '', '',
       (1 + g %% 120) || ' Sample Street', '', 'Grays', 'RM17 6SL', %(now)s, %(manager)s, false, false
FROM generate_series(%(first)s, %(last)s) AS g
"""

# An enquiry's dates and state, from g. Measured (g <= 5000) and background follow different patterns.
ENQUIRY_SHAPE = """
WITH shape AS (
  SELECT g,
    CASE WHEN g <= %(n_measured)s THEN
      CASE WHEN g %% 10 IN (0, 1, 2) THEN 'gathering' WHEN g %% 10 = 3 THEN 'ready_for_decision'
           WHEN g %% 10 IN (4, 5) THEN 'decided' ELSE 'closed' END
    ELSE
      CASE WHEN g %% 50 = 0 THEN 'awaiting_rating' WHEN g %% 50 IN (1, 2, 3) THEN 'gathering'
           WHEN g %% 50 = 4 THEN 'ready_for_decision' WHEN g %% 50 BETWEEN 5 AND 9 THEN 'decided' ELSE 'closed' END
    END AS state
  FROM generate_series(%(first)s, %(last)s) AS g
), dated AS (
  SELECT g, state,
    CASE WHEN state IN ('awaiting_rating', 'gathering', 'ready_for_decision') THEN NULL
         WHEN g <= %(n_measured)s AND state = 'decided' THEN %(now)s - ((g %% 27) * INTERVAL '1 day') - INTERVAL '1 hour'
         WHEN g <= %(n_measured)s THEN %(now)s - ((60 + g %% 900) * INTERVAL '1 day')
         WHEN state = 'decided' THEN %(now)s - ((g %% 120) * INTERVAL '1 day') - INTERVAL '1 hour'
         ELSE %(now)s - ((30 + g %% 1500) * INTERVAL '1 day') END AS decided_at
  FROM shape
)
SELECT g, state, decided_at,
       COALESCE(decided_at - INTERVAL '3 days', %(now)s - ((g %% 30) * INTERVAL '1 hour')) AS created_at
FROM dated
"""

# Encrypted columns (docs/encryption.md) are left empty: a non-empty one must hold a ciphertext made
# for its row, which SQL cannot make. The listings time the gate's queries, not decryption.
CONTACTS_SQL = """
INSERT INTO cases_contact (id, received_at, recorded_at, reporter_type, reporter_name, reporter_organisation,
                           reporter_phone, reporter_email, concern, concern_categories, consent_at_intake,
                           consent_notes, child_id, recorded_by_id)
SELECT g, created_at - INTERVAL '1 hour', created_at, 'school', '', 'Sample Primary School', '', '',
       '', '["neglect"]'::jsonb, 'given', '', g, %(manager)s
FROM (""" + ENQUIRY_SHAPE + """) AS e
"""

ENQUIRIES_SQL = """
INSERT INTO cases_enquiry (id, reference, state, rag, decision_due_at, created_at, child_id, contact_id, decided_at)
SELECT g, 'MASH-2026-' || lpad(g::text, 7, '0'), state,
       CASE WHEN state = 'awaiting_rating' THEN '' ELSE (ARRAY['red','amber','green'])[1 + g %% 3] END,
       CASE WHEN state = 'awaiting_rating' THEN NULL ELSE created_at + ((4 + g %% 72) * INTERVAL '1 hour') END,
       created_at, g, g, decided_at
FROM (""" + ENQUIRY_SHAPE + """) AS e
"""

MEASURED_REQUESTS_SQL = """
INSERT INTO sharing_informationrequest (question, requested_at, status, enquiry_id, partner_id, requested_by_id)
SELECT '', e.created_at + INTERVAL '1 hour' + (a.n * INTERVAL '1 minute'),
       CASE WHEN e.state = 'gathering' AND (e.id / 10) %% 2 = 0 THEN 'open'
            WHEN e.state = 'gathering' OR e.state = 'ready_for_decision' THEN 'answered'
            WHEN e.id %% 7 = 0 THEN 'lapsed' ELSE 'answered' END,
       e.id, a.partner_id, %(manager)s
FROM cases_enquiry e
JOIN (VALUES (%(large)s::bigint, %(n_large)s::int, 0), (%(medium)s, %(n_medium)s, 1), (%(small)s, %(n_small)s, 2))
     AS a(partner_id, upto, n) ON e.id <= a.upto
WHERE e.id <= %(n_measured)s
"""

BACKGROUND_REQUESTS_SQL = """
INSERT INTO sharing_informationrequest (question, requested_at, status, enquiry_id, partner_id, requested_by_id)
SELECT '', e.created_at + INTERVAL '1 hour' + (j * INTERVAL '1 minute'),
       CASE WHEN e.state = 'gathering' AND j %% 2 = 0 THEN 'open'
            WHEN e.state IN ('gathering', 'ready_for_decision') THEN 'answered'
            WHEN (e.id + j) %% 9 = 0 THEN 'lapsed' ELSE 'answered' END,
       e.id, (%(background)s::bigint[])[1 + (e.id + j) %% cardinality(%(background)s::bigint[])], %(manager)s
FROM cases_enquiry e CROSS JOIN generate_series(0, 3) AS j
WHERE e.id BETWEEN %(first)s AND %(last)s AND e.state <> 'awaiting_rating'
"""

CONTRIBUTIONS_SQL = """
INSERT INTO sharing_contribution (version, amendment_reason, kind, decision_reason, lawful_basis, confidential_reason,
                                  contributed_at, contributed_by_id, enquiry_id, isa_version_id, partner_id,
                                  supersedes_id, request_id, unsealed)
SELECT 1, '', k.kind, '',
       CASE k.kind WHEN 'share' THEN 'uk-gdpr-6-1-e' WHEN 'confidential_held' THEN 'dpa-2018-part-3' ELSE '' END,
       CASE k.kind WHEN 'confidential_held' THEN 'ongoing_investigation' ELSE '' END,
       r.requested_at + INTERVAL '2 hours', w.user_id, r.enquiry_id, %(isa)s, r.partner_id, NULL, r.id, false
FROM sharing_informationrequest r
JOIN bench_worker w ON w.partner_id = r.partner_id
CROSS JOIN LATERAL (SELECT CASE WHEN r.id %% 10 < 7 THEN 'share' WHEN r.id %% 10 < 9 THEN 'decline'
                                ELSE 'confidential_held' END AS kind) AS k
WHERE r.enquiry_id BETWEEN %(first)s AND %(last)s AND r.status = 'answered'
"""

AMENDMENTS_SQL = """
INSERT INTO sharing_contribution (version, amendment_reason, kind, decision_reason, lawful_basis, confidential_reason,
                                  contributed_at, contributed_by_id, enquiry_id, isa_version_id, partner_id,
                                  supersedes_id, request_id, unsealed)
SELECT 2, '', c.kind, c.decision_reason, c.lawful_basis, c.confidential_reason,
       c.contributed_at + INTERVAL '1 day', c.contributed_by_id, c.enquiry_id, c.isa_version_id, c.partner_id,
       c.id, c.request_id, false
FROM sharing_contribution c
WHERE c.enquiry_id BETWEEN %(first)s AND %(last)s AND c.version = 1 AND c.request_id %% 10 = 3
"""

ITEMS_SQL = """
INSERT INTO sharing_contributionitem (category, content, relevance_note, occurred_on, confidentiality, isa_clause,
                                      contribution_id)
SELECT 'police_incidents', '', '',
       NULL, CASE WHEN c.id %% 30 = 0 THEN 'restricted' ELSE 'normal' END, '5.1', c.id
FROM sharing_contribution c
WHERE c.enquiry_id BETWEEN %(first)s AND %(last)s AND c.kind = 'share' AND c.id %% 10 = 0
"""

ASSIGNMENTS_SQL = """
INSERT INTO cases_enquiryassignment (assigned_at, ended_at, assigned_by_id, ended_by_id, enquiry_id, user_id)
SELECT %(now)s - INTERVAL '1 day', CASE WHEN ended THEN %(now)s - INTERVAL '1 hour' END, %(manager)s,
       CASE WHEN ended THEN %(manager)s END, enquiry_id, user_id
FROM (VALUES {values}) AS a(enquiry_id, user_id, ended)
"""


def fill_enquiries(cursor, first: int, last: int, params: dict) -> None:
    p = dict(params, first=first, last=last)
    cursor.execute(PEOPLE_SQL, p)
    cursor.execute(CONTACTS_SQL, p)
    cursor.execute(ENQUIRIES_SQL, p)


def fill_answers(cursor, first: int, last: int, params: dict) -> None:
    p = dict(params, first=first, last=last)
    cursor.execute(CONTRIBUTIONS_SQL, p)
    cursor.execute(AMENDMENTS_SQL, p)
    cursor.execute(ITEMS_SQL, p)


def reset_sequences(cursor) -> None:
    for table in ("people_person", "cases_contact", "cases_enquiry"):
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def count(cursor, table: str) -> int:
    cursor.execute(f"SELECT count(*) FROM {table}")
    return cursor.fetchone()[0]


def vacuum_analyze(cursor) -> None:
    for table in ("people_person", "cases_contact", "cases_enquiry", "cases_enquiryassignment",
                  "sharing_informationrequest", "sharing_contribution", "sharing_contributionitem",
                  "accounts_user", "django_session"):
        cursor.execute(f"VACUUM (ANALYZE) {table}")


# --- Measuring --------------------------------------------------------------------------------------

def _ordered_queue(qs):
    from django.db.models import Case, F, IntegerField, Value, When

    from mash.cases.states import OPEN_STATES, EnquiryState

    return (qs.filter(state__in=OPEN_STATES)
            .annotate(awaiting=Case(When(state=EnquiryState.AWAITING_RATING, then=Value(0)), default=Value(1),
                                    output_field=IntegerField()))
            .order_by("awaiting", F("decision_due_at").asc(nulls_last=True), "contact__received_at", "pk"))


def _open_first(qs):
    from django.db.models import Case, IntegerField, Value, When

    from mash.sharing.models import RequestStatus

    return (qs.annotate(open_first=Case(When(status=RequestStatus.OPEN, then=Value(0)), default=Value(1),
                                        output_field=IntegerField()))
            .order_by("open_first", "-requested_at", "id"))


def queries(user):
    """The listings as the app makes them (cases/api.py list_enquiries, sharing/views.py requests), through
    the gate. For a manager, the first page of each: (the page, the whole of what they may see)."""
    from mash.accounts.models import Role
    from mash.cases import selectors as cases
    from mash.sharing import selectors as sharing
    from mash.sharing.models import RequestStatus

    enquiries = _ordered_queue(cases.enquiries(user))
    requests = sharing.information_requests(user)
    if user.role == Role.MASH_MANAGER:
        requests = requests.filter(status=RequestStatus.OPEN).order_by("requested_at", "id")
        return {"enquiry queue": enquiries[:PAGE], "requests page": requests[:PAGE]}, \
               {"enquiry queue": enquiries, "requests page": requests}
    return {"enquiry queue": enquiries, "requests page": _open_first(requests)}, None


def or_exists_queries(user, window_days: int):
    """The EARLIER form of filters.enquiry_filter / request_filter for a worker, for comparison only.

    Until commit 335f8da the gate joined a worker's links with OR between EXISTS sub-queries; src/ now
    puts each link's ids in one `pk IN (... UNION ...)` (filters._in_any). This is the earlier code, Q for
    Q (its leading `Q(pk__in=[])` compiles to nothing inside an OR), with the real listings' ordering,
    so the two forms can be timed side by side on the same data and must return the same rows:

        enquiries: EXISTS (assignment of this user, not ended) OR (EXISTS (request to the agency) AND window)
        requests:  EXISTS (assignment of this user on its enquiry, not ended) OR (own agency AND window)

    The window is on the enquiry's decided_at (none yet, or within the ISA's asked-agency days)."""
    from django.db.models import Exists, OuterRef, Q
    from django.utils import timezone

    from mash.cases.models import Enquiry, EnquiryAssignment
    from mash.sharing.models import InformationRequest

    cutoff = timezone.now() - dt.timedelta(days=window_days)

    def window(prefix=""):
        return Q(**{f"{prefix}decided_at__isnull": True}) | Q(**{f"{prefix}decided_at__gte": cutoff})

    def assigned(enquiry_ref):
        return Exists(EnquiryAssignment.objects.filter(enquiry=OuterRef(enquiry_ref), user_id=user.pk,
                                                       ended_at__isnull=True))

    asked = Exists(InformationRequest.objects.filter(enquiry=OuterRef("pk"), partner_id=user.partner_id))
    enquiry_q = Q(pk__in=[])
    enquiry_q |= Q(assigned("pk"))
    enquiry_q |= Q(asked) & window()
    request_q = Q(pk__in=[])
    request_q |= Q(assigned("enquiry_id"))
    request_q |= Q(partner_id=user.partner_id) & window("enquiry__")
    enquiries = Enquiry.objects.select_related("child", "contact").filter(enquiry_q)
    requests = (InformationRequest.objects.select_related("enquiry", "enquiry__child", "partner", "requested_by")
                .filter(request_q))
    return {"enquiry queue": _ordered_queue(enquiries), "requests page": _open_first(requests)}


EARLIER = " [earlier OR-of-EXISTS form]"
# The index src/ added for a manager's page of open requests (sharing migration 0003).
MANAGER_INDEX = "request_status_age"


def in_request(fn):
    """Run `fn` as a request runs it: its reads are noted in the audit log's request context and written
    as one event at the end (outside a request each row read would be its own event, as for a command)."""
    from django.test import RequestFactory

    from mash.audit import services as audit

    def run():
        token = audit.begin_request(RequestFactory().get("/bench/"))
        try:
            result = fn()
            audit.flush_request(audit.current())
            return result
        finally:
            audit.end_request(token)

    return run


def time_it(fn, runs: int) -> tuple[float, list[float]]:
    fn = in_request(fn)
    fn()  # warm-up: plan cache, buffers, Python imports
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), samples


def explain(qs) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of a queryset: execution time, and a one-line-per-node summary."""
    from django.db import connection

    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        doc = cursor.fetchone()[0]
    if isinstance(doc, str):
        doc = json.loads(doc)
    top = doc[0]
    nodes, lines = [], []

    def walk(node, depth):
        what = node["Node Type"]
        if node.get("Index Name"):
            what += f" using {node['Index Name']}"
        if node.get("Relation Name"):
            what += f" on {node['Relation Name']}"
        if node.get("Subplan Name"):
            what = f"[{node['Subplan Name']}] " + what
        loops = node.get("Actual Loops", 1)
        hit = node.get("Shared Hit Blocks", 0) + node.get("Shared Read Blocks", 0)
        nodes.append({"node": node["Node Type"], "relation": node.get("Relation Name"),
                      "index": node.get("Index Name"), "rows": node.get("Actual Rows"), "loops": loops,
                      "removed_by_filter": node.get("Rows Removed by Filter", 0), "buffers": hit,
                      "ms": node.get("Actual Total Time")})
        extra = f", {node['Rows Removed by Filter']:,} removed by filter" if node.get("Rows Removed by Filter") else ""
        lines.append(f"{'  ' * depth}{what} (rows={node.get('Actual Rows'):,} loops={loops:,}{extra}, "
                     f"buffers={hit:,})")
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(top["Plan"], 0)
    return {"execution_ms": top["Execution Time"], "planning_ms": top["Planning Time"], "nodes": nodes,
            "lines": lines, "sql": connection.ops.compose_sql(sql, params)}


def big_seq_scans(plan: dict, sizes: dict[str, int], threshold: int = 20_000) -> list[str]:
    """Sequential scans of tables of `threshold` rows or more: reads that grow with the table."""
    return [f"Seq Scan on {n['relation']} (a table of {sizes.get(n['relation'], 0):,} rows; "
            f"{n['rows'] * (n['loops'] or 1):,} kept, {n['removed_by_filter'] * (n['loops'] or 1):,} read and "
            "thrown away)"
            for n in plan["nodes"] if n["node"] == "Seq Scan" and sizes.get(n["relation"], 0) >= threshold]


def table_sizes(cursor) -> dict[str, int]:
    cursor.execute("SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r' "
                   "AND relnamespace = 'public'::regnamespace")
    return {name: max(rows, 0) for name, rows in cursor.fetchall()}


def measure_listing(who, what, qs, runs, sizes, visible=None, compare_with=None) -> dict:
    rows = in_request(lambda: list(qs.all()))()  # in a request's audit context, as time_it's runs are
    median, samples = time_it(lambda: list(qs.all()), runs)
    plan = explain(qs)
    out = {"who": who, "what": what, "visible_rows": len(rows) if visible is None else visible,
           "rows_returned": len(rows), "median_ms": median, "runs_ms": samples,
           "db_execution_ms": plan["execution_ms"], "plan": plan["lines"],
           "seq_scans_on_big_tables": big_seq_scans(plan, sizes), "sql": plan["sql"]}
    if compare_with is not None:
        out["same_rows_as_gate"] = [r.pk for r in rows] == list(compare_with)
    return out


API_ENQUIRIES, API_REQUESTS = "/api/v1/enquiries", "/api/v1/information-requests"
API_LIMIT = 100  # the API's default page


def api_get(client, url: str, username: str):
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code} for {username}: {response.content[:300]!r}"
                         + (" (the session is not signed in, or has not given its second factor; or it sat idle "
                            "longer than MASH_IDLE_TIMEOUT_MINUTES)" if response.status_code == 401 else ""))
    return response


def authenticator_code(device) -> str:
    """The code an authenticator app shows now for this device's key."""
    from django_otp.oath import totp

    return str(totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits,
                    drift=device.drift)).zfill(device.digits)


def sign_in(user, password: str):
    """A test client signed in as a person is outside demo mode: the sign-in page (password), then, at this
    first sign-in, the set-up page (the authenticator app: a code from the key the page shows). Checks that
    the API refuses the session until the code is given, and knows the user after."""
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    response = client.post("/login/", {"username": user.username, "password": password})
    if response.status_code != 302 or response["Location"].startswith("/login/"):
        raise SystemExit(f"signing in as {user.username} with a password failed ({response.status_code})")
    django_request = logging.getLogger("django.request")
    level = django_request.level
    django_request.setLevel(logging.ERROR)  # the 401 expected here is not news
    try:
        refused = client.get(API_ENQUIRIES).status_code
    finally:
        django_request.setLevel(level)
    if refused != 401:
        raise SystemExit(f"the API answered {refused}, not 401, to a session that has not given its second "
                         "factor: is two-factor sign-in off?")
    setup = "/account/two-factor/setup/"
    if client.get(setup).status_code != 200:
        raise SystemExit(f"the authenticator set-up page did not open for {user.username}")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(setup, {"code": authenticator_code(device)})
    if response.status_code != 200 or b"backup code" not in response.content.lower():
        raise SystemExit(f"setting up {user.username}'s authenticator app failed ({response.status_code})")
    me = api_get(client, "/api/v1/me", user.username).json()
    if me.get("username") != user.username:
        raise SystemExit(f"signed in as {user.username}, the API says {me.get('username')!r}")
    return client


def measure_step(users: dict, clients: dict, runs: int, window_days: int, earlier: bool) -> list[dict]:
    from django.db import connection

    from mash.accounts.models import Role
    from mash.cases import selectors as cases
    from mash.cases.states import OPEN_STATES
    from mash.sharing import selectors as sharing

    out = []
    with connection.cursor() as cursor:
        sizes = table_sizes(cursor)
    for who, user in users.items():
        timed_qs, full_qs = queries(user)
        empty = [what for what, qs in timed_qs.items() if not qs.exists()]
        if empty:
            raise SystemExit(f"{who} ({user.username}) may see nothing in: {', '.join(empty)}. The gate refuses "
                             "them (their training? the ISA?), and an empty listing measures nothing")
        for what, qs in timed_qs.items():
            visible = full_qs[what].count() if full_qs else None
            out.append(measure_listing(who, what, qs, runs, sizes, visible))
        # The API's lists are paged (limit, default 100; X-Total-Count says how many there are in all):
        # time the first page, as a client would fetch it, in the user's signed-in session. 'visible' is
        # X-Total-Count, which must be what the gate gives the user.
        client = clients[who]
        expected = {API_ENQUIRIES: cases.enquiries(user).filter(state__in=OPEN_STATES).count(),
                    API_REQUESTS: sharing.information_requests(user).count()}
        for what, url in (("API /api/v1/enquiries (first page)", API_ENQUIRIES),
                          ("API /api/v1/information-requests (first page)", API_REQUESTS)):
            response = api_get(client, url, user.username)
            if "X-Total-Count" not in response.headers:
                raise SystemExit(f"{url} sent no X-Total-Count header: this script expects the paged API")
            returned, total = len(response.json()), int(response.headers["X-Total-Count"])
            if total != expected[url] or returned != min(total, API_LIMIT):
                raise SystemExit(f"{url} for {user.username}: X-Total-Count {total} and {returned} rows, but the "
                                 f"gate gives {expected[url]} (a page of at most {API_LIMIT})")
            median, samples = time_it(lambda url=url: api_get(client, url, user.username), runs)
            out.append({"who": who, "what": what, "visible_rows": total, "rows_returned": returned,
                        "median_ms": median, "runs_ms": samples, "api": True})
        if earlier and user.role != Role.MASH_MANAGER:
            for what, qs in or_exists_queries(user, window_days).items():
                gate_rows = [r.pk for r in in_request(lambda qs=timed_qs[what]: list(qs.all()))()]
                out.append(dict(measure_listing(who, what + EARLIER, qs, runs, sizes, compare_with=gate_rows),
                                earlier=True))
    return out


# --- The run ----------------------------------------------------------------------------------------

def make_users():
    from mash.accounts.models import Role
    from mash.accounts.services import create_user
    from mash.partners import services as isa
    from mash.partners.models import Partner

    # Made up for this run: each measured user signs in with it (the others never sign in, and hashing a
    # password is slow on purpose).
    password = secrets.token_urlsafe(18)
    measured = {slug for slug, _ in MEASURED.values()}
    manager = create_user(username="bench-manager", role=Role.MASH_MANAGER, password=password, first_name="Bench",
                          last_name="Manager")
    workers = {}
    for partner in isa.signatories().order_by("slug"):
        workers[partner.slug] = create_user(username=f"bench-worker-{partner.slug}", role=Role.MASH_WORKER,
                                            password=password if partner.slug in measured else None,
                                            first_name="Bench", last_name=f"Worker {partner.slug}", partner=partner)
    # A current training refresher each, or the gate would refuse them everything (docs/training.md).
    from django.utils import timezone

    from mash.training.models import TrainingRecord

    TrainingRecord.objects.bulk_create(
        TrainingRecord(user=u, course="Bench refresher", completed_on=timezone.localdate(), evidence_reference="BENCH")
        for u in [manager, *workers.values()])
    partners = {p.slug: p.pk for p in Partner.objects.all()}
    return manager, workers, partners, password


def main(argv=None):
    global MEASURED, N_MEASURED
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10k and 100k contributions only")
    parser.add_argument("--steps", help="contributions at each step, comma-separated (e.g. 10000,50000)")
    parser.add_argument("--runs", type=int, help="timed runs of each listing; the median is reported (default 7)")
    parser.add_argument("--no-earlier", action="store_true",
                        help="skip the earlier OR-of-EXISTS form of the workers' filters (measured beside the "
                             "gate's queries, for comparison)")
    parser.add_argument("--output", help="default bench/results/queue_postgres.json (none with --smoke)")
    parser.add_argument("--smoke", action="store_true",
                        help=f"{' and '.join(f'{n:,}' for n in SMOKE_STEPS)} contributions, the measured agencies asked "
                             f"on a tenth as many enquiries, one run each: checks that the benchmark still runs and "
                             "its checks hold, in seconds; no figure means anything")
    args = parser.parse_args(argv)
    steps = ([int(s) for s in args.steps.split(",")] if args.steps else SMOKE_STEPS if args.smoke
             else QUICK_STEPS if args.quick else FULL_STEPS)
    if args.runs is None:
        args.runs = 1 if args.smoke else 7
    if args.smoke:
        MEASURED = {k: (slug, n // SMOKE_DIVISOR) for k, (slug, n) in MEASURED.items()}
        N_MEASURED = max(n for _, n in MEASURED.values())
    if args.output is None and not args.smoke:
        args.output = str(RESULTS / "queue_postgres.json")
    url = os.environ.get("MASH_BENCH_POSTGRES_URL") or (smoke_url() if args.smoke else DEFAULT_URL)
    if url is None:
        print("SKIPPED: needs PostgreSQL: neither MASH_BENCH_POSTGRES_URL nor MASH_DATABASE_URL names a "
              "PostgreSQL server (it runs in the PostgreSQL pass of make test)")
        return
    source = source_state()
    if source["gate_files_differing_from_head"]:
        print("NOTE: the working tree's gate is measured, not the last commit's: "
              f"{', '.join(source['gate_files_differing_from_head'])} not as committed.")
    started = time.perf_counter()

    print(f"Database {urlsplit(url)._replace(netloc=urlsplit(url).hostname or '').geturl()}: "
          "dropping and creating it, migrating, loading the ISA...", flush=True)
    recreate_database(url, durable=not args.smoke)
    if args.smoke:  # a smoke run leaves nothing behind, whether it passes or stops with an error
        import atexit

        atexit.register(recreate_database, url, create=False)
    setup_django(url)
    if args.smoke:
        from django.conf import settings as django_settings

        # As the tests do (src/mash/conftest.py): a password hash made to be slow is not what a smoke run tests.
        django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    from mash.partners import services as isa

    call_command("migrate", verbosity=0, interactive=False)
    isa_version, _ = isa.load_file(settings.MASH_ISA_FILE)
    window_days = isa.current()[1].after_decision.asked_agency_access_days
    from mash.access import filters
    if filters.after_decision_days() != window_days:
        raise SystemExit(f"the gate's window ({filters.after_decision_days()} days) is not the ISA's ({window_days})")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [MANAGER_INDEX])
        found = cursor.fetchone()
    if found is None:
        print(f"NOTE: index {MANAGER_INDEX} is not in the migrated schema: the manager's requests page is "
              "measured without it.")
    manager, workers, partners, password = make_users()
    measured_ids = {size: partners[slug] for size, (slug, _) in MEASURED.items()}
    measured_users = {size: workers[slug] for size, (slug, _) in MEASURED.items()}
    background = sorted(pid for slug, pid in partners.items() if pid not in measured_ids.values()
                        and slug in workers)
    from django.utils import timezone
    now = timezone.now()
    params = {"now": now, "manager": manager.pk, "isa": isa_version.pk, "n_measured": N_MEASURED,
              "background": background, **{k: v for k, v in measured_ids.items()},
              **{f"n_{k}": n for k, (_, n) in MEASURED.items()}}

    with connection.cursor() as cursor:
        check_schema(cursor)
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("CREATE TABLE bench_worker (partner_id bigint PRIMARY KEY, user_id bigint NOT NULL)")
        cursor.executemany("INSERT INTO bench_worker VALUES (%s, %s)",
                           [(u.partner_id, u.pk) for u in workers.values()])

    results = {"benchmark": "queue_postgres", "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
               "versions": {"python": platform.python_version(), "django": django_version(),
                            "postgresql": server_version()},
               "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
               "source": source, "manager_index": found[0] if found else None,
               "window_days": window_days, "runs_per_measurement": args.runs,
               "measured_agencies": {k: {"partner": slug, "asked_on": n} for k, (slug, n) in MEASURED.items()},
               "steps": []}
    users = {f"worker ({k}: {MEASURED[k][0]})": u for k, u in measured_users.items()}
    users["manager"] = manager
    # Signed in once, before the tables fill: each session stays signed in while it is used.
    clients = {who: sign_in(user, password) for who, user in users.items()}
    print(f"Signed in with a password and an authenticator code: {', '.join(u.username for u in users.values())}",
          flush=True)

    next_id = 1
    baseline_visible = None
    disagreements = []
    for target in steps:
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            if next_id == 1:
                # The measured agencies' enquiries, and a few assignments (one ended: it must not count).
                fill_enquiries(cursor, 1, N_MEASURED, params)
                cursor.execute(MEASURED_REQUESTS_SQL, params)
                fill_answers(cursor, 1, N_MEASURED, params)
                small, medium, large = (measured_users[k].pk for k in ("small", "medium", "large"))
                # Enquiries the small and medium agencies are not asked on (4001-4015 of 5,000).
                a = N_MEASURED * 4 // 5
                rows = ([(e, small, False) for e in range(a + 1, a + 11)]
                        + [(e, medium, False) for e in range(a + 11, a + 16)] + [(a + 20, large, True)])
                cursor.execute(ASSIGNMENTS_SQL.format(values=", ".join(f"({e}, {u}, {str(x).lower()})"
                                                                        for e, u, x in rows)), params)
                next_id = N_MEASURED + 1
            # Background enquiries until the contributions reach the target: estimate, fill, top up.
            have = count(cursor, "sharing_contribution")
            per_enquiry = 3.6
            while have < target * 0.999:
                batch = max(1, math.ceil((target - have) / per_enquiry))
                fill_enquiries(cursor, next_id, next_id + batch - 1, params)
                cursor.execute(BACKGROUND_REQUESTS_SQL, dict(params, first=next_id, last=next_id + batch - 1))
                fill_answers(cursor, next_id, next_id + batch - 1, params)
                now_have = count(cursor, "sharing_contribution")
                per_enquiry = max(0.5, (now_have - have) / batch)
                have, next_id = now_have, next_id + batch
            reset_sequences(cursor)
        with connection.cursor() as cursor:
            vacuum_analyze(cursor)
            counts = {t: count(cursor, t) for t in ("sharing_contribution", "sharing_contributionitem",
                                                     "sharing_informationrequest", "cases_enquiry",
                                                     "cases_enquiryassignment", "people_person")}
            cursor.execute("SELECT count(*) FROM cases_enquiry WHERE state IN "
                           "('awaiting_rating', 'gathering', 'ready_for_decision')")
            counts["open_enquiries"] = cursor.fetchone()[0]
        load_s = time.perf_counter() - t0
        print(f"\n== {counts['sharing_contribution']:,} contributions ({counts['sharing_contributionitem']:,} items), "
              f"{counts['sharing_informationrequest']:,} requests, {counts['cases_enquiry']:,} enquiries "
              f"({counts['open_enquiries']:,} open); loaded in {load_s:.1f} s", flush=True)

        t0 = time.perf_counter()
        rows = measure_step(users, clients, args.runs, window_days, earlier=not args.no_earlier)
        print_step(rows)
        print(f"   (measured in {time.perf_counter() - t0:.1f} s)", flush=True)
        visible = {(r["who"], r["what"]): r["visible_rows"] for r in rows if r["who"] != "manager"}
        wrong = [f"{r['who']}: {r['what']}" for r in rows if r.get("same_rows_as_gate") is False]
        if wrong:
            disagreements.extend(f"{counts['sharing_contribution']:,} contributions: {w}" for w in wrong)
            print("   NOTE: the earlier form did not return exactly the gate's rows, in its order: " + "; ".join(wrong))
        if baseline_visible is None:
            baseline_visible = visible
        elif visible != baseline_visible:
            raise SystemExit(f"the workers' visible rows changed as the table grew: {baseline_visible} -> {visible}")
        results["steps"].append({"contributions": counts["sharing_contribution"], "counts": counts,
                                 "load_seconds": load_s, "measurements": rows})

    verdict = report(results, steps)
    verdict["earlier_form_disagreements"] = disagreements
    results["verdict"] = verdict
    results["total_seconds"] = time.perf_counter() - started
    results["smoke"] = args.smoke
    text = json.dumps(results, indent=2, default=str) + "\n"
    if args.output is None:
        print(f"\nSMOKE: sizes too small for the figures or the verdict to mean anything; no JSON written "
              f"(--output to write it). Total {results['total_seconds']:.1f} s")
    else:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(f"\nWritten to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} "
              f"(total {results['total_seconds']:.0f} s)")
    connection.close()
    if disagreements:
        raise SystemExit("the earlier OR-of-EXISTS form and the gate returned different rows:\n  "
                         + "\n  ".join(disagreements))


# The files that make up the gate the listings are measured through: the rules, the rules as SQL, the gate
# itself, and the selectors the listings call (cases.selectors.enquiries, sharing.selectors.information_requests).
GATE_FILES = ("src/mash/access/rules.py", "src/mash/access/filters.py", "src/mash/access/gate.py",
              "src/mash/cases/selectors.py", "src/mash/sharing/selectors.py")


def source_state() -> dict:
    """Which code was measured: the commit, each of the gate's files as measured (its blob) and those that
    differ from the commit (read-only git)."""
    import subprocess

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    blobs, differing = {}, []
    for path in GATE_FILES:
        committed, working = git("rev-parse", f"HEAD:{path}"), git("hash-object", path)
        blobs[path] = working
        if working is not None and committed != working:  # a file not yet in the commit differs too
            differing.append(path)
    head = git("rev-parse", "HEAD")
    return {"git_head": head, "gate_file_blobs": blobs,
            "gate_files_differing_from_head": differing if head is not None else None}


def django_version() -> str:
    import django

    return django.get_version()


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def print_step(rows: list[dict]) -> None:
    print(f"   {'who':<34} {'listing':<56} {'visible':>8} {'median ms':>10} {'db ms':>8}")
    for r in rows:
        db = f"{r['db_execution_ms']:.2f}" if "db_execution_ms" in r else ""
        what = r["what"] + (f" (first {PAGE})" if r["who"] == "manager" and not r.get("api") else "")
        print(f"   {r['who']:<34} {what:<56} {r['visible_rows']:>8,} {r['median_ms']:>10.2f} {db:>8}")


def _grows(ms: list[float]) -> bool:
    """More than 2x and by more than 2 ms from the smallest table to the largest."""
    return len(ms) > 1 and ms[-1] > 2 * ms[0] and ms[-1] - ms[0] > 2


def report(results: dict, steps: list[int]) -> dict:
    last = results["steps"][-1]
    key = lambda r: (r["who"], r["what"])  # noqa: E731
    by_step = [{key(r): r for r in s["measurements"]} for s in results["steps"]]
    series = lambda k: [b[k]["median_ms"] for b in by_step if k in b]  # noqa: E731
    first = results["steps"][0]["measurements"]
    gate_rows = [r for r in first if not r.get("earlier")]
    earlier_rows = [r for r in first if r.get("earlier")]
    sizes = "".join(f"{s['contributions']:>12,}" for s in results["steps"])

    print("\n== Does the cost follow the rows the user may see, or the size of the tables? ==")
    print("   median ms of each listing through the gate (src/mash/access/{rules,filters,gate}.py and the cases and")
    print("   sharing selectors as they are now) at each table")
    print("   size; 'visible' is what the user may see (fixed for the workers; for the manager, everything open,")
    print("   which grows with the hub)")
    print(f"   {'contributions in the table:':<98}{sizes}")
    grows, grows_any = [], []
    for r in gate_rows:
        k = key(r)
        ms = series(k)
        growth = ms[-1] / ms[0] if ms[0] else float("inf")
        visible = " -> ".join(f"{b[k]['visible_rows']:,}" for b in by_step) if r["who"] == "manager" else \
            f"{r['visible_rows']:,}"
        label = f"{r['who']}: {r['what']}"
        print(f"   {label:<80} {visible:>17}" + "".join(f"{m:>12.2f}" for m in ms) + f"  x{growth:.1f}")
        if _grows(ms):
            g = {"who": r["who"], "what": r["what"], "ms": ms, "growth": growth,
                 "visible_rows": [b[k]["visible_rows"] for b in by_step if k in b]}
            grows_any.append(g)
            if r["who"] != "manager":
                grows.append(g)
    seq = {f"{r['who']}: {r['what']}": r["seq_scans_on_big_tables"] for r in last["measurements"]
           if r.get("seq_scans_on_big_tables") and r["who"] != "manager" and not r.get("earlier")}

    comparison = []
    if earlier_rows:
        print("\n== The gate as it is now (each link an id sub-query, joined with UNION in one pk IN (...)) beside")
        print("   the EARLIER OR-of-EXISTS form it replaced (or_exists_queries() here; the same rows are required) ==")
        print("   median ms at each table size, gate | earlier OR-of-EXISTS form")
        header = "".join(f"{s['contributions']:>20,}" for s in results["steps"])
        print(f"   {'contributions in the table:':<62}{header}   same rows")
        for r in earlier_rows:
            base_what = r["what"].replace(EARLIER, "")
            kg, ke = (r["who"], base_what), key(r)
            gate_ms, old_ms = series(kg), series(ke)
            same = [b[ke].get("same_rows_as_gate") for b in by_step if ke in b]
            cells = "".join(f"{g:>10.2f} |{o:>8.2f}" for g, o in zip(gate_ms, old_ms))
            label = f"{r['who']}: {base_what}"
            print(f"   {label:<62}{cells}   {'yes' if all(same) else 'NO'}")
            comparison.append({"who": r["who"], "what": base_what, "gate_ms": gate_ms, "earlier_or_exists_ms": old_ms,
                               "same_rows_at_every_step": all(same), "earlier_grows": _grows(old_ms),
                               "earlier_seq_scans_at_largest":
                                   by_step[-1][ke].get("seq_scans_on_big_tables", []) if ke in by_step[-1] else []})
        left = [(c, s) for c in comparison for s in c["earlier_seq_scans_at_largest"]]
        if left:
            print(f"   What the earlier form reads at {last['contributions']:,} contributions (why it was replaced):")
            for c, s in left:
                print(f"   - {c['who']}: {c['what']}: {s}")

    print(f"\n== Plans at {last['contributions']:,} contributions (EXPLAIN ANALYZE, BUFFERS; buffers are 8 kB pages) ==")
    print("   The whole plan of the gate's listings for the small agency's worker (the clearest case) and of the")
    print("   manager's listings; the scans of the others. Every plan is in the JSON.")
    first_worker = next((r["who"] for r in last["measurements"] if r["who"] != "manager"), None)
    for r in last["measurements"]:
        if "plan" not in r:
            continue
        print(f"-- {r['who']}: {r['what']}: {r['rows_returned']:,} rows, execution {r['db_execution_ms']:.2f} ms")
        whole = (r["who"] in (first_worker, "manager")) and not r.get("earlier")
        for line in r["plan"]:
            if whole or "Scan" in line.split(" (rows=")[0]:
                print("     " + (line if whole else line.lstrip()))
    page = by_step[-1].get(("manager", "requests page"))
    uses_index = None
    if page is not None:
        uses_index = any(MANAGER_INDEX in line for line in page["plan"])
        print(f"   The manager's requests page {'reads' if uses_index else 'does NOT read'} index {MANAGER_INDEX} "
              "(status, requested_at, id).")

    manager_growth = [g for g in grows_any if g["who"] == "manager"]
    if manager_growth:
        print("\n   The manager's listings whose cost grows with the hub (what a manager may see grows with it too;")
        print("   not part of the verdict):")
        for g in manager_growth:
            print(f"   - {g['what']}: {' -> '.join(f'{m:.1f}' for m in g['ms'])} ms (x{g['growth']:.1f}), "
                  f"visible {' -> '.join(f'{v:,}' for v in g['visible_rows'])}")

    print()
    follows = not (grows or seq)
    if follows:
        print("VERDICT: YES - through the gate as src/ has it now, every worker listing costs about the same at every "
              "table size: the cost follows the rows the worker may see.")
    else:
        print("VERDICT: NO - through the gate as src/ has it now, some worker listings cost more as the tables grow, "
              "though what each worker may see stays the same:")
        for g in grows:
            print(f"   - {g['who']}: {g['what']} ({g['visible_rows'][-1]:,} rows): "
                  f"{' -> '.join(f'{m:.1f}' for m in g['ms'])} ms (x{g['growth']:.1f})")
        if seq:
            print(f"   At {last['contributions']:,} contributions, sequential scans of big tables in the gate's plans:")
            for what, scans in seq.items():
                for s in scans:
                    print(f"   - {what}: {s}")
        print("   See the plans above (and in the JSON) for where the time goes.")
    if comparison:
        slower = [c for c in comparison if c["earlier_or_exists_ms"][-1] > c["gate_ms"][-1]]
        print(f"   Beside it, the earlier OR-of-EXISTS form at {last['contributions']:,} contributions: "
              + "; ".join(f"{c['who'].split(' (')[1].split(':')[0]} {c['what']} "
                          f"{c['earlier_or_exists_ms'][-1]:.1f} ms vs {c['gate_ms'][-1]:.1f} ms"
                          for c in comparison)
              + f" ({len(slower)} of {len(comparison)} slower than the gate; "
              + ("same rows everywhere)." if all(c["same_rows_at_every_step"] for c in comparison)
                 else "ROWS DIFFER, see above)."))
    return {"cost_follows_visible_rows": follows, "grows_with_table": grows, "big_seq_scans": seq,
            "manager_growth": manager_growth, "manager_requests_page_uses_index": uses_index,
            "gate_vs_earlier_or_exists": comparison}


if __name__ == "__main__":
    main()
