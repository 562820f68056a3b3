"""Every column that holds free text or an identifier reaches exactly the users its rule allows.

`mash.access.columns.RULES` maps every such column of every MASH model to the gate's rule that governs
it. Here one case (`marked_case`) is built with every kind of row (a contact with its reporter and
consent at intake, the people around the child, ratings, requests, answers at every confidentiality, an
amended and an unsealed answer, a file, consent, sharing without consent, decisions, packages live and
withdrawn, a subject access request, an API token); then every declared column of every row is
overwritten with a marker of its own. Each user logs in and reads every page, API response, CSV and PDF
the URL patterns offer (every route, every object), and for each marker the test checks:

- it reaches no user outside its rule's audience (`allowed`),
- it reaches every user its rule says must read it (`must`), where some page shows that column,
- the column is shown somewhere, unless `SHOWN_NOWHERE` says why not.

A column without a rule fails `test_every_text_column_has_a_rule`, naming it.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import logging
import re
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.utils import timezone

from mash.access import columns
from mash.access import rules
from mash.testing.routes import all_patterns
from mash.testing.world import contact_data

# Columns no marker is written into, and why.
UNMARKED = {
    "disclosure.DisclosurePackage.selection": "a structure of field names the package is built from",
    "disclosure.DisclosurePackage.content": "fixed when sent (database triggers); a copy of marked columns",
    "disclosure.DisclosurePackage.recipient_team": "a sent package never changes; the package is addressed to a person",
    "disclosure.DisclosurePackage.lawful_basis": "a sent package never changes (database triggers)",
    "disclosure.DisclosurePackage.isa_clause": "a sent package never changes (database triggers)",
    "disclosure.DisclosurePackage.lawful_basis_clause": "a sent package never changes (database triggers)",
    "sar.SarPack.content": "a copy of the compiled items, fixed when issued",
    "attachments.Attachment.data": "the file's bytes: the marker is written into the file when it is attached",
    "attachments.Attachment.filename": "named with a marker when it is attached",
    "attachments.Attachment.content_type": "the type judged from the bytes, not text",
}
# Marked columns that no page, API response, CSV or PDF shows, and why that is right.
SHOWN_NOWHERE = {
    "accounts.ApiToken.revoked_by": "kept for the record; the account page says when a token was revoked",
    "people.PersonRevision.previous": "kept for the record of an amendment to a person; shown on no page yet",
    "people.PersonRevision.changed_fields": "kept for the record of an amendment to a person; shown on no page yet",
    "people.PersonRevision.reason": "kept for the record of an amendment to a person; shown on no page yet",
}

USERS = ["manager", "assigned", "police", "education", "nelft", "unasked", "recipient", "dpo", "sysadmin",
         "auditor", "untrained"]
TEAM = {"manager", "assigned"}
WINDOW_DAYS = 28  # isa/mash-isa.yaml after_decision.asked_agency_access_days
AGENCY_USER = {"essex-police": "police", "education": "education", "nelft": "nelft"}


def test_every_text_column_has_a_rule():
    missing = columns.undeclared()
    assert missing == [], f"columns with no rule in mash.access.columns.RULES: {missing}"
    for label, rule in columns.RULES.items():
        known = set(rules.FIELDS) | {columns.REQUEST, columns.CONTRIBUTION, columns.ITEM, columns.AMENDMENT,
                                      columns.PACKAGE, columns.DPO, columns.AUDIT, columns.SELF, columns.ENQUIRY,
                                      columns.PERSON}
        assert rule in known or rule.startswith((columns.NOT_CASE_DATA + ": ", columns.NEVER_SHOWN + ": ")), \
            (label, rule)
    assert set(columns.CONTACT) == {f.name for f in apps.get_model("cases", "Contact")._meta.concrete_fields}


# --- The case --------------------------------------------------------------------------------------

# Each user is a named actor of the test world (mash.testing.world.ACTORS).
ACTOR = {"manager": "manager", "assigned": "council_worker", "police": "police_worker",
         "education": "education_worker", "nelft": "nelft_worker", "unasked": "sarc_worker",
         "recipient": "receiving_professional", "dpo": "dpo", "sysadmin": "sysadmin", "auditor": "auditor",
         "untrained": "untrained_worker"}


@pytest.fixture
def marked_case(world):
    from mash.accounts.services import create_token
    from mash.attachments import services as attachments
    from mash.cases import services as cases
    from mash.consent import services as consent
    from mash.disclosure import services as disclosure
    from mash.people import services as people
    from mash.sar import services as sars
    from mash.sharing import services as sharing

    u = {user: world.user(name) for user, name in ACTOR.items()}
    manager = u["manager"]
    e = cases.record_contact(by=manager, **contact_data(
        reporter_phone="01375 000000", reporter_email="pat@example.org", reporter_partner="education",
        consent_at_intake="given", consent_notes="Would prejudice a police investigation",
        child={**contact_data()["child"], "other_names": "Ro"}))
    cases.rate(e, by=manager, rating="amber", rationale="Injuries seen")
    sharing.request_information(e, by=manager, partners=["essex-police", "education", "nelft"], question="Held?")
    cases.assign(e, by=manager, member="council-worker")
    req = {slug: e.information_requests.get(partner__slug=slug) for slug in AGENCY_USER}
    sharing.contribute(req["essex-police"], by=u["police"], kind="share", lawful_basis="crime-and-disorder-act-1998-s115",
                       decision_reason="Relevant", items=[
                           {"category": "police_incidents", "content": f"Incident {level}", "relevance_note": "Note",
                            "confidentiality": level} for level in ("normal", "restricted", "sealed")])
    edu_item = dict(category="school_attendance", content="Attendance 81%", relevance_note="Falling")
    sharing.contribute(req["education"], by=u["education"], kind="share", lawful_basis="uk-gdpr-6-1-e",
                       decision_reason="Relevant", items=[edu_item])
    sharing.amend_contribution(req["education"], by=u["education"], reason="Rechecked", kind="share",
                               lawful_basis="uk-gdpr-6-1-e", decision_reason="Relevant", items=[edu_item])
    sharing.contribute(req["nelft"], by=u["nelft"], kind="confidential_held", decision_reason="Held back",
                       lawful_basis="uk-gdpr-9-2-g-dpa-sch1-para18", confidential_reason="ongoing_investigation",
                       items=[{"category": "health_visiting", "content": "Visit", "relevance_note": "Note"}])
    sharing.unseal(req["nelft"], by=u["nelft"], reason="Investigation over", level="restricted")
    markers = Markers()
    edu_current = req["education"].contributions.get(superseded_by__isnull=True).items.get()
    file_marker = markers.new("attachments.Attachment.data", "education")
    attachments.add_attachment(edu_current, by=u["education"], filename=f"{file_marker}.txt",
                               content_type="text/plain", data=f"File {file_marker} end\n".encode())
    child = e.child
    mother = child.relationships.get().person
    people.amend_person(mother, {"town": "Tilbury"}, reason="Moved", by=manager)
    consent.record_consent(e, by=manager, status="given", given_by="The child's father", notes="Spoke by phone",
                           purposes=["onward_disclosure"])
    mine = consent.record_consent(e, by=manager, person_id=mother.pk, status="given", given_by="Herself",
                                  purposes=["onward_disclosure"])
    consent.withdraw_consent(mine, by=manager, reason="Changed her mind")
    override = consent.propose_override(e, by=u["assigned"], lawful_basis="children-act-1989-s17",
                                        purposes=["onward_disclosure"], justification="Risk of significant harm")
    consent.decide_override(override, by=manager, approve=True, note="Agreed")
    cases.decide(e, by=manager, outcome="section_17", rationale="Child in need", recipient_type="social_worker",
                 receiving_professional="social-worker")
    cases.amend_decision(e, by=manager, reason="Typo", outcome="section_17", rationale="Child in need",
                         recipient_type="social_worker", receiving_professional="social-worker",
                         receiving_team="Assessment team")
    body = dict(recipient_type="social_worker", recipient="social-worker", lawful_basis="children-act-1989-s47",
                selection={"child": ["date_of_birth"]})
    live = disclosure.create_package(e, by=manager, cover_note=markers.new("disclosure.DisclosurePackage.cover_note",
                                                                            "live"), **body)
    disclosure.send_package(live, by=manager)
    gone = disclosure.create_package(e, by=manager, cover_note=markers.new("disclosure.DisclosurePackage.cover_note",
                                                                            "withdrawn"), **body)
    disclosure.send_package(gone, by=manager)
    disclosure.withdraw_package(gone, by=manager, reason=markers.new("disclosure.DisclosurePackage.withdrawal_reason",
                                                                     "withdrawn"))
    sar = sars.log_request(by=u["dpo"], requester_name="A parent", requester_relationship="parent",
                           requester_contact="1 Sample Street", received_on=timezone.localdate(),
                           person_ids=[child.pk], identity_verified=True, identity_method="Passport",
                           description="Everything")
    sars.pause(sar, by=u["dpo"], reason="clarification", note="Asked which years")
    sars.resume(sar, by=u["dpo"])
    sars.extend(sar, by=u["dpo"], months=1, reason="Complex")
    for item in sars.compile_request(sar, by=u["dpo"]):
        if not item.sealed:
            sars.decide_item(item, by=u["dpo"], decision="disclose", serious_harm_checked=True)
    create_token(manager, name="Laptop")
    # Another enquiry, decided longer ago than the ISA's window: Essex Police, asked and answering,
    # has lost it (and its own answer on it); the managers keep it.
    from mash.cases.models import Enquiry

    old = cases.record_contact(by=manager, **contact_data(
        child={**contact_data()["child"], "first_name": "Sam", "nhs_number": ""}, related_people=[]))
    cases.rate(old, by=manager, rating="green", rationale="Low")
    sharing.request_information(old, by=manager, partners=["essex-police"])
    old_request = old.information_requests.get()
    sharing.contribute(old_request, by=u["police"], kind="share", lawful_basis="crime-and-disorder-act-1998-s115",
                       decision_reason="Relevant", items=[
                           {"category": "police_incidents", "content": f"Old {level}", "relevance_note": "Note",
                            "confidentiality": level} for level in ("normal", "restricted")])
    cases.decide(old, by=manager, outcome="no_further_action", rationale="Resolved")
    Enquiry.objects.filter(pk=old.pk).update(decided_at=timezone.now() - dt.timedelta(days=WINDOW_DAYS + 12))
    markers.mark_everything(u, e)
    for obj in (e, old, sar, child):
        obj.refresh_from_db()
    return {"users": u, "enquiry": e, "old": old, "requests": {**req, "old": old_request},
            "packages": [live, gone], "sar": sar, "markers": markers, "child": child}


@dataclass
class Marker:
    text: str
    column: str
    row: str
    allowed: frozenset[str]
    must: frozenset[str]


class Markers:
    """Marker strings, each with the column and row it was written into and who may read it."""

    def __init__(self):
        self.counter = itertools.count(1)
        self.all: list[Marker] = []
        self.pending: dict[str, str] = {}

    def new(self, column: str, row: str) -> str:
        text = f"MK{next(self.counter):04d}Q"  # fits every column (postcode: 8)
        self.pending[text] = column
        self.all.append(Marker(text, column, row, frozenset(), frozenset()))
        return text

    def mark_everything(self, users, enquiry):
        """Overwrite every declared column of every row of the case with a marker, and work out who
        may read each from the declared rule and the row's place in the case."""
        premarked = {m.column for m in self.all}
        for label, field in columns.text_columns():
            rule = columns.RULES[label]
            if label in UNMARKED or rule.startswith((columns.NOT_CASE_DATA, columns.NEVER_SHOWN)) \
                    or rule == columns.AUDIT or label in premarked:
                continue
            model = field.model
            for obj in model.objects.all().order_by("pk"):
                text = self.new(label, f"{model._meta.model_name} {obj.pk}")
                setattr(obj, field.attname, _marked(getattr(obj, field.attname), text, field))
                obj.save(update_fields=[field.name])
        for m in self.all:
            m.allowed, m.must = audience(m, users, enquiry)


