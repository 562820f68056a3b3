#!/usr/bin/env python
"""The access gate against pycasbin: decisions per second, and a cross-check of the rules.

The same rules (mash.access.rules: ACTIONS, FIELDS, the links) are written a second time as a
casbin model, RBAC with domains: each case is a domain, and the links between a user and a case
become roles in that domain. Both then answer the same few hundred thousand requests, in memory,
with no database. Every answer must agree: the script stops with an error at the first
disagreement, so it is also a second, independent statement of the rules.

    .venv/bin/python bench/access_gate.py              # 250,000 requests, best of 3 runs
    .venv/bin/python bench/access_gate.py --requests 50000 --runs 2
    .venv/bin/python bench/access_gate.py --smoke      # 2,000 requests, 2 runs: does it still work?

Figures go to stdout and to bench/results/access_gate.json. `--smoke` (run by `make test`) uses tiny
sizes, asserts no figure and writes no JSON unless --output is given; it still stops at the first
disagreement. casbin (the `bench` extra) is needed, except by --smoke, which without it runs the gate
alone and says that the cross-check was skipped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mash.settings")

import django  # noqa: E402

django.setup()

try:
    import casbin
    from casbin.model import FastModel, Model
except ImportError:  # only --smoke runs without it (main says so)
    casbin = None
    FastModel = Model = object
NO_CASBIN = "casbin is not installed: `make bench`, or .venv/bin/pip install -e '.[dev,bench]'"
SMOKE = {"requests": 2_000, "runs": 2, "cases": 200, "users": 150}

from importlib.metadata import version as dist_version  # noqa: E402

from mash.access import rules  # noqa: E402
from mash.access.rules import ACTIONS, FIELDS, READ_FIELD, CaseFacts, Link, Subject  # noqa: E402
from mash.accounts.models import Role  # noqa: E402

# --- The same rules, as a casbin model -------------------------------------------------------------
#
# Request: act     the action, or "enquiry.read_field:<field>" for a field of the enquiry
#          sub     the user, "u<id>"
#          agency  the agency the user says they work for, "agency:<id>" or "none" (checked by g2)
#          case    the case, "c<id>": the domain
#          owner   "-" for the enquiry itself, or "agency:<id>" for what an agency owns on it
#                  (its information request, its contribution)
# Policy:  p, act, link, scope   scope "case" (the enquiry) or "agency" (an agency's object on it)
# Roles:   g2, u<id>, role:<role>          every user's role            (global)
#          g2, u<id>, agency:<id>          a user's agency              (global)
#          g2, role:mash_manager, hub      a manager is hub manager of every case
#          g, u<id>, assigned, c<id>       the user is assigned to the case           (domain: the case)
#          g, agency:<id>, asked, c<id>    the agency was asked, and the window is open
#          g, agency:<id>, own, c<id>      the window is open: each agency holds what it owns
# Only a MASH worker has the per-case links: the matcher asks g2(sub, "role:mash_worker") first.
#
# `act` comes first in both r and p so that FastEnforcer can index the policy by it (cache_key_order=[0]).
CASBIN_MODEL = """
[request_definition]
r = act, sub, agency, case, owner

[policy_definition]
p = act, link, scope

[role_definition]
g = _, _, _
g2 = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act \
 && ((p.scope == "case" && r.owner == "-") || (p.scope == "agency" && r.owner != "-")) \
 && (g2(r.sub, p.link) \
     || (g2(r.sub, "role:mash_worker") \
         && (g(r.sub, p.link, r.case) \
             || (g2(r.sub, r.agency) && (r.owner == "-" || r.owner == r.agency) && g(r.agency, p.link, r.case)))))
