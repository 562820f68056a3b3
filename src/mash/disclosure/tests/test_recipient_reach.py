"""The key guarantee of onward disclosure: a receiving professional with a sent package reaches what is in
it and nothing else, through any endpoint the project has.

The enquiry's record holds a distinctive marker in every part that is not passed on (the concern, the
reporter, the rating, the decision's reasons, the household, consent, the agencies' answers, and the
fields of a chosen item that were not chosen). Logged in as the recipient, every URL pattern is walked
with GET and POST (and PUT on the API), its parameters filled with real ids of everything on the
enquiry. No response may hold a marker, and only the package endpoints may answer with the child.

Every person here is synthetic.
"""

import io
import itertools
import json
import re
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

from mash.accounts.models import Role
from mash.audit.models import AuditEvent, Kind
from mash.cases import services as cases
from mash.cases.models import Enquiry
from mash.consent import services as consent
from mash.disclosure import services as disclosure
from mash.disclosure.models import DisclosurePackage
from mash.sharing import services as sharing
from mash.sharing.models import ContributionItem
from mash.testing.routes import BODIES, all_patterns, route_key
from mash.testing.world import child_data, contact_data

CHILD = "Exampleton"  # the child's surname; nobody else on the case has it
CHOSEN = {"content": "Qzchosencontent attendance fell to 81% this term", "cover": "Qzchosencover please call first"}

# Everything on the record that is not passed on, by where it is kept.
MARKERS = {
    "concern": "Qzconcernmark",
    "reporter name": "Qzreportermark",
    "reporter organisation": "Qzreporterorgmark",
    "reporter email": "qzreporteremailmark",
    "the child's address (not chosen)": "Qzaddressmark",
    "related person's name": "Qzhouseholdmark",
    "intake consent notes": "Qzintakenotesmark",
    "rating rationale": "Qzratingmark",
    "question to the agencies": "Qzquestionmark",
    "an agency's reason for sharing": "Qzreasonmark",
    "an item not chosen": "Qzunchosenitemmark",
    "a chosen item's relevance note (field not chosen)": "Qzrelevancemark",
    "a police item not chosen": "Qzpoliceunchosenmark",
    "police intelligence": "Qzintelmark",
    "a restricted item": "Qzrestrictedmark",
    "a sealed item": "Qzsealedmark",
    "confidential information held": "Qzconfidentialmark",
    "decision rationale (not chosen)": "Qzdecisionmark",
    "consent record notes": "Qzconsentnotesmark",
    "who gave consent": "Qzgivenbymark",
    "sharing without consent's justification": "Qzjustificationmark",
    "a draft package to the recipient": "Qzdraftmark",
    "a withdrawn package to the recipient": "Qzwithdrawnmark",
    "why it was withdrawn": "Qzwithdrawalreasonmark",
    "a package to another professional": "Qzotherrecipientmark",
}


