"""Property: no response, to anyone, carries sealed text or a child outside their need to know.

Hypothesis generates hubs: enquiries with synthetic children, the agencies asked, each agency's
answer (shared, declined or "confidential information held"), items at every confidentiality,
team assignments and decisions inside and outside the ISA's after-decision window. Then every
read endpoint is called as every user, and each response (and every log line written meanwhile)
is checked against an oracle written here from the rules as the ISA and the issue state them,
independently of mash.access.rules.

The oracle also says what each user *must* see, so a gate that hid everything would fail too.
Each example makes about 300 requests; MASH_LEAK_EXAMPLES=200 runs a longer search (default 8).
"""

import datetime as dt
import json
import logging
import os
import string

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mash.accounts.models import Role
from mash.cases import services as cases
from mash.cases.models import Enquiry
from mash.sharing import services as sharing
from mash.testing.world import contact_data

# Agencies that may be asked, with a category and lawful basis the ISA allows each.
AGENCIES = {
    "essex-police": ("police_incidents", "crime-and-disorder-act-1998-s115"),
    "education": ("school_attendance", "uk-gdpr-6-1-e"),
    "nelft": ("health_visiting", "uk-gdpr-9-2-g-dpa-sch1-para18"),
    "btuh": ("hospital_attendances", "uk-gdpr-9-2-g-dpa-sch1-para18"),
}
WINDOW_DAYS = 28  # isa/mash-isa.yaml after_decision.asked_agency_access_days

syllable = st.sampled_from(["ka", "lo", "mi", "ren", "tas", "vo", "zu", "pel", "dri", "quo", "xan", "yor"])
# Synthetic surnames, unlike any real one and unlike each other: prefix Zz + syllables.
# The "ton" ending keeps one name from being part of another.
surname = st.lists(syllable, min_size=3, max_size=4).map(lambda parts: "Zz" + "".join(parts) + "ton")
token = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=10, max_size=10)

item = st.fixed_dictionaries({"confidentiality": st.sampled_from(["normal", "restricted", "sealed"])})
answer = st.one_of(
    st.none(),  # not answered
    st.fixed_dictionaries({"kind": st.just("decline")}),
    st.fixed_dictionaries({"kind": st.just("share"), "items": st.lists(item, min_size=1, max_size=3)}),
    st.fixed_dictionaries({"kind": st.just("confidential_held"), "items": st.lists(item, min_size=1, max_size=2)}),
)
enquiry_plan = st.fixed_dictionaries({
    "asked": st.dictionaries(st.sampled_from(sorted(AGENCIES)), answer, max_size=4),
    "assigned": st.lists(st.sampled_from(["council", "essex-police", "nelft"]), max_size=2, unique=True),
    # None: not decided; otherwise days since the decision (inside or outside the window).
    "decided_days_ago": st.sampled_from([None, None, 1, WINDOW_DAYS + 5]),
})
hub_plan = st.lists(enquiry_plan, min_size=1, max_size=3)


class Hub:
    """What was built, in the oracle's own terms."""

    def __init__(self):
        self.enquiries = []  # dicts: ref, child, asked {slug: request pk}, assigned {user key}, decided_days_ago
        self.texts = []      # dicts: text, enquiry index, agency slug, level ("normal", "restricted", "sealed")


def build(plan, users, names, tokens) -> Hub:
    hub = Hub()
    manager = users["manager"]
    counter = iter(range(10_000))
    for i, p in enumerate(plan):
        child = names[i]
        e = cases.record_contact(by=manager, **contact_data(
            child={"first_name": "Synth", "last_name": child, "gender": "unknown"},
            related_people=[], concern=f"Concern about child {i}"))
        cases.rate(e, by=manager, rating="amber", rationale="Generated")
        entry = {"ref": e.reference, "child": child, "asked": {}, "assigned": set(p["assigned"]),
                 "decided_days_ago": p["decided_days_ago"]}
        if p["asked"]:
            sharing.request_information(e, by=manager, partners=sorted(p["asked"]))
        for slug, ans in sorted(p["asked"].items()):
            request = e.information_requests.get(partner__slug=slug)
            entry["asked"][slug] = request.pk
            if ans is None:
                continue
            category, basis = AGENCIES[slug]
            items = []
            for it in ans.get("items", []):
                # Fixed width and a terminator: no secret is part of another.
                secret = f"SECRET{tokens[next(counter) % len(tokens)]}{next(counter):04d}Q"
                level = "sealed" if ans["kind"] == "confidential_held" else it["confidentiality"]
                items.append({"category": category, "content": secret, "relevance_note": f"note-{secret}",
                              "confidentiality": level})
                hub.texts.append({"text": secret, "enquiry": i, "agency": slug, "level": level})
            reason = f"REASON{next(counter):04d}Q"
            if ans["kind"] == "confidential_held":
                # The reason for holding back is part of the sealed record too.
                hub.texts.append({"text": reason, "enquiry": i, "agency": slug, "level": "sealed"})
            sharing.contribute(request, by=users[slug], kind=ans["kind"], decision_reason=reason,
                               lawful_basis=basis if ans["kind"] != "decline" else "",
                               confidential_reason="ongoing_investigation" if ans["kind"] == "confidential_held" else "",
                               items=items)
        for key in sorted(p["assigned"]):
            cases.assign(e, by=manager, member=users[key].username)
        if p["decided_days_ago"] is not None:
            cases.decide(e, by=manager, outcome="no_further_action", rationale="Generated")
            Enquiry.objects.filter(pk=e.pk).update(
                decided_at=timezone.now() - dt.timedelta(days=p["decided_days_ago"]))
        hub.enquiries.append(entry)
    return hub


