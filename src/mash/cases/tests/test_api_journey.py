"""The JSON API from contact to closure, as partner systems and the MASH manager use it."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from mash.accounts.models import Role
from mash.accounts.services import create_token
from mash.testing.api import API, Api
from mash.testing.world import contact_data

SECRET = "OPERATION-SECRET-TEXT"


def token_via_command(user, name="") -> str:
    out = StringIO()
    call_command("token", "create", user.username, "--name", name, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


@pytest.fixture
def as_manager(manager):
    return Api(token_via_command(manager, "MASH case system"))


@pytest.fixture
def as_police(police_worker):
    return Api(token_via_command(police_worker, "Athena"))


@pytest.fixture
def as_education(education_worker):
    return Api(create_token(education_worker)[1])


def request_id(api: Api, partner_slug: str) -> int:
    [req] = [r for r in api.get("/information-requests").json() if r["partner"]["slug"] == partner_slug]
    return req["id"]


def test_the_whole_journey(as_manager, as_police, as_education, receiving_professional):
    # Contact in: the enquiry awaits a RAG rating.
    response = as_manager.post("/contacts", contact_data(received_at="2026-05-01T09:30:00+01:00"))
    assert response.status_code == 201, response.content
    created = response.json()
    ref = created["reference"]
    assert ref.startswith("MASH-2026-")
    assert created["state"] == "awaiting_rating" and created["rag"] is None
    assert created["child_name"] == "Rowan Exampleton" and created["concern_categories"] == ["physical_abuse"]
    assert [e["reference"] for e in as_manager.get("/enquiries").json()] == [ref]

    detail = as_manager.get(f"/enquiries/{ref}").json()
    assert detail["child"]["nhs_number"] == "9434765919" and detail["child"]["postcode"] == "RM17 6SL"
    assert detail["related_people"][0]["relationship"] == "mother"
    assert detail["related_people"][0]["parental_responsibility"] is True
    assert detail["allowed_actions"] == ["rate", "assign"]

    # RAG rating sets the deadline from the ISA.
    response = as_manager.post(f"/enquiries/{ref}/rating", {"rating": "amber", "rationale": "Injuries seen"})
    assert response.status_code == 201, response.content
    rated = response.json()
    assert rated["state"] == "gathering" and rated["rag"] == "amber"
    assert rated["ratings"][0]["isa_version"] == "2026.2" and rated["ratings"][0]["isa_clause"]
    assert rated["decision_due_at"] and rated["overdue"] is False and rated["seconds_remaining"] > 0

    # Ask Essex Police and Education.
    response = as_manager.post(f"/enquiries/{ref}/information-requests",
                               {"partners": ["essex-police", "education"], "question": "What do you hold?"})
    assert response.status_code == 201, response.content
    assert sorted(r["partner_slug"] for r in response.json()["information_requests"]) == ["education", "essex-police"]

    # Police: confidential information held, sealed to the police.
    police_request = request_id(as_police, "essex-police")
    request_detail = as_police.get(f"/information-requests/{police_request}").json()
    assert request_detail["child"]["full_name"] == "Rowan Exampleton"
    assert "intelligence" in [c["id"] for c in request_detail["permitted_categories"]]
    response = as_police.post(f"/information-requests/{police_request}/contribution", {
        "kind": "confidential_held",
        "decision_reason": "Disclosure would compromise a live operation",
        "lawful_basis": "dpa-2018-part-3",
        "confidential_reason": "covert_operation",
        "items": [{"category": "intelligence", "content": f"{SECRET}: father linked to county lines",
                   "relevance_note": "Risk to the child in the home", "occurred_on": "2026-04-20"}],
    })
    assert response.status_code == 201, response.content
    police_share = response.json()
    assert police_share["isa_version"] == "2026.2"
    assert police_share["items"][0]["isa_clause"] == "S2.5.4"
    assert police_share["items"][0]["confidentiality"] == "sealed"

    # Education shares attendance.
    education_request = request_id(as_education, "education")
    response = as_education.post(f"/information-requests/{education_request}/contribution", {
        "kind": "share",
        "decision_reason": "Relevant to the child's safety",
        "lawful_basis": "children-act-2004-s10-s11",
        "items": [{"category": "school_attendance", "content": "Attendance 81% this term",
                   "relevance_note": "Falling attendance since January"}],
    })
    assert response.status_code == 201, response.content
    assert response.json()["items"][0]["isa_clause"] == "S2.4.1"

    # The manager sees that the police hold something, and nothing of what it is.
    response = as_manager.get(f"/enquiries/{ref}")
    assert SECRET not in response.content.decode()
    assert "county lines" not in response.content.decode()
    assert "live operation" not in response.content.decode()
    contributions = {c["partner_name"]: c for c in response.json()["contributions"]}
    sealed = contributions["Essex Police"]
    assert sealed["sealed"] is True
    assert sealed["marker"].startswith("Confidential information held by Essex Police")
    assert set(sealed) == {"sealed", "partner_name", "recorded_on", "confidential_reason_label", "marker"}
    education = contributions["Education establishments (all primary and secondary)"]
    assert education["sealed"] is False and education["items"][0]["content"] == "Attendance 81% this term"

    # The police worker reads their own agency's sealed record; the education worker does not.
    assert SECRET in as_police.get(f"/enquiries/{ref}").content.decode()
    education_view = as_education.get(f"/enquiries/{ref}")
    assert education_view.status_code == 200 and SECRET not in education_view.content.decode()

    # Ready, decided, amended, closed.
    response = as_manager.post(f"/enquiries/{ref}/ready")
    assert response.status_code == 200 and response.json()["state"] == "ready_for_decision"
    assert response.json()["allowed_actions"] == ["rate", "request_information", "decide", "assign"]
    response = as_manager.post(f"/enquiries/{ref}/decision", {
        "outcome": "section_17", "rationale": "Needs assessment", "recipient_type": "social_worker",
        "receiving_team": "Assessment team", "receiving_professional": "social-worker",
    })
    assert response.status_code == 201, response.content
    decided = response.json()
    assert decided["state"] == "decided"
    assert decided["decision"]["version"] == 1 and decided["decision"]["receiving_professional"] == "social-worker"
    assert decided["decision"]["isa_version"] == "2026.2" and decided["decision"]["retention_clause"]

    response = as_manager.post(f"/enquiries/{ref}/decision/amendments", {
        "reason": "Strategy discussion needed", "outcome": "section_47", "rationale": "New information",
        "recipient_type": "social_worker", "receiving_team": "Assessment team",
    })
    assert response.status_code == 201, response.content
    amended = response.json()
    assert amended["decision"]["version"] == 2 and amended["decision"]["outcome"] == "section_47"
    assert [d["version"] for d in amended["earlier_decisions"]] == [1]

    response = as_manager.post(f"/enquiries/{ref}/close", {"note": "Passed to the assessment team"})
    assert response.status_code == 200 and response.json()["state"] == "closed"
    assert response.json()["allowed_actions"] == []

    # Closed enquiries leave the queue but can be asked for.
    assert as_manager.get("/enquiries").json() == []
    assert [e["reference"] for e in as_manager.get("/enquiries", state="closed").json()] == [ref]

    # Nothing moves a closed enquiry.
    response = as_manager.post(f"/enquiries/{ref}/rating", {"rating": "red", "rationale": "Again"})
    assert response.status_code == 409
    assert response.json() == {"detail": "Cannot RAG-rate the enquiry: it is closed"}

    # The receiving professional has no need to know through the API: it looks missing.
    as_receiver = Api(create_token(receiving_professional)[1])
    response = as_receiver.get(f"/enquiries/{ref}")
    assert response.status_code == 404 and response.json() == {"detail": "Not found"}
    assert as_receiver.get("/enquiries").json() == []


def test_close_before_decision_is_a_conflict(as_manager, new_enquiry):
    response = as_manager.post(f"/enquiries/{new_enquiry.reference}/close", {"note": "too early"})
    assert response.status_code == 409
    assert response.json()["detail"].startswith("Cannot close the enquiry: it is awaiting a RAG rating")


def test_decision_before_rating_is_a_conflict(as_manager, new_enquiry):
    response = as_manager.post(f"/enquiries/{new_enquiry.reference}/decision",
                               {"outcome": "no_further_action", "rationale": "No concern"})
    assert response.status_code == 409
    assert "rate it first" in response.json()["detail"]


def test_validation_errors_name_their_fields(as_manager):
    data = contact_data(concern="  ", concern_categories=["physical_abuse", "made_up"])
    data["child"]["nhs_number"] = "123"
    data["related_people"][0]["relationship"] = "cousin-ish"
    response = as_manager.post("/contacts", data)
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert {"child.nhs_number", "concern", "concern_categories", "related_people[0].relationship"} <= set(body["errors"])
    assert "child.nhs_number" in body["detail"]
    assert body["errors"]["concern_categories"] == ["Unknown concern category 'made_up'"]


def test_unparseable_input_is_ninjas_422(as_manager):
    data = contact_data()
    del data["concern"]
    data["child"]["date_of_birth"] = "not a date"
    response = as_manager.post("/contacts", data)
    assert response.status_code == 422
    locations = [tuple(e["loc"]) for e in response.json()["detail"]]
    assert ("body", "payload", "concern") in locations
    assert ("body", "payload", "child", "date_of_birth") in locations
    # Unknown fields are refused rather than dropped.
    response = as_manager.post("/contacts", contact_data(child_nhs="123"))
    assert response.status_code == 422


def test_rating_validation(as_manager, new_enquiry):
    response = as_manager.post(f"/enquiries/{new_enquiry.reference}/rating", {"rating": "purple", "rationale": ""})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"rating", "rationale"}


def test_worker_of_an_agency_not_asked_sees_nothing(asked_enquiry, make_user):
    hospital_worker = make_user(Role.MASH_WORKER, "btuh")
    api = Api(create_token(hospital_worker)[1])
    ref = asked_enquiry.reference
    response = api.get(f"/enquiries/{ref}")
    assert response.status_code == 404 and response.json() == {"detail": "Not found"}
    assert api.get("/enquiries").json() == []
    assert api.get("/information-requests").json() == []
    # Acting on it looks the same as it not existing.
    assert api.post(f"/enquiries/{ref}/rating", {"rating": "red", "rationale": "x"}).status_code == 404
    assert api.get("/enquiries/MASH-2026-999999").json() == {"detail": "Not found"}


def test_asked_worker_sees_the_enquiry_but_cannot_take_managers_steps(asked_enquiry, as_police):
    ref = asked_enquiry.reference
    detail = as_police.get(f"/enquiries/{ref}").json()
    # Only their own agency's request is listed to them.
    assert [r["partner_slug"] for r in detail["information_requests"]] == ["essex-police"]
    # Asking further agencies is for the MASH team, not an asked agency.
    assert detail["allowed_actions"] == ["contribute"]
    response = as_police.post(f"/enquiries/{ref}/rating", {"rating": "red", "rationale": "Worse"})
    assert response.status_code == 403
    assert response.json() == {"detail": "You cannot do this: only a MASH manager may do this"}
    assert as_police.post(f"/enquiries/{ref}/close").status_code == 403


def test_receiving_professional_cannot_record_contacts(receiving_professional):
    api = Api(create_token(receiving_professional)[1])
    response = api.post("/contacts", contact_data())
    assert response.status_code == 403
    assert "only the MASH team records contacts" in response.json()["detail"]


def test_queue_order_awaiting_first_then_by_deadline(as_manager):
    def contact(name, received):
        response = as_manager.post("/contacts", contact_data(
            child=dict(first_name=name, last_name="Example", gender="male"), received_at=received))
        assert response.status_code == 201, response.content
        return response.json()["reference"]

    green = contact("Green", "2026-04-02T09:00:00+01:00")
    red = contact("Red", "2026-04-03T09:00:00+01:00")
    contact("Later", "2026-04-05T09:00:00+01:00")
    contact("Earlier", "2026-04-04T09:00:00+01:00")
    as_manager.post(f"/enquiries/{green}/rating", {"rating": "green", "rationale": "Low"})
    as_manager.post(f"/enquiries/{red}/rating", {"rating": "red", "rationale": "High"})
    queue = as_manager.get("/enquiries").json()
    assert [e["child_name"] for e in queue] == ["Earlier Example", "Later Example", "Red Example", "Green Example"]
    assert [e["reference"] for e in as_manager.get("/enquiries", state="gathering").json()] == [red, green]
    assert as_manager.get("/enquiries", state="nonsense").status_code == 422


def test_me_isa_and_partners(as_education):
    me = as_education.get("/me").json()
    assert me["role"] == "mash_worker" and me["partner"]["slug"] == "education"

    isa = as_education.get("/isa").json()
    assert isa["version"] == "2026.2" and isa["effective_from"] == "2026-04-01"
    police = next(p for p in isa["partners"] if p["slug"] == "essex-police")
    assert police["type"] == "police"
    assert {"id": "intelligence", "label": "Police intelligence", "clause": "S2.5.4"} in police["permitted_categories"]
    assert {t["rag"] for t in isa["timescales"]} == {"red", "amber", "green"}

    partners = as_education.get("/partners").json()
    assert {"slug": "essex-police", "name": "Essex Police", "type": "police", "type_label": "Police"} in partners


def test_session_auth_needs_the_csrf_token_for_writes(manager, isa_version):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    assert browser.get(f"{API}/me").status_code == 200

    body = json.dumps(contact_data())
    response = browser.post(f"{API}/contacts", body, content_type="application/json")
    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF check Failed"}

    csrf = "k" * 32
    browser.cookies["csrftoken"] = csrf
    response = browser.post(f"{API}/contacts", body, content_type="application/json", headers={"X-CSRFToken": csrf})
    assert response.status_code == 201, response.content


def test_openapi_document_is_public_and_lists_every_path(client, db):
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    paths = doc["paths"]
    for path in ("/me", "/isa", "/partners", "/contacts", "/enquiries", "/enquiries/{reference}",
                 "/enquiries/{reference}/rating", "/enquiries/{reference}/information-requests",
                 "/enquiries/{reference}/ready", "/enquiries/{reference}/decision",
                 "/enquiries/{reference}/decision/amendments", "/enquiries/{reference}/close",
                 "/information-requests", "/information-requests/{request_id}",
                 "/information-requests/{request_id}/contribution",
                 "/information-requests/{request_id}/contribution/amendments"):
        assert API + path in paths, path
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation.get("x-access-policy"), (method, path)
            assert "401" in operation["responses"], (method, path)
    assert {"ApiTokenAuth", "SessionCookieAuth"} <= set(doc["components"]["securitySchemes"])
    assert client.get(f"{API}/docs").status_code == 200


def test_every_api_url_declares_an_access_policy(db):
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern), p.callback

    api_urls = [(route, view) for route, view in walk(get_resolver().url_patterns) if route.startswith("api/v1/")]
    assert len(api_urls) > 15
    undeclared = [route for route, view in api_urls if not getattr(view, "access_policy", None)]
    assert undeclared == []


def test_awkward_input_is_refused_not_a_server_error(as_manager, new_enquiry):
    response = as_manager.post("/contacts", contact_data(concern="nul \x00 byte"))
    assert response.status_code == 422
    response = as_manager.post("/contacts", contact_data(reporter_name="x" * 201))
    assert response.status_code == 422
    assert as_manager.get("/enquiries/not%20a%20reference").status_code == 422
    assert as_manager.get("/information-requests/99999999999999999999999").status_code == 422
    response = as_manager.client.post(f"{API}/enquiries/{new_enquiry.reference}/close", "{not json",
                                      content_type="application/json", headers=as_manager.headers)
    assert response.status_code == 400 and response.json() == {"detail": "Cannot parse request body"}
    # A POST with no body at all is fine where the body is optional.
    response = as_manager.client.generic("POST", f"{API}/enquiries/{new_enquiry.reference}/ready", b"",
                                         headers=as_manager.headers)
    assert response.status_code == 409


def test_lists_are_paged_with_the_total_in_a_header(as_manager):
    refs = []
    for i in range(3):
        response = as_manager.post("/contacts", contact_data(child=dict(first_name=f"Page{i}", last_name="Example",
                                                                        gender="male")))
        refs.append(response.json()["reference"])
    response = as_manager.get("/enquiries", limit=2)
    assert response.status_code == 200 and response["X-Total-Count"] == "3" and len(response.json()) == 2
    rest = as_manager.get("/enquiries", limit=2, offset=2).json()
    assert len(rest) == 1 and {e["reference"] for e in response.json() + rest} == set(refs)
    assert as_manager.get("/enquiries", limit=501).status_code == 422  # as for any bad query parameter