def _marked(value, text, field):
    from django.db import models

    if isinstance(field, models.JSONField):
        if isinstance(value, dict):
            return {**value, "Marked": text}
        return [*(value or []), text]
    return text


def _row(marker: Marker):
    """The object a marker was written into."""
    from mash.attachments.models import Attachment
    from mash.disclosure.models import DisclosurePackage

    if marker.column.startswith("disclosure.DisclosurePackage."):
        return DisclosurePackage.objects.order_by("pk")[0 if marker.row == "live" else 1]
    if marker.column.startswith("attachments."):
        return Attachment.objects.get()
    model_name, pk = marker.row.split()
    model = apps.get_model(marker.column.split(".")[0], model_name)
    return model.objects.get(pk=int(pk))


def audience(marker: Marker, users, enquiry) -> tuple[frozenset[str], frozenset[str]]:
    """(who may read it, who must), from the rule as docs/access.md states it: written here
    independently of mash.access.rules."""
    from mash.sharing.models import Contribution

    rule = columns.RULES[marker.column]
    obj = _row(marker)
    viewers = TEAM | set(AGENCY_USER.values())
    # Beyond the case, by design: the DPO reads the people a subject access request concerns (and who
    # has seen their record); what was compiled for it after a row was written (the packages here);
    # and, with the managers, the sharing report's counts by lawful basis. The audit log names what was
    # read by its reference (never its content), for auditors and the DPO.
    may_also = set()
    if rule == columns.PERSON or marker.column.startswith("disclosure.") \
            or marker.column == "consent.ConsentOverride.lawful_basis":
        may_also = {"dpo"}
    if rule == columns.ENQUIRY:
        may_also = {"dpo", "auditor"}
    if rule in (columns.PERSON, columns.ENQUIRY, rules.CHILD, rules.HOUSEHOLD, rules.CONCERN, rules.RAG,
                rules.OUTCOME):
        must = viewers
    elif rule in rules.FIELDS:
        must = set(TEAM)
    elif rule == columns.REQUEST:
        must = TEAM | {AGENCY_USER[obj.partner.slug]}
    elif rule in (columns.CONTRIBUTION, columns.ITEM, columns.AMENDMENT):
        item = None
        if marker.column.startswith("sharing.ContributionItem"):
            item, contribution = obj, obj.contribution
        elif marker.column.startswith("attachments."):
            item, contribution = obj.item, obj.item.contribution
        else:
            contribution = obj
        own = {AGENCY_USER[contribution.partner.slug]}
        if contribution.kind == "confidential_held":
            must = own
        elif rule == columns.CONTRIBUTION:
            must = TEAM | own
        elif rule == columns.AMENDMENT:
            levels = set(contribution.items.values_list("confidentiality", flat=True))
            if not contribution.unsealed and contribution.supersedes_id:
                earlier = Contribution.objects.get(pk=contribution.supersedes_id)
                levels |= set(earlier.items.values_list("confidentiality", flat=True))
                if earlier.kind == "confidential_held":
                    levels.add("sealed")
            must = own | ({"manager"} if "sealed" not in levels else set()) \
                | ({"assigned"} if not levels & {"sealed", "restricted"} else set())
        else:
            must = own | {"normal": TEAM, "restricted": {"manager"}, "sealed": set()}[item.confidentiality]
    elif rule == columns.PACKAGE or rule == rules.PACKAGES:
        must = set(TEAM)
        if obj.is_live and rule == columns.PACKAGE:
            must.add("recipient")
    elif rule == columns.DPO:
        must = {"dpo"}
    elif rule == columns.SELF:
        must = {next(k for k, v in users.items() if v.pk == obj.user_id)}
    else:
        raise AssertionError(f"no audience for {marker.column}: {rule}")
    if _window_closed(obj):
        # After the ISA's window asked agencies lose the enquiry, their own answers on it included;
        # no one is assigned to it, so the managers alone read it.
        must = must & {"manager"}
    return frozenset(must | may_also), frozenset(must)