@pytest.fixture
def reach(world, manager, police_worker, education_worker, receiving_professional, make_user):
    m = MARKERS
    gp_worker = world.user("gp_worker")
    other_professional = make_user(Role.RECEIVING_PROFESSIONAL, username="other-professional", team="Duty team")
    enquiry = cases.record_contact(by=manager, **contact_data(
        child=child_data(address_line_1="1 Qzaddressmark Street"),
        concern=f"Bruising on both arms; {m['concern']}.",
        reporter_name=f"Pat {m['reporter name']}", reporter_organisation=f"{m['reporter organisation']} School",
        reporter_email=f"{m['reporter email']}@example.org", consent_notes=m["intake consent notes"],
        related_people=[dict(first_name="Morgan", last_name=m["related person's name"], relationship="mother",
                             lives_with_child=True, parental_responsibility=True)]))
    cases.rate(enquiry, by=manager, rating="amber", rationale=m["rating rationale"])
    requests = sharing.request_information(enquiry, by=manager, question=m["question to the agencies"],
                                           partners=["essex-police", "education", "nhs-england-gps"])
    request = {r.partner.slug: r for r in requests}
    sharing.contribute(request["education"], by=education_worker, kind="share", lawful_basis="uk-gdpr-6-1-e",
                       decision_reason=m["an agency's reason for sharing"], items=[
                           dict(category="school_attendance", content=CHOSEN["content"], occurred_on="2025-01-31",
                                relevance_note=m["a chosen item's relevance note (field not chosen)"]),
                           dict(category="exclusions", content=m["an item not chosen"], relevance_note="Behaviour")])
    sharing.contribute(request["essex-police"], by=police_worker, kind="share",
                       lawful_basis="crime-and-disorder-act-1998-s115", decision_reason="Relevant", items=[
                           dict(category="police_incidents", content=m["a police item not chosen"],
                                relevance_note="Conflict at home"),
                           dict(category="intelligence", content=m["police intelligence"], relevance_note="Risk"),
                           dict(category="domestic_abuse", content=m["a restricted item"], relevance_note="History",
                                confidentiality="restricted"),
                           dict(category="arrests", content=m["a sealed item"], relevance_note="Investigation",
                                confidentiality="sealed")])
    sharing.contribute(request["nhs-england-gps"], by=gp_worker, kind="confidential_held",
                       lawful_basis="uk-gdpr-9-2-g-dpa-sch1-para18", decision_reason="Held in confidence",
                       confidential_reason="clinical_confidentiality", items=[
                           dict(category="gp_consultations", content=m["confidential information held"],
                                relevance_note="Earlier injury")])
    override = consent.propose_override(enquiry, by=manager, justification=m["sharing without consent's justification"],
                                        lawful_basis="children-act-1989-s47", purposes=["mash_enquiry"])
    cases.decide(enquiry, by=manager, outcome="section_17", rationale=m["decision rationale (not chosen)"],
                 recipient_type="social_worker", receiving_professional=receiving_professional.username)
    onward = consent.record_consent(enquiry, by=manager, status="given", given_by=m["who gave consent"],
                                    notes=m["consent record notes"], purposes=["onward_disclosure"])
    chosen = ContributionItem.objects.get(contribution__enquiry=enquiry, category="school_attendance")

    def package(cover_note, to=receiving_professional, send=True):
        made = disclosure.create_package(
            enquiry, by=manager, recipient_type="social_worker", recipient=to.username,
            lawful_basis="children-act-1989-s17", cover_note=cover_note,
            selection={"child": ["date_of_birth"], "items": {str(chosen.pk): ["content", "occurred_on"]}})
        return disclosure.send_package(made, by=manager) if send else made

    live = package(CHOSEN["cover"])
    draft = package(m["a draft package to the recipient"], send=False)
    withdrawn = package(m["a withdrawn package to the recipient"])
    disclosure.withdraw_package(withdrawn, by=manager, reason=m["why it was withdrawn"])
    others = package(m["a package to another professional"], to=other_professional)
    child = enquiry.child
    markers = dict(MARKERS, **{"NHS number (not chosen)": child.nhs_number})
    assert child.nhs_number  # the marker is real
    return SimpleNamespace(
        enquiry=enquiry, recipient=receiving_professional, gp_worker=gp_worker, live=live, markers=markers,
        values={
            "reference": [enquiry.reference],
            "package_id": [live.pk, draft.pk, withdrawn.pk, others.pk],
            "pk": [r.pk for r in requests], "request_id": [r.pk for r in requests],
            "record_id": list(enquiry.consent_records.values_list("pk", flat=True)),
            "override_id": [override.pk],
            "person_id": [child.pk, child.relationships.get().person_id],
            "user_id": [receiving_professional.pk, manager.pk, police_worker.pk],
            "app_label": ["accounts"], "url": ["accounts/user/"],
        },
        expected_with_child={("GET", "/packages/"), ("GET", f"/packages/{live.pk}/"),
                             ("GET", f"/packages/{live.pk}/pdf/"), ("GET", "/api/v1/packages"),
                             ("GET", f"/api/v1/packages/{live.pk}"), ("GET", f"/api/v1/packages/{live.pk}/pdf")},
        state=_state(enquiry),
    )


def _state(enquiry) -> tuple:
    return (Enquiry.objects.get(pk=enquiry.pk).state,
            sorted(DisclosurePackage.objects.values_list("pk", "status", "updated_at")),
            enquiry.consent_records.count(), enquiry.consent_overrides.count(),
            enquiry.information_requests.count(), enquiry.contributions.count())


def concrete_urls(route: str, values: dict) -> list[str]:
    """Every real URL for a route pattern: each parameter filled with each real id given for it."""
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)  # regex patterns (the admin's)
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).replace("^", "").replace("$", "")
    names = re.findall(r"\{(\w+)\}", route)
    urls = []
    for combo in itertools.product(*(values.get(n, ["1"]) for n in names)):
        url = route
        for name, value in zip(names, combo):
            url = url.replace("{%s}" % name, str(value), 1)
        urls.append("/" + url)
    return urls