"""

LINK_NAMES = {Link.HUB_MANAGER: "hub", Link.ASSIGNED: "assigned", Link.ASKED_AGENCY: "asked",
              Link.OWN_AGENCY: "own"}
# Which links can hold on the enquiry itself, and which on an agency's object on it (rules.case_links,
# rules.agency_links): an asked agency reads the enquiry, but another agency's request only as its own.
CASE_LINKS = {Link.HUB_MANAGER, Link.ASSIGNED, Link.ASKED_AGENCY}
AGENCY_LINKS = {Link.HUB_MANAGER, Link.ASSIGNED, Link.OWN_AGENCY}


def field_act(field_name: str) -> str:
    return f"{READ_FIELD}:{field_name}"


def casbin_policies() -> list[list[str]]:
    """p lines from rules.ACTIONS and rules.FIELDS (the rule tables, not the code that applies them)."""
    lines = []
    for action, links in ACTIONS.items():
        for link in sorted(links):
            if link in CASE_LINKS:
                lines.append([action, LINK_NAMES[link], "case"])
            if link in AGENCY_LINKS:
                lines.append([action, LINK_NAMES[link], "agency"])
    for field_name, links in FIELDS.items():
        for link in sorted(links):
            if link in CASE_LINKS:
                lines.append([field_act(field_name), LINK_NAMES[link], "case"])
    return lines


def casbin_groupings(users, cases, partner_ids, window_days, now):
    """g and g2 lines, from the same facts the gate gets. The window is worked out here again, from
    decided_at, as a loader would do it (and as the SQL of filters.enquiry_filter does for
    cases.selectors.enquiries)."""
    g2 = [["role:mash_manager", "hub"]]
    for u in users:
        g2.append([f"u{u.id}", f"role:{u.role}"])
        if u.partner_id:
            g2.append([f"u{u.id}", f"agency:{u.partner_id}"])
    cutoff = now - dt.timedelta(days=window_days)
    g = []
    for c in cases:
        case = f"c{c.enquiry_id}"
        for user_id in sorted(c.assigned_user_ids):
            g.append([f"u{user_id}", "assigned", case])
        if c.decided_at is None or c.decided_at >= cutoff:
            for pid in sorted(c.asked_partner_ids):
                g.append([f"agency:{pid}", "asked", case])
            for pid in partner_ids:
                g.append([f"agency:{pid}", "own", case])
    return g, g2


class _FastModel(FastModel):
    """casbin's FastModel, loading every definition of a section.

    In casbin 1.43 FastModel.add_def drops the return value of Model.add_def, and Model._load_section
    stops at the first definition whose add_def returns a false value: a FastModel loads `g` but not
    `g2`, and adding g2 lines raises KeyError('g2'). Returning the value is the whole fix."""

    def add_def(self, sec, key, value):
        super().add_def(sec, key, value)
        return True if value != "" else None


def make_enforcer(kind: str, policies, g, g2):
    if kind == "FastEnforcer":
        # casbin's documented speed-up: the policy indexed by its first field (act), so that each
        # request is matched against the lines for its own action only.
        model = _FastModel([0])
        model.load_model_from_text(CASBIN_MODEL)
        enforcer = casbin.FastEnforcer(model, cache_key_order=[0])
    else:
        model = Model()
        model.load_model_from_text(CASBIN_MODEL)
        enforcer = casbin.Enforcer(model)
    enforcer.add_policies(policies)
    enforcer.add_named_grouping_policies("g2", g2)
    enforcer.add_named_grouping_policies("g", g)
    return enforcer


# --- A synthetic hub, in memory --------------------------------------------------------------------

OTHER_ROLES = [(Role.MASH_MANAGER, 15), (Role.RECEIVING_PROFESSIONAL, 45), (Role.DPO, 10), (Role.SYSADMIN, 10),
               (Role.AUDITOR, 20)]


def build_world(rng: random.Random, n_partners: int, n_users: int, n_cases: int, window_days: int, now):
    partner_ids = list(range(1, n_partners + 1))
    # Some agencies have many MASH workers (police, council, education), most a few.
    weights = [rng.choice([1, 1, 2, 3, 6]) for _ in partner_ids]
    users = []
    n_others = sum(n for _, n in OTHER_ROLES)
    uid = 0
    for role, count in OTHER_ROLES:
        for _ in range(count):
            uid += 1
            # A few non-workers carry a partner (a receiving professional seconded from an agency):
            # they must get nothing from it.
            pid = rng.choice(partner_ids) if role != Role.MASH_MANAGER and rng.random() < 0.3 else None
            users.append(Subject(uid, role, pid))
    for _ in range(n_users - n_others):
        uid += 1
        users.append(Subject(uid, Role.MASH_WORKER, rng.choices(partner_ids, weights)[0]))
    workers = [u for u in users if u.role == Role.MASH_WORKER]
    non_workers = [u for u in users if u.role != Role.MASH_WORKER]

    cutoff = now - dt.timedelta(days=window_days)
    cases = []
    for cid in range(1, n_cases + 1):
        r = rng.random()
        if r < 0.40:
            decided_at = None                                                    # not decided yet
        elif r < 0.60:
            decided_at = now - dt.timedelta(seconds=rng.randint(0, window_days * 86400 - 1))  # window open
        elif r < 0.62:
            decided_at = cutoff                                                  # last moment: open
        elif r < 0.64:
            decided_at = cutoff - dt.timedelta(microseconds=1)                   # just closed
        else:
            decided_at = now - dt.timedelta(days=rng.randint(window_days + 1, 1500))  # long closed
        asked = frozenset(rng.sample(partner_ids, rng.randint(1, 5)))
        assigned = set(u.id for u in rng.sample(workers, rng.choice([0, 0, 1, 1, 1, 2])))
        if rng.random() < 0.03:   # a manager or other non-worker on the list must not count as ASSIGNED
            assigned.add(rng.choice(non_workers).id)
        cases.append(CaseFacts(cid, decided_at, asked, frozenset(assigned), window_days, now))
    return partner_ids, users, cases


def build_requests(rng: random.Random, n: int, partner_ids, users, cases):
    """(subject, action, facts, partner_id, field_name) tuples: mostly real questions, a few odd ones."""
    by_agency: dict[int, list[CaseFacts]] = {}
    by_user: dict[int, list[CaseFacts]] = {}
    for c in cases:
        for pid in c.asked_partner_ids:
            by_agency.setdefault(pid, []).append(c)
        for uid in c.assigned_user_ids:
            by_user.setdefault(uid, []).append(c)
    workers = [u for u in users if u.role == Role.MASH_WORKER]
    managers = [u for u in users if u.role == Role.MASH_MANAGER]
    others = [u for u in users if u.role not in (Role.MASH_WORKER, Role.MASH_MANAGER)]
    actions = list(ACTIONS)
    fields = list(FIELDS)
    out = []
    for _ in range(n):
        r = rng.random()
        subject = rng.choice(workers if r < 0.75 else managers if r < 0.85 else others)
        # Mostly a case the user is linked to (or was: the window may have closed), else any case.
        linked = (by_user.get(subject.id, []) + by_agency.get(subject.partner_id, [])) if rng.random() < 0.7 else []
        facts = rng.choice(linked) if linked else rng.choice(cases)
        r = rng.random()
        if r < 0.45:
            out.append((subject, READ_FIELD, facts, None, rng.choice(fields)))
        elif r < 0.995:
            action = rng.choice(actions)
            r = rng.random()
            if r < 0.45:
                partner_id = None                                          # the enquiry itself
            elif r < 0.90:
                partner_id = rng.choice(sorted(facts.asked_partner_ids))   # an asked agency's request
            else:
                partner_id = rng.choice(partner_ids)                       # any agency
            out.append((subject, action, facts, partner_id, None))
        elif r < 0.998:
            out.append((subject, READ_FIELD, facts, None, "no-such-field"))
        else:
            out.append((subject, "enquiry.no_such_action", facts, rng.choice([None, 1]), None))
    return out


def casbin_request(subject: Subject, action: str, facts: CaseFacts, partner_id, field_name):
    agency = f"agency:{subject.partner_id}" if subject.partner_id else "none"
    case = f"c{facts.enquiry_id}"
    if action == READ_FIELD:
        return (field_act(field_name), f"u{subject.id}", agency, case, "-")
    owner = f"agency:{partner_id}" if partner_id is not None else "-"
    return (action, f"u{subject.id}", agency, case, owner)


# --- Timing -----------------------------------------------------------------------------------------

def run_gate(requests):
    evaluate = rules.evaluate
    return [evaluate(s, a, f, p, fn).allowed for s, a, f, p, fn in requests]


def run_casbin(enforcer, requests):
    enforce = enforcer.enforce
    return [enforce(*r) for r in requests]


def timed(fn, *args):
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        out = fn(*args)
        return time.perf_counter() - t0, out
    finally:
        gc.enable()


def check_agreement(name, gate_answers, other_answers, requests):
    for i, (a, b) in enumerate(zip(gate_answers, other_answers)):
        if a != b:
            s, act, facts, pid, fn = requests[i]
            decision = rules.evaluate(s, act, facts, pid, fn)
            raise SystemExit(
                f"DISAGREEMENT between the gate and {name} on request {i}:\n"
                f"  subject={s} action={act} field={fn} owner partner={pid}\n"
                f"  facts={facts}\n"
                f"  gate: {a} ({decision.reason}); {name}: {b}")
    if len(gate_answers) != len(other_answers):
        raise SystemExit(f"{name} answered {len(other_answers)} requests, the gate {len(gate_answers)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, help="default 250,000")
    parser.add_argument("--runs", type=int, help="timed runs of each engine; the best is reported (default 3)")
    parser.add_argument("--cases", type=int, help="default 5,000")
    parser.add_argument("--users", type=int, help="default 500")
    parser.add_argument("--partners", type=int, default=13)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--no-fast", action="store_true", help="skip casbin's FastEnforcer")
    parser.add_argument("--output", help="default bench/results/access_gate.json (none with --smoke)")
    parser.add_argument("--smoke", action="store_true",
                        help=f"tiny sizes ({', '.join(f'{k} {v:,}' for k, v in SMOKE.items())}): checks that the "
                             "benchmark still runs and agrees, in seconds; no figure means anything; casbin optional")
    args = parser.parse_args(argv)
    for name, full in {"requests": 250_000, "runs": 3, "cases": 5_000, "users": 500}.items():
        if getattr(args, name) is None:
            setattr(args, name, SMOKE[name] if args.smoke else full)
    if args.output is None and not args.smoke:
        args.output = str(RESULTS / "access_gate.json")
    if args.users <= sum(n for _, n in OTHER_ROLES):
        parser.error(f"--users must be more than the {sum(n for _, n in OTHER_ROLES)} who are not MASH workers")
    if casbin is None:
        if not args.smoke:
            sys.exit(NO_CASBIN)
        print(f"SMOKE: {NO_CASBIN}.\nSMOKE: the cross-check against casbin is SKIPPED (only the `bench` extra "
              "installs it); the gate alone is run.", flush=True)

    rng = random.Random(args.seed)
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.timezone.utc)
    window_days = 28
    print(f"Building {args.partners} partners, {args.users} users, {args.cases:,} cases, "
          f"{args.requests:,} requests (seed {args.seed})...", flush=True)
    partner_ids, users, cases = build_world(rng, args.partners, args.users, args.cases, window_days, now)
    requests = build_requests(rng, args.requests, partner_ids, users, cases)
    casbin_requests = [casbin_request(*r) for r in requests]

    policies = casbin_policies()
    g, g2 = casbin_groupings(users, cases, partner_ids, window_days, now)
    engines = [] if casbin is None else ["Enforcer"] + ([] if args.no_fast else ["FastEnforcer"])
    enforcers, build_s = {}, {}
    for kind in engines:
        t0 = time.perf_counter()
        enforcers[kind] = make_enforcer(kind, policies, g, g2)
        build_s[kind] = time.perf_counter() - t0
    print(f"casbin model: {len(policies)} policy lines, {len(g):,} g lines (per-case links), "
          f"{len(g2):,} g2 lines (roles, agencies)", flush=True)

    # Run 1 is also casbin's warm-up: it builds each case's role manager on first use (the gate has
    # nothing to warm). Every run of every engine is checked against the gate's answers of run 1.
    names = ["gate", *enforcers]
    times: dict[str, list[float]] = {k: [] for k in names}
    gate_answers = None
    for run in range(1, args.runs + 1):
        elapsed, answers = timed(run_gate, requests)
        if gate_answers is None:
            gate_answers = answers
        elif answers != gate_answers:
            raise SystemExit("the gate answered differently from one run to the next")
        times["gate"].append(elapsed)
        line = [f"gate {elapsed:.2f} s"]
        for kind, enforcer in enforcers.items():
            elapsed, answers = timed(run_casbin, enforcer, casbin_requests)
            check_agreement(f"casbin {kind}", gate_answers, answers, requests)
            times[kind].append(elapsed)
            line.append(f"casbin {kind} {elapsed:.2f} s")
        print(f"  run {run}/{args.runs}: " + ", ".join(line) + (" (every answer agrees)" if enforcers else ""),
              flush=True)
    allowed = sum(gate_answers)
    if not 0 < allowed < len(gate_answers):
        raise SystemExit(f"the gate allowed {allowed:,} of {len(gate_answers):,} requests: the synthetic hub no "
                         "longer asks both questions that are allowed and questions that are refused")
    best = {k: min(v) for k, v in times.items()}

    n = len(requests)
    rate = {k: n / v for k, v in best.items()}
    versions = {"python": platform.python_version(), "casbin": dist_version("casbin") if casbin else None,
                "django": django.get_version()}
    print()
    print(f"Access decisions, in memory: {n:,} requests ({allowed:,} allowed, {n - allowed:,} refused), "
          f"best of {args.runs} runs")
    print(f"Python {versions['python']}, casbin {versions['casbin'] or 'not installed'} ({platform.machine()}, "
          f"{platform.system()})")
    print()
    print(f"  {'engine':<24} {'best run':>10} {'decisions/s':>14} {'µs/decision':>12} {'gate is':>10}")
    print(f"  {'-' * 24} {'-' * 10} {'-' * 14} {'-' * 12} {'-' * 10}")
    rows = [("gate (rules.evaluate)", "gate")] + [(f"casbin {k}", k) for k in enforcers]
    for label, key in rows:
        ratio = "" if key == "gate" else f"{rate['gate'] / rate[key]:.1f}x"
        print(f"  {label:<24} {best[key]:>9.2f}s {rate[key]:>14,.0f} {1e6 * best[key] / n:>12.2f} {ratio:>10}")
    print()
    if enforcers:
        print(f"Answers agree: yes, all {n:,} requests, on every run, for every engine.")
        print("casbin set-up (policy + grouping load) " + ", ".join(f"{k} {v:.2f} s" for k, v in build_s.items())
              + "; run 1 includes building each case's role manager on first use.")
    else:
        print("Answers agree: NOT CHECKED, casbin is not installed (the gate answered the same on every run).")

    result = {
        "benchmark": "access_gate",
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": versions,
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()},
        "inputs": {"partners": args.partners, "users": args.users, "cases": args.cases, "requests": n,
                   "allowed": allowed, "refused": n - allowed, "seed": args.seed, "window_days": window_days,
                   "casbin_policy_lines": len(policies), "casbin_g_lines": len(g), "casbin_g2_lines": len(g2)},
        "runs": args.runs,
        "answers_agree": True if enforcers else None,
        "smoke": args.smoke,
        "best_seconds": best,
        "decisions_per_second": rate,
        "gate_vs_casbin": {k: rate["gate"] / rate[k] for k in enforcers},
        "casbin_build_seconds": build_s,
        "run_seconds": times,
    }
    text = json.dumps(result, indent=2) + "\n"
    if args.output is None:
        print("SMOKE: sizes too small for the figures to mean anything; no JSON written (--output to write it).")
        return
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"Written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