def _window_closed(obj) -> bool:
    from mash.cases.models import Enquiry
    from mash.people.models import Person

    if isinstance(obj, Enquiry):
        enquiry = obj
    elif isinstance(obj, Person):
        enquiry = Enquiry.objects.filter(child=obj).first()
    elif hasattr(obj, "enquiry_id") or hasattr(obj, "enquiry"):
        enquiry = obj.enquiry
    elif hasattr(obj, "contribution"):
        enquiry = obj.contribution.enquiry
    elif hasattr(obj, "item"):
        enquiry = obj.item.contribution.enquiry
    else:
        return False
    return bool(enquiry and enquiry.decided_at
                and enquiry.decided_at < timezone.now() - dt.timedelta(days=WINDOW_DAYS))


# --- Reading everything ------------------------------------------------------------------------------

def _values(marked_case) -> dict[str, list[str]]:
    from mash.attachments.models import Attachment

    e = marked_case["enquiry"]
    sar = marked_case["sar"]
    return {
        "reference": [e.reference, marked_case["old"].reference],
        "pk": [str(r.pk) for r in marked_case["requests"].values()],
        "request_id": [str(r.pk) for r in marked_case["requests"].values()],
        "package_id": [str(p.pk) for p in marked_case["packages"]],
        "attachment_id": [str(a.pk) for a in Attachment.objects.all()],
        "item_id": [str(a.item_id) for a in Attachment.objects.all()],
        "person_id": [str(marked_case["child"].pk), str(marked_case["old"].child_id)],
        "user_id": [str(marked_case["users"][k].pk) for k in ("police", "manager")],
        "sar": [sar.reference],
        "sar_item": [str(i.pk) for i in sar.items.all()],
    }


