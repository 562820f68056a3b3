#!/usr/bin/env python
"""Estimate the person-matching model (src/mash/people/match_model.json) with Splink, on a synthetic population.

Splink (the Ministry of Justice's record-linkage library, 4.x, on DuckDB) estimates the Fellegi–Sunter
parameters of the comparisons people.matching defines: u (how often two different people fall into each
level) by comparing random pairs, m (how often two records of one person do) by expectation maximisation
over blocked pairs, without being told who is who. The levels are not rewritten in SQL: each Splink
comparison level calls people.matching's own level function (a DuckDB function), so what is estimated is
exactly what the request-time scorer computes. The population and its errors are bench/person_matching.py's.

    pip install -e '.[bench]'                      # splink and faker
    .venv/bin/python scripts/train_match_model.py  # ~30,000 records; a few minutes
    .venv/bin/python scripts/train_match_model.py --people 60000 --show-at 0.9 --output /tmp/model.json

It writes the m and u of each level, the prior (the probability that two records drawn at random are one
person, estimated by Splink from deterministic rules), SHOW_AT (kept unless --show-at is given), and how and
when it was trained. Then run bench/person_matching.py to see precision and recall at SHOW_AT.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from mash.people import matching  # noqa: E402

# A level Splink never saw among the pairs of one person (or of two) gets this probability, not zero:
# log(0) would make one level decide alone.
FLOOR = 1e-5


# The input column each comparison stands for: Splink reads a comparison's columns from its SQL, and must
# know that a blocking rule on the date of birth fixes the date of birth comparison (it cannot be estimated
# in that session). Each level's SQL names the column in a clause that is always true.
COLUMNS = {"nhs_number": "nhs_number", "upn": "upn", "given_name": "given_sx", "family_name": "family_sx",
           "date_of_birth": "dob", "postcode": "postcode", "gender": "gender"}


def comparison_settings(name: str, labels) -> dict:
    """One Splink comparison: a null level, then people.matching's levels in its order, each the level
    function's answer (mash_level, a DuckDB function calling people.matching)."""
    column = COLUMNS[name]
    call = f"({column}_l IS NULL OR {column}_l IS NOT NULL) AND mash_level('{name}', unique_id_l, unique_id_r)"
    levels = [{"sql_condition": f"{call} IS NULL", "label_for_charts": "null", "is_null_level": True}]
    levels += [{"sql_condition": f"{call} = '{label}'", "label_for_charts": label} for label in labels]
    return {"output_column_name": name, "comparison_description": name, "comparison_levels": levels}


def frame(records):
    import pandas as pd

    rows = []
    for i, record in enumerate(records):
        d = record.details
        rows.append({"unique_id": i, "nhs_number": d.nhs_number or None, "upn": d.upn or None,
                     "dob": d.date_of_birth.isoformat() if d.date_of_birth else None,
                     "family_sx": matching.soundex(matching.norm(d.family_name)) or None,
                     "given_sx": matching.soundex(matching.norm_given(d.given_name)) or None,
                     "postcode": d.postcode or None, "gender": d.gender or None})
    return pd.DataFrame(rows)


def connection(records):
    import duckdb

    details = [r.details for r in records]
    functions = {name: function for name, (function, _) in matching.COMPARISONS.items()}

    @lru_cache(maxsize=4_000_000)
    def mash_level(name: str, left: int, right: int) -> str | None:
        return functions[name](details[left], details[right])

    con = duckdb.connect()
    con.create_function("mash_level", mash_level, ["VARCHAR", "BIGINT", "BIGINT"], "VARCHAR",
                        null_handling="special", side_effects=False)
    return con


def train(records, *, max_pairs: float, seed: int):
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[comparison_settings(name, labels) for name, (_, labels) in matching.COMPARISONS.items()],
        blocking_rules_to_generate_predictions=[block_on("nhs_number"), block_on("dob", "family_sx")],
        retain_matching_columns=False)
    linker = Linker(frame(records), settings, db_api=DuckDBAPI(connection(records)))
    linker.training.estimate_probability_two_random_records_match(
        [block_on("nhs_number"), block_on("upn"), block_on("dob", "family_sx", "given_sx", "postcode")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    # Each EM session cannot estimate what its blocking rule fixes: the two together estimate every m.
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("family_sx", "given_sx"))
    return linker.misc.save_model_to_json()


def extract(model: dict) -> dict:
    """people.matching's form: comparison -> level -> [m, u], from Splink's model JSON."""
    found = {}
    for comparison in model["comparisons"]:
        levels = {}
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            levels[level["label_for_charts"]] = [max(float(m or 0), FLOOR), max(float(u or 0), FLOOR)]
        found[comparison["output_column_name"]] = levels
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=30_000, help="records in the training population")
    parser.add_argument("--max-pairs", type=float, default=1e6, help="random pairs for the u probabilities")
    parser.add_argument("--seed", type=int, default=7, help="the population's seed (the benchmark uses 20)")
    parser.add_argument("--show-at", type=float, help="SHOW_AT to write (default: keep the current one)")
    parser.add_argument("--output", default=str(matching.MODEL_FILE))
    args = parser.parse_args(argv)
    from person_matching import Names, population

    started = time.monotonic()
    records = population(args.people, seed=args.seed, names=Names(args.seed, 20_000))
    model = train(records, max_pairs=args.max_pairs, seed=args.seed)
    current = json.loads(matching.MODEL_FILE.read_text(encoding="utf-8"))
    out = {
        "about": "Fellegi–Sunter m and u per comparison level of mash.people.matching, estimated by Splink "
                 "(u by random sampling, m by expectation maximisation) on a synthetic population; written by "
                 "scripts/train_match_model.py (docs/decisions/0007-person-matching.md).",
        "trained": {"on": dt.date.today().isoformat(), "splink": version("splink"), "records": len(records),
                    "seed": args.seed, "u_pairs": args.max_pairs, "floor": FLOOR},
        "prior": model["probability_two_random_records_match"],
        "show_at": args.show_at if args.show_at is not None else current.get("show_at", 0.9),
        "comparisons": extract(model),
    }
    Path(args.output).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.output}: {len(records):,} records, prior {out['prior']:.3g}, "
          f"{time.monotonic() - started:.0f} s")
    for name, levels in out["comparisons"].items():
        print(f"  {name}: " + ", ".join(f"{lv} m={m:.3g} u={u:.3g}" for lv, (m, u) in levels.items()))


if __name__ == "__main__":
    main()