# --- The oracle: the rules, stated plainly -----------------------------------------------------

def window_open(e) -> bool:
    return e["decided_days_ago"] is None or e["decided_days_ago"] < WINDOW_DAYS


def sees_enquiry(user_key: str, e) -> bool:
    if user_key == "manager":
        return True
    if user_key in e["assigned"]:
        return True
    return user_key in e["asked"] and window_open(e)


def reads_text(user_key: str, hub: Hub, t) -> bool:
    e = hub.enquiries[t["enquiry"]]
    own = user_key == t["agency"] and t["agency"] in e["asked"] and window_open(e)
    if own:
        return True
    if t["level"] == "sealed":
        return False
    if t["level"] == "restricted":
        return user_key == "manager"
    return user_key == "manager" or user_key in e["assigned"]


def read_urls(hub: Hub) -> list[str]:
    urls = ["/", "/enquiries/", "/enquiries/?show=all", "/enquiries/export.csv?show=all", "/requests/", "/api/v1/enquiries",
            "/api/v1/enquiries?state=decided", "/api/v1/information-requests", "/api/v1/me"]
    for e in hub.enquiries:
        urls += [f"/enquiries/{e['ref']}/", f"/api/v1/enquiries/{e['ref']}", f"/enquiries/?q={e['child']}",
                 f"/api/v1/enquiries?q={e['child']}"]
        for pk in e["asked"].values():
            urls += [f"/requests/{pk}/", f"/api/v1/information-requests/{pk}"]
    return urls


@pytest.fixture
def people(make_user, manager):
    users = {"manager": manager, "council": make_user(Role.MASH_WORKER, "thurrock-council", username="council")}
    for slug in AGENCIES:
        users[slug] = make_user(Role.MASH_WORKER, slug, username=f"worker-{slug}")
    users["unasked"] = make_user(Role.MASH_WORKER, "g4s-sarc", username="worker-g4s")
    for role in (Role.RECEIVING_PROFESSIONAL, Role.DPO, Role.SYSADMIN, Role.AUDITOR):
        users[role] = make_user(role, username=role.replace("_", "-"))
    return users


@pytest.mark.django_db
@settings(max_examples=int(os.environ.get("MASH_LEAK_EXAMPLES", "8")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(plan=hub_plan, names=st.lists(surname, min_size=3, max_size=3, unique=True),
       tokens=st.lists(token, min_size=1, max_size=5, unique=True))
def test_no_response_leaks_sealed_text_or_children_outside_need_to_know(client, people, log_lines, plan, names, tokens):
    with log_lines(logging.DEBUG) as lines:
        with transaction.atomic():
            hub = build(plan, people, names, tokens)
            lines.clear()  # only what reading writes to the log
            for key, user in people.items():
                client.force_login(user)
                bodies = {url: client.get(url).content.decode() for url in read_urls(hub)}
                everything = "\n".join(bodies.values())
                # A search page repeats what was typed, so names are looked for everywhere else.
                not_search = "\n".join(b for u, b in bodies.items() if "q=" not in u)
                for t in hub.texts:
                    if not reads_text(key, hub, t):
                        assert t["text"] not in everything, (key, t, [u for u, b in bodies.items() if t["text"] in b])
                for e in hub.enquiries:
                    if not sees_enquiry(key, e):
                        assert e["child"] not in not_search, (key, e, [u for u, b in bodies.items() if e["child"] in b])
                        assert e["ref"] not in everything, (key, e, [u for u, b in bodies.items() if e["ref"] in b])
                    else:
                        # What they must see: the child, and every text they may read, on the enquiry page.
                        page = bodies[f"/enquiries/{e['ref']}/"] + bodies[f"/api/v1/enquiries/{e['ref']}"]
                        assert e["child"] in page, (key, e)
                        for t in hub.texts:
                            if hub.enquiries[t["enquiry"]] is e and reads_text(key, hub, t):
                                assert t["text"] in page or _own_view(bodies, e, t), (key, t)
            logged = "\n".join(lines)
            for t in hub.texts:
                assert t["text"] not in logged, t
            # Nor the audit log, which auditors read: it records what was read, never the content.
            from mash.audit.models import AuditEvent

            audited = json.dumps(list(AuditEvent.objects.values()), default=str)
            for t in hub.texts:
                assert t["text"] not in audited, t
            transaction.set_rollback(True)


def _own_view(bodies, e, t) -> bool:
    """An agency reads its own answer on its request page too."""
    pk = e["asked"].get(t["agency"])
    return pk is not None and t["text"] in bodies.get(f"/requests/{pk}/", "")