def read_urls(marked_case) -> list[str]:
    values = _values(marked_case)
    urls = set()
    for route, ns, p in all_patterns():
        policy_name = p.callback and getattr(p.callback, "access_policy", None)
        if ns == "admin" or route in ("logout/", "api/v1/"):
            continue
        if isinstance(policy_name, dict) and "GET" not in policy_name:
            continue
        names = re.findall(r"<(?:\w+:)?(\w+)>", route)
        sar_route = route.startswith(("sar/", "api/v1/sars"))
        choices = []
        for name in names:
            if sar_route and name == "reference":
                choices.append(values["sar"])
            elif sar_route and name == "item_id":
                choices.append(values["sar_item"])
            else:
                choices.append(values.get(name, ["1"]))
        for combo in itertools.product(*choices):
            url = route
            for name, value in zip(names, combo):
                url = re.sub(r"<(?:\w+:)?" + name + ">", value, url, count=1)
            urls.add("/" + url)
    e = marked_case["enquiry"]
    urls |= {"/enquiries/?show=all", "/enquiries/export.csv?show=all", f"/enquiries/?q={e.reference}",
             f"/api/v1/enquiries?q={e.reference}", "/api/v1/enquiries?state=decided", "/packages/?show=all",
             f"/audit/people/?reference={e.reference}"}
    return sorted(urls)