def readable(response) -> str:
    """The response as text to search: a PDF's extracted text (whitespace removed), else the body."""
    if response.get("Content-Type", "").startswith("application/pdf"):
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        return re.sub(r"\s+", "", text)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8", errors="replace")


@pytest.mark.django_db
def test_the_recipient_reaches_the_package_and_nothing_else(client, reach):
    """Through every endpoint, the recipient gets only the live package: no marker of the record anywhere."""
    bodies_for = {"unasked": SimpleNamespace(username="sarc-worker"),
                  "assigned": SimpleNamespace(username="council-worker")}
    requests = set()
    for route, ns, p in all_patterns():
        api = route.startswith("api/")
        for url in concrete_urls(route, reach.values):
            for method in ("GET", "POST", "PUT") if api else ("GET", "POST"):
                requests.add((method, url, route_key(route) if api else None))
    with_child, leaks, checked = set(), [], 0
    for method, url, key in sorted(requests, key=lambda r: (r[1], r[0])):
        client.force_login(reach.recipient)  # again each time: the walk passes logout/ too
        if method == "GET":
            response = client.get(url)
        elif key is not None:
            body = BODIES.get(key, lambda h: {})(bodies_for)
            send = client.put if method == "PUT" else client.post
            response = send(url, data=json.dumps(body, default=str), content_type="application/json")
        else:
            response = client.post(url, {})
        text = readable(response)
        folded = text.lower()
        leaks += [(method, url, where) for where, marker in reach.markers.items() if marker.lower() in folded]
        if CHILD.lower() in folded:
            with_child.add((method, url))
            assert response.status_code == 200, (method, url, response.status_code)
        checked += 1
    assert leaks == [], leaks
    assert with_child == reach.expected_with_child
    assert checked > 250
    # Nothing the recipient sent changed anything, or was recorded as a change.
    assert _state(reach.enquiry) == reach.state
    assert not AuditEvent.objects.filter(actor_id=reach.recipient.pk, kind__in=[Kind.WRITE, Kind.DISCLOSURE]).exists()


@pytest.mark.django_db
def test_the_recipient_cannot_open_the_enquiry(client, reach):
    """The enquiry behind the package is 404 to the recipient, on the web and the API."""
    client.force_login(reach.recipient)
    assert client.get(f"/enquiries/{reach.enquiry.reference}/").status_code == 404
    assert client.get(f"/api/v1/enquiries/{reach.enquiry.reference}").status_code == 404
    assert client.get(f"/api/v1/enquiries/{reach.enquiry.reference}/consent").status_code == 404
    assert client.get(f"/api/v1/enquiries/{reach.enquiry.reference}/packages").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/packages/{pk}/", "/api/v1/packages/{pk}", "/packages/{pk}/pdf/",
                                 "/api/v1/packages/{pk}/pdf"])
def test_what_was_chosen_does_reach_the_recipient(client, reach, url):
    """The package page, the API and the PDF carry the chosen content and cover note, and the child's name."""
    client.force_login(reach.recipient)
    response = client.get(url.format(pk=reach.live.pk))
    assert response.status_code == 200
    text = readable(response)
    if response["Content-Type"] == "application/pdf":
        expected = [re.sub(r"\s+", "", s) for s in (*CHOSEN.values(), "Rowan Exampleton")]
    else:
        expected = [*CHOSEN.values(), "Rowan Exampleton"]
    assert all(s in text for s in expected), url
    assert not any(marker.lower() in text.lower() for marker in reach.markers.values())



@pytest.mark.django_db
def test_the_markers_are_on_the_record(client, reach, manager, police_worker):
    """A control: each marker is really on the record, read by those who need it (so its absence means something)."""
    ref = reach.enquiry.reference
    readers = {manager: [f"/enquiries/{ref}/", f"/enquiries/{ref}/consent/", f"/api/v1/enquiries/{ref}",
                         *[f"/packages/{pk}/" for pk in reach.values["package_id"]]],
               police_worker: [f"/api/v1/enquiries/{ref}"],
               reach.gp_worker: [f"/api/v1/enquiries/{ref}"]}
    seen = ""
    for user, urls in readers.items():
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (user.username, url)
            seen += readable(response).lower()
    assert [where for where, marker in reach.markers.items() if marker.lower() not in seen] == []
