#!/usr/bin/env python
"""Person matching (people.matching, issue 20): precision and recall of the candidates shown, and how
fast candidates() answers with a million people on PostgreSQL.

A synthetic population (Faker's English-speaking locales when installed, else a small built-in list of
ordinary names; never real people) lives in households: adults and children sharing a family name and a
postcode, twins among the children, NHS numbers for most, unique pupil numbers for many children,
previous addresses and maiden names for some. A tenth of the people are recorded twice, the second
record with the errors real contacts carry: typos, nicknames, day and month swapped, a digit wrong in
the date of birth, a new surname (sometimes with the old one given as a previous name), a house move
(sometimes with the old postcode), a missing NHS number.

Quality (`--people`, default 100,000): every second record and as many people recorded once are looked
up among the others, through the same blocking keys, the same ranking and cap and the same scoring as
candidates() (an in-memory index; the database run below checks that the two agree). A candidate is
shown when its score is >= SHOW_AT: precision is the share of the candidates shown that are the same
person, recall the share of the second records whose first was shown. Targets: precision >= 0.99,
recall >= 0.95. The table of other thresholds is printed too.

Speed (`--db-people`, default 1,000,000): the people (with previous names, addresses and blocking keys)
are COPYed into PostgreSQL, then candidates() answers `--lookups` lookups (default 1,000: half second
records, half new people) as a manager (every live person); p50 and p95 in ms. Target p95 < 50 ms.

    .venv/bin/python bench/person_matching.py             # both; the database takes several minutes to fill
    .venv/bin/python bench/person_matching.py --quality-only
    .venv/bin/python bench/person_matching.py --reuse-database   # time the lookups again on the last run's database
    .venv/bin/python bench/person_matching.py --smoke     # seconds, SQLite or the test's PostgreSQL

The database is dropped and made again: $MASH_BENCH_POSTGRES_URL, by default
postgres://postgres@127.0.0.1:5432/mash_bench_matching (its name must contain "bench"). `--smoke` uses
$MASH_BENCH_POSTGRES_URL, else <database>_smoke_bench on $MASH_DATABASE_URL's server if PostgreSQL, else a
temporary SQLite file; it judges no figure, but fails if the database's candidates differ from the
in-memory index's or no second record is found. Figures go to stdout and bench/results/person_matching.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from mash.people import nicknames  # noqa: E402
from mash.people.identifiers import nhs_check_digit, upn_check_letter  # noqa: E402
from mash.people.matching import MAX_FETCHED, Details, blocking_keys, compare  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mash_bench_matching"
TARGETS = {"precision": 0.99, "recall": 0.95, "p95_ms": 50.0}

# Without Faker (the `bench` extra): ordinary English names, made into a population no one lives in.
FALLBACK_FEMALE = ("Olivia Amelia Isla Ava Emily Sophie Grace Mia Poppy Ella Lily Evie Isabella Charlotte Jessica "
                   "Daisy Freya Alice Sienna Ruby Elizabeth Margaret Sarah Rebecca Victoria Samantha Jennifer "
                   "Katherine Eleanor Matilda Abigail Lucy Hannah Chloe Megan Laura Emma Holly Rachel").split()
FALLBACK_MALE = ("Oliver George Harry Noah Jack Leo Arthur Muhammad Oscar Charlie Jacob Thomas Henry William "
                 "Joshua James Alfie Freddie Theodore Archie Robert Richard Michael Daniel Samuel Matthew "
                 "Alexander Benjamin Edward Christopher Nicholas Anthony Joseph Peter Andrew David Jonathan").split()
FALLBACK_FAMILY = ("Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson "
                   "Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner "
                   "Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott "
                   "Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson "
                   "Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams "
                   "Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell "
                   "Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens "
                   "Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews "
                   "Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson "
                   "Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong "
                   "Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley "
                   "Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton Oakley").split()
DISTRICTS = [f"{area}{n}" for area, count in (("RM", 20), ("SS", 17), ("CM", 24), ("IG", 11), ("E", 18))
             for n in range(1, count + 1)]
UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass
class Record:
    entity: int  # the person the record is of: two records with one entity are duplicates
    details: Details
    duplicate: bool = False  # the second record of a person, with errors


# -- the population --------------------------------------------------------------------------------------

class Names:
    """Pools of given and family names, drawn with their frequencies (Faker's lists repeat common names)."""

    def __init__(self, seed: int, size: int):
        try:
            from faker import Faker
        except ImportError:
            self.source = "built-in list (Faker not installed)"
            self.female, self.male, self.family = FALLBACK_FEMALE, FALLBACK_MALE, FALLBACK_FAMILY
            return
        fake = Faker(["en_GB", "en_US", "en_IE", "en_AU", "en_NZ"])
        fake.seed_instance(seed)
        self.source = "Faker en_GB, en_US, en_IE, en_AU, en_NZ"
        self.female = [fake.first_name_female() for _ in range(size // 4)]
        self.male = [fake.first_name_male() for _ in range(size // 4)]
        # The formal names of the nickname table too, so that nicknames are common enough to matter.
        formal = sorted({f for names in nicknames.GROUPS.values() for f in names})
        self.female += [n.title() for n in formal] * max(1, size // 4000)
        self.male += [n.title() for n in formal] * max(1, size // 4000)
        self.family = [fake.last_name() for _ in range(size)]


def nhs_number(rng: random.Random) -> str:
    while True:
        first = f"{rng.randrange(400_000_000, 1_000_000_000):09d}"
        check = nhs_check_digit(first)
        if check is not None:
            return f"{first}{check}"


def upn(rng: random.Random) -> str:
    rest = f"{rng.randrange(10**10, 10**11):011d}"
    rest += rng.choice("0123456789")
    return upn_check_letter(rest) + rest


def postcode(rng: random.Random) -> str:
    return f"{rng.choice(DISTRICTS)} {rng.randrange(10)}{rng.choice(UNIT_LETTERS)}{rng.choice(UNIT_LETTERS)}"


def random_date(rng: random.Random, first: int, last: int) -> dt.date:
    start = dt.date(first, 1, 1).toordinal()
    return dt.date.fromordinal(rng.randrange(start, dt.date(last, 12, 31).toordinal()))


def household(rng: random.Random, names: Names, entity: int) -> list[Record]:
    family, home = rng.choice(names.family), postcode(rng)
    previous = (postcode(rng),) if rng.random() < 0.2 else ()
    people = []
    for _ in range(rng.choice((1, 2, 2))):
        gender = rng.choice(("female", "male"))
        maiden = ((("", rng.choice(names.family)),) if gender == "female" and rng.random() < 0.1 else ())
        people.append(Details(rng.choice(names.female if gender == "female" else names.male), family,
                              random_date(rng, 1965, 2002), nhs_number(rng) if rng.random() < 0.7 else "", "",
                              home, gender, maiden, previous))
    born = None
    for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
        gender = rng.choice(("female", "male"))
        twin = born is not None and rng.random() < 0.03
        born = born if twin else random_date(rng, 2007, 2025)
        school = born.year <= 2021 and rng.random() < 0.6
        people.append(Details(rng.choice(names.female if gender == "female" else names.male), family, born,
                              nhs_number(rng) if rng.random() < 0.9 else "", upn(rng) if school else "",
                              home if rng.random() < 0.95 else "", gender, (), previous))
    return [Record(entity + i, d) for i, d in enumerate(people)]


def typo(rng: random.Random, name: str) -> str:
    if len(name) < 3:
        return name
    i = rng.randrange(1, len(name) - 1)
    kind = rng.randrange(4)
    letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
    if kind == 0:
        return name[:i] + letter + name[i + 1:]
    if kind == 1:
        return name[:i] + name[i + 1:]
    if kind == 2:
        return name[:i - 1] + name[i] + name[i - 1] + name[i + 1:]
    return name[:i] + letter + name[i:]


def nickname(rng: random.Random, name: str) -> str:
    formal = sorted(nicknames.groups(name.lower()))
    choices = [n for n, groups in nicknames.GROUPS.items() if set(formal) & groups and n != name.lower()]
    return rng.choice(choices).title() if choices else name


def digit_wrong(rng: random.Random, day: dt.date) -> dt.date:
    text = day.isoformat()
    for _ in range(20):
        i = rng.choice((2, 3, 5, 6, 8, 9))
        try:
            return dt.date.fromisoformat(text[:i] + rng.choice("0123456789".replace(text[i], "")) + text[i + 1:])
        except ValueError:
            continue
    return day


def with_errors(rng: random.Random, d: Details, names: Names) -> Details:
    """A second record of the same person, as another agency typed it."""
    given, family, born, others = d.given_name, d.family_name, d.date_of_birth, ()
    if rng.random() < 0.25:
        given = nickname(rng, given)
    if rng.random() < 0.1:
        given = typo(rng, given)
    if rng.random() < 0.08:
        others = ((given, family),) if rng.random() < 0.5 else ()
        family = rng.choice(names.family)
    elif rng.random() < 0.1:
        family = typo(rng, family)
    if born and rng.random() < 0.06 and born.day <= 12:
        born = born.replace(month=born.day, day=born.month)
    elif born and rng.random() < 0.05:
        born = digit_wrong(rng, born)
    home, previous = d.postcode, ()
    if rng.random() < 0.2:
        home, previous = postcode(rng), ((d.postcode,) if d.postcode and rng.random() < 0.5 else ())
    elif rng.random() < 0.1:
        home = ""
    return replace(d, given_name=given, family_name=family, date_of_birth=born, other_names=others,
                   other_postcodes=previous, postcode=home,
                   nhs_number=d.nhs_number if rng.random() < 0.5 else "", upn=d.upn if rng.random() < 0.5 else "",
                   gender=d.gender if rng.random() < 0.97 else "")


def population(size: int, *, seed: int = 20, duplicates: float = 0.1, names: Names | None = None) -> list[Record]:
    """About `size` records: households of people, `duplicates` of them recorded a second time with errors;
    the second records are shuffled in among the first."""
    rng = random.Random(seed)
    names = names or Names(seed, 20_000)
    records: list[Record] = []
    while len(records) < size * (1 - duplicates):
        records.extend(household(rng, names, len(records)))
    seconds = [Record(r.entity, with_errors(rng, r.details, names), duplicate=True)
               for r in rng.sample(records, int(size * duplicates))]
    # Each second record at a random place among the first ones (sorting by place: inserting into the
    # list one by one would take hours at a million).
    places = [(float(i), r) for i, r in enumerate(records)] + [(rng.uniform(0, len(records)), r) for r in seconds]
    return [r for _, r in sorted(places, key=lambda place: place[0])]


# -- candidates in memory: the same keys, ranking, cap and scores as selectors.matching.candidates ----------

class MemoryIndex:
    def __init__(self, records: list[Record]):
        self.records, self.cap = records, MAX_FETCHED
        self.by_key: dict[str, list[int]] = defaultdict(list)
        for i, record in enumerate(records):
            for key in blocking_keys(record.details):
                self.by_key[key].append(i)

    def candidates(self, details: Details, *, exclude: int, threshold: float, limit: int = 10):
        shared = Counter()
        for key in blocking_keys(details):
            shared.update(self.by_key.get(key, ()))
        shared.pop(exclude, None)
        fetched = sorted(shared.items(), key=lambda item: (-item[1], item[0]))[:self.cap]
        scored = [(compare(details, self.records[i].details).score, i) for i, _ in fetched]
        return sorted(((s, i) for s, i in scored if s >= threshold), key=lambda c: (-c[0], c[1]))[:limit]


def quality(records: list[Record], thresholds, rng: random.Random) -> dict:
    """Precision and recall of the candidates shown at each threshold (every second record, and as many
    people recorded once, looked up among everyone else)."""
    index = MemoryIndex(records)
    entities = Counter(r.entity for r in records)
    seconds = [i for i, r in enumerate(records) if r.duplicate]
    singles = [i for i, r in enumerate(records) if entities[r.entity] == 1]
    queries = seconds + rng.sample(singles, min(len(singles), len(seconds)))
    # Every candidate fetched, scored: what is shown at a threshold is the first 10 at or above it.
    found = {i: index.candidates(records[i].details, exclude=i, threshold=0.0, limit=index.cap) for i in queries}
    rows = []
    for threshold in thresholds:
        shown = right = recalled = 0
        for i, cands in found.items():
            top = [c for s, c in cands if s >= threshold][:10]
            same = sum(records[c].entity == records[i].entity for c in top)
            shown, right, recalled = shown + len(top), right + same, recalled + (same > 0)
        rows.append({"threshold": threshold, "shown": shown, "precision": right / shown if shown else 1.0,
                     "recall": recalled / len(seconds)})
    blocked = sum(any(records[c].entity == records[i].entity for _, c in found[i]) for i in seconds)
    return {"records": len(records), "second_records": len(seconds), "lookups": len(queries),
            "found_by_the_keys": blocked / len(seconds), "by_threshold": rows, "index": index, "found": found}


# -- the database ------------------------------------------------------------------------------------------

PERSON_COLUMNS = ("id", "first_name", "last_name", "other_names", "date_of_birth", "date_of_birth_estimated", "unborn",
                  "gender", "nhs_number", "upn", "address_line_1", "address_line_2", "town", "postcode",
                  "created_at", "created_by_id")


def person_rows(records: list[Record], user_id: int):
    now = dt.datetime.now(dt.timezone.utc)
    for pk, record in enumerate(records, start=1):
        d = record.details
        yield (pk, d.given_name, d.family_name, "", d.date_of_birth, False, False, d.gender or "unknown",
               d.nhs_number, d.upn, "", "", "", d.postcode, now, user_id)


def store(records: list[Record], postgres: bool) -> None:
    """Person i+1 is records[i]: its previous names, previous addresses and blocking keys too."""
    from django.db import connection, transaction

    from mash.accounts.models import User

    user = User.objects.create(username="bench-matching", role="mash_manager")
    now = dt.datetime.now(dt.timezone.utc)
    names = [(pk, "previous", g, f, now) for pk, r in enumerate(records, 1) for g, f in r.details.other_names]
    addresses = [(pk, "", "", "", p, now) for pk, r in enumerate(records, 1) for p in r.details.other_postcodes]
    tables = [("people_person", PERSON_COLUMNS, person_rows(records, user.pk)),
              ("people_personname", ("person_id", "kind", "first_name", "last_name", "recorded_at"), names),
              ("people_personaddress", ("person_id", "address_line_1", "address_line_2", "town", "postcode",
                                        "recorded_at"), addresses),
              ("people_matchkey", ("person_id", "key"),
               ((pk, k) for pk, r in enumerate(records, 1) for k in sorted(blocking_keys(r.details))))]
    with transaction.atomic(), connection.cursor() as cursor:
        for table, columns, rows in tables:
            if postgres:
                restore = without_indexes(cursor, table)
                with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                for statement in restore:
                    cursor.execute(statement)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", list(rows))
        if postgres:
            cursor.execute("SELECT setval(pg_get_serial_sequence('people_person', 'id'), %s)", [len(records)])
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def without_indexes(cursor, table: str) -> list[str]:
    """Drop the table's indexes and its unique and foreign-key constraints (a bulk load is faster without
    them); returns the statements that make them again, exactly as migrated."""
    cursor.execute("SET maintenance_work_mem = '256MB'")
    cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                   "AND contype IN ('u', 'f')", [table])
    constraints = cursor.fetchall()
    for name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
                   "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)", [table, table])
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return ([definition for _, definition in indexes]
            + [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for name, definition in constraints])


def lookups(records: list[Record], count: int, rng: random.Random) -> list[tuple[Details, int | None]]:
    """Half second records (excluding themselves), half new people (not in the database)."""
    seconds = [i for i, r in enumerate(records) if r.duplicate]
    chosen = [(records[i].details, i + 1) for i in rng.sample(seconds, min(len(seconds), count // 2))]
    fresh = population(count - len(chosen), seed=rng.randrange(10**6), duplicates=0.0,
                       names=Names(1, 2_000) if count < 200 else None)
    return chosen + [(r.details, None) for r in fresh[:count - len(chosen)]]


def speed(records: list[Record], asked: list[tuple[Details, int | None]], index: MemoryIndex) -> dict:
    """candidates() as a manager would ask it (every live person); each answer must be the in-memory
    index's, or the quality figures would not be candidates()'s."""
    from mash.people.matching import SHOW_AT
    from mash.people.selectors import live_people
    from mash.people.selectors.matching import candidates

    times, shown = [], 0
    for details, pk in asked:
        started = time.perf_counter()
        found = candidates(details, among=live_people(), exclude=[pk] if pk else ())
        times.append((time.perf_counter() - started) * 1000)
        expected = [i + 1 for _, i in index.candidates(details, exclude=(pk or 0) - 1, threshold=SHOW_AT)]
        got = [c.person.pk for c in found]
        if got != expected:
            raise SystemExit(f"candidates() found {got} where the in-memory index found {expected}: the quality "
                             "figures would not be the database's")
        shown += len(found)
    times.sort()
    return {"lookups": len(times), "shown": shown, "p50_ms": statistics.median(times),
            "p95_ms": times[int(0.95 * (len(times) - 1))], "max_ms": times[-1]}


def database_url(smoke: bool) -> str:
    from queue_postgres import smoke_url

    url = os.environ.get("MASH_BENCH_POSTGRES_URL")
    if not url and smoke:
        url = smoke_url()
        if not url:
            import atexit
            import shutil
            import tempfile

            folder = tempfile.mkdtemp(prefix="mash-bench-matching-")
            atexit.register(shutil.rmtree, folder, ignore_errors=True)
            url = f"sqlite:///{folder}/matching.sqlite3"
    return url or DEFAULT_URL


def run_database(records, index, args, rng) -> dict:
    from queue_postgres import recreate_database, setup_django

    url = database_url(args.smoke)
    postgres = url.startswith("postgres")
    if postgres and not args.reuse_database:
        recreate_database(url, durable=not args.smoke)
    setup_django(url)
    from django.core.management import call_command

    from mash.people.models import Person

    started = time.monotonic()
    if args.reuse_database:
        if Person.objects.count() != len(records):
            raise SystemExit("--reuse-database: the database does not hold this population (run without it once "
                             "with the same --db-people and --seed)")
    else:
        call_command("migrate", verbosity=0, interactive=False)
        store(records, postgres)
    filled = time.monotonic() - started
    print(f"database: {'PostgreSQL' if postgres else 'SQLite'}, {len(records):,} people stored with their "
          f"keys in {filled:.0f} s" + (" (reused)" if args.reuse_database else " (migrating first)"), flush=True)
    asked = lookups(records, args.lookups, rng)
    candidates_speed = speed(records, asked[: max(1, len(asked) // 10)], index)  # warm the caches
    candidates_speed = speed(records, asked, index)
    verdict = "MET" if candidates_speed["p95_ms"] < TARGETS["p95_ms"] else "NOT MET"
    candidates_speed["load_after"] = os.getloadavg()[0]
    print(f"candidates(): {candidates_speed['lookups']} lookups among {len(records):,} people (load average "
          f"{candidates_speed['load_after']:.1f}), p50 "
          f"{candidates_speed['p50_ms']:.1f} ms, p95 {candidates_speed['p95_ms']:.1f} ms (target < "
          f"{TARGETS['p95_ms']:.0f} ms: {verdict}), max {candidates_speed['max_ms']:.1f} ms; the same answers as "
          "the in-memory index")
    return {"engine": "postgresql" if postgres else "sqlite", "people": len(records), "fill_s": filled,
            **candidates_speed, "verdict": verdict}


def print_quality(q: dict, show_at: float) -> dict:
    print(f"quality: {q['records']:,} records, {q['second_records']:,} second records; {q['lookups']:,} lookups; "
          f"the keys found the first record for {q['found_by_the_keys']:.4f} of the second records")
    print(f"{'threshold':>10} {'shown':>7} {'precision':>10} {'recall':>8}")
    for row in q["by_threshold"]:
        mark = "  <- SHOW_AT" if row["threshold"] == show_at else ""
        print(f"{row['threshold']:>10g} {row['shown']:>7} {row['precision']:>10.4f} {row['recall']:>8.4f}{mark}")
    [at] = [row for row in q["by_threshold"] if row["threshold"] == show_at]
    verdicts = {k: "MET" if at[k] >= TARGETS[k] else "NOT MET" for k in ("precision", "recall")}
    print(f"at SHOW_AT = {show_at:g}: precision {at['precision']:.4f} (target >= {TARGETS['precision']}: "
          f"{verdicts['precision']}), recall {at['recall']:.4f} (target >= {TARGETS['recall']}: {verdicts['recall']})")
    return {**{k: v for k, v in q.items() if k not in ("index", "found")}, "show_at": show_at, **at,
            "verdicts": verdicts}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds, no figure judged")
    parser.add_argument("--people", type=int, help="records for precision and recall (default 100,000)")
    parser.add_argument("--db-people", type=int, help="records in the database (default 1,000,000)")
    parser.add_argument("--lookups", type=int, help="timed candidate lookups (default 1,000)")
    parser.add_argument("--quality-only", action="store_true", help="no database")
    parser.add_argument("--reuse-database", action="store_true", help="time the lookups on the database the last "
                        "full run left (same --db-people and --seed), without filling it again")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--output", help="where to write the JSON (default bench/results/person_matching.json; "
                                         "--smoke writes none unless given)")
    args = parser.parse_args(argv)
    args.people = args.people or (1_500 if args.smoke else 100_000)
    args.db_people = args.db_people or (args.people if args.smoke else 1_000_000)
    args.lookups = args.lookups or (40 if args.smoke else 1_000)
    from mash.people.matching import SHOW_AT

    rng = random.Random(args.seed)
    started = time.monotonic()
    names = Names(args.seed, 2_000 if args.smoke else 20_000)
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; names: "
          f"{names.source}" + ("; SMOKE: tiny sizes, no figure judged" if args.smoke else ""), flush=True)
    result = {"date": dt.date.today().isoformat(), "machine": f"{platform.machine()} {os.cpu_count()} CPUs"}
    q: dict = {}
    if not args.reuse_database:
        records = population(args.people, seed=args.seed, names=names)
        q = quality(records, sorted({0.5, 0.8, 0.9, 0.95, 0.99, 0.999, SHOW_AT}), rng)
        result["quality"] = print_quality(q, SHOW_AT)
        if args.smoke and q["found_by_the_keys"] == 0:
            raise SystemExit("no second record was found by the keys: matching is broken")
    if not args.quality_only:
        if "index" not in q or args.db_people != args.people:
            seed = args.seed + 1 if args.db_people != args.people else args.seed
            records = population(args.db_people, seed=seed, names=names)
            q = {"index": MemoryIndex(records)}
        result["speed"] = run_database(records, q["index"], args, rng)
    print(f"took {time.monotonic() - started:.0f} s")
    if args.output or not args.smoke:
        out = Path(args.output) if args.output else RESULTS / "person_matching.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