def text_of(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Type", "").startswith("application/pdf"):
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)
    return body.decode("utf-8", errors="replace")


@pytest.mark.django_db
def test_every_marker_reaches_exactly_the_users_its_rule_allows(client, marked_case, log_lines):
    markers = marked_case["markers"].all
    urls = read_urls(marked_case)
    assert len(urls) > 60
    seen: dict[str, dict[str, set[str]]] = {m.text: {} for m in markers}
    problems = []
    client.raise_request_exception = False
    with log_lines(logging.INFO) as lines:  # INFO and up: DEBUG adds the PDF library's font chatter
        for key in USERS:
            client.force_login(marked_case["users"][key])
            for url in urls:
                read(client, key, url, seen, problems)
    # Nor does any of it go into the logs, or the audit log (which records what was read, never the
    # content): references only, which name what was read (and are in the URLs the logs name).
    logged = "\n".join(lines)
    from mash.audit.models import AuditEvent

    audited = json.dumps(list(AuditEvent.objects.values()), default=str)
    referenced = {"cases.Enquiry.reference", "sar.SubjectAccessRequest.reference"}
    for m in markers:
        if m.text in logged and m.column not in referenced:
            problems.append(f"LOGGED {m.column} ({m.row}) in a log line")
        if m.text in audited and m.column not in referenced:
            problems.append(f"AUDITED {m.column} ({m.row}) in the audit log")
    shown_columns = {m.column for m in markers if seen[m.text]}
    for m in markers:
        for key, where in seen[m.text].items():
            if key not in m.allowed:
                problems.append(f"LEAK {m.column} ({m.row}) reached {key} at {sorted(where)[:3]}")
        if m.column in SHOWN_NOWHERE:
            continue
        if m.column not in shown_columns:
            problems.append(f"NOWHERE {m.column}: shown to no one; declare it in SHOWN_NOWHERE with why")
            continue
        for key in sorted(m.must - set(seen[m.text])):
            problems.append(f"MISSING {m.column} ({m.row}) not shown to {key}")
    assert not problems, f"{len(problems)} problems in {len(markers)} markers:\n" + "\n".join(sorted(set(problems)))


MARKER = re.compile(r"MK\d{4}Q")


def read(client, key, url, seen, problems):
    """One GET as one user: the markers in what came back, noted as seen by them there."""
    response = client.get(url)
    if response.status_code >= 500:
        problems.append(f"ERROR {url} as {key}: {response.status_code}")
    if response.status_code != 200:
        return
    # (A search page repeats what was searched for.)
    for text in set(MARKER.findall(text_of(response))) - set(MARKER.findall(url)):
        if text in seen:
            seen[text].setdefault(key, set()).add(url)


# --- The leaks and rules it found, pinned one by one ------------------------------------------------

@pytest.mark.django_db
def test_consent_at_intake_reaches_the_team_not_asked_agencies(client, manager, police_worker, asked_enquiry):
    """The contact's consent at intake and its notes are the MASH team's (FIELDS[CONSENT]), on the
    enquiry page and in the API, as on the consent page."""
    from mash.cases.models import Contact

    contact = Contact.objects.get(enquiry=asked_enquiry)
    contact.consent_notes = "Would prejudice a police investigation"
    contact.save(update_fields=["consent_notes"])
    ref = asked_enquiry.reference
    for user, team in ((manager, True), (police_worker, False)):
        client.force_login(user)
        page = client.get(f"/enquiries/{ref}/").content.decode()
        api = client.get(f"/api/v1/enquiries/{ref}").json()["contact"]
        assert ("Would prejudice a police investigation" in page) is team, user
        assert ("Consent at intake" in page) is team, user
        assert (api["consent_notes"], api["consent_at_intake"]) == (
            ("Would prejudice a police investigation", "given") if team else ("", "")), user
        assert (api["reporter_type"] == "school") is team and (api["reporter"] is not None) is team, user


def test_amendment_readers_follow_the_strictest_level_the_reason_may_speak_of():
    H, A, O = rules.HUB, rules.ASSIGNED, rules.OWN
    assert rules.amendment_readers(set()) == {H, A, O}
    assert rules.amendment_readers({"normal"}) == {H, A, O}
    assert rules.amendment_readers({"normal", "restricted"}) == {H, O}
    assert rules.amendment_readers({"restricted", "sealed"}) == {O}
