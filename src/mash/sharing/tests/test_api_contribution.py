"""Answering information requests through the API: the ISA's checks, and what each reader sees."""

import pytest

from mash.accounts.models import Role
from mash.cases import services as cases
from mash.testing.api import Api

SECRET = "OPERATION-SECRET-TEXT"
SECRET_REASON = "REASON-SECRET-TEXT"


@pytest.fixture
def as_manager(manager):
    return Api(manager)


@pytest.fixture
def as_police(police_worker):
    return Api(police_worker)


@pytest.fixture
def as_education(education_worker):
    return Api(education_worker)


def request_id(enquiry, slug):
    return enquiry.information_requests.get(partner__slug=slug).pk


def share(category="school_attendance", content="Attendance 81% this term", **item):
    return {
        "kind": "share",
        "decision_reason": "Relevant to the child's safety",
        "lawful_basis": "children-act-2004-s10-s11",
        "items": [dict({"category": category, "content": content, "relevance_note": "Falling attendance"}, **item)],
    }


def confidential():
    return {
        "kind": "confidential_held",
        "decision_reason": f"{SECRET_REASON}: disclosure would compromise a live operation",
        "lawful_basis": "dpa-2018-part-3",
        "confidential_reason": "ongoing_investigation",
        "items": [{"category": "intelligence", "content": f"{SECRET} about the household",
                   "relevance_note": "Risk in the home"}],
    }


def test_a_category_the_isa_does_not_permit_is_refused(asked_enquiry, as_education):
    rid = request_id(asked_enquiry, "education")
    response = as_education.post(f"/information-requests/{rid}/contribution", share(category="intelligence"))
    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "items"
    assert "'intelligence' (items[0])" in body["detail"]
    assert "Education establishments" in body["detail"] and "school_attendance" in body["detail"]
    # Nothing was recorded: the request is still open.
    assert as_education.get(f"/information-requests/{rid}").json()["status"] == "open"


def test_share_records_the_isa_version_and_clause(asked_enquiry, as_education):
    rid = request_id(asked_enquiry, "education")
    response = as_education.post(f"/information-requests/{rid}/contribution",
                                 share(occurred_on="2026-03-01", confidentiality="restricted"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sealed"] is False and body["version"] == 1
    assert body["isa_version"] == "2026.2"
    from mash.sharing.models import ContributionItem

    assert body["items"] == [{
        "id": ContributionItem.objects.get(contribution_id=body["id"]).pk,
        "category": "school_attendance", "category_label": "School attendance",
        "content": "Attendance 81% this term", "relevance_note": "Falling attendance",
        "occurred_on": "2026-03-01", "confidentiality": "restricted", "isa_clause": "S2.4.1",
        "attachments": [],
    }]
    assert as_education.get(f"/information-requests/{rid}").json()["status"] == "answered"


def test_confidential_information_held_is_a_marker_to_everyone_but_its_agency(asked_enquiry, as_police,
                                                                             as_manager):
    rid = request_id(asked_enquiry, "essex-police")
    response = as_police.post(f"/information-requests/{rid}/contribution", confidential())
    assert response.status_code == 201, response.content
    assert SECRET in response.content.decode() and response.json()["items"][0]["isa_clause"] == "S2.5.4"

    for path in (f"/enquiries/{asked_enquiry.reference}", f"/information-requests/{rid}", "/information-requests"):
        response = as_manager.get(path)
        assert response.status_code == 200
        text = response.content.decode()
        assert SECRET not in text and SECRET_REASON not in text, path

    [marker] = as_manager.get(f"/information-requests/{rid}").json()["contributions"]
    assert marker == {
        "sealed": True,
        "partner_name": "Essex Police",
        "recorded_on": marker["recorded_on"],
        "confidential_reason_label": "Ongoing investigation",
        "marker": marker["marker"],
    }
    assert marker["marker"].startswith("Confidential information held by Essex Police, recorded ")
    assert marker["marker"].endswith("category: ongoing investigation")

    own = as_police.get(f"/information-requests/{rid}").json()["contributions"]
    assert own[0]["sealed"] is False and own[0]["items"][0]["content"].startswith(SECRET)


def test_a_sealed_item_in_a_share_is_withheld_from_the_manager(asked_enquiry, as_police, as_manager):
    rid = request_id(asked_enquiry, "essex-police")
    data = share(category="police_incidents", content="Two call-outs to the address")
    data["lawful_basis"] = "dpa-2018-part-3"
    data["items"].append({"category": "intelligence", "content": SECRET, "relevance_note": "Risk",
                          "confidentiality": "sealed"})
    assert as_police.post(f"/information-requests/{rid}/contribution", data).status_code == 201

    response = as_manager.get(f"/enquiries/{asked_enquiry.reference}")
    assert SECRET not in response.content.decode()
    [police] = [c for c in response.json()["contributions"] if c["partner_name"] == "Essex Police"]
    assert police["sealed"] is False and police["withheld_items"] == 1
    assert [i["content"] for i in police["items"]] == ["Two call-outs to the address"]


def test_amending_an_answer_keeps_the_earlier_version(asked_enquiry, as_education, as_manager):
    rid = request_id(asked_enquiry, "education")
    assert as_education.post(f"/information-requests/{rid}/contribution", share()).status_code == 201

    again = as_education.post(f"/information-requests/{rid}/contribution", share())
    assert again.status_code == 400
    assert again.json()["detail"] == "Your agency has already answered this request: amend the answer instead"

    no_reason = as_education.post(f"/information-requests/{rid}/contribution/amendments", dict(share(), reason=" "))
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]

    response = as_education.post(f"/information-requests/{rid}/contribution/amendments",
                                 dict(share(content="Attendance 64% this term"), reason="Figures corrected"))
    assert response.status_code == 201, response.content
    assert response.json()["version"] == 2 and response.json()["isa_version"] == "2026.2"

    versions = as_education.get(f"/information-requests/{rid}").json()["contributions"]
    assert [(c["version"], c["items"][0]["content"]) for c in versions] == [
        (1, "Attendance 81% this term"), (2, "Attendance 64% this term")]
    # The enquiry shows the current version only.
    [current] = as_manager.get(f"/enquiries/{asked_enquiry.reference}").json()["contributions"]
    assert current["version"] == 2


def test_amending_before_answering_is_refused(asked_enquiry, as_education):
    rid = request_id(asked_enquiry, "education")
    response = as_education.post(f"/information-requests/{rid}/contribution/amendments", dict(share(), reason="x"))
    assert response.status_code == 400
    assert response.json()["detail"] == "Your agency has not answered this request yet"


def test_contribution_validation_names_fields(asked_enquiry, as_education):
    rid = request_id(asked_enquiry, "education")
    data = share(content="")
    data.update(kind="share", lawful_basis="made-up", decision_reason="")
    response = as_education.post(f"/information-requests/{rid}/contribution", data)
    assert response.status_code == 400
    assert {"decision_reason", "lawful_basis", "items[0].content"} <= set(response.json()["errors"])


def test_only_the_addressed_agency_answers(asked_enquiry, as_manager, as_police, make_user):
    rid = request_id(asked_enquiry, "education")
    # The manager may see the request but not answer for the agency.
    response = as_manager.post(f"/information-requests/{rid}/contribution", share())
    assert response.status_code == 403
    # Another agency cannot even see it.
    assert as_police.get(f"/information-requests/{rid}").status_code == 404
    assert as_police.post(f"/information-requests/{rid}/contribution", share()).status_code == 404
    hospital = Api(make_user(Role.MASH_WORKER, "btuh"))
    assert hospital.get(f"/information-requests/{rid}").json() == {"detail": "Not found"}
    assert as_police.get("/information-requests/999999").status_code == 404


def test_request_lists(asked_enquiry, as_manager, as_police):
    everything = as_manager.get("/information-requests").json()
    assert sorted(r["partner"]["slug"] for r in everything) == ["education", "essex-police"]
    [own] = as_police.get("/information-requests").json()
    assert own["partner"]["slug"] == "essex-police" and own["enquiry_reference"] == asked_enquiry.reference
    assert own["question"] == "What do you hold about the child and household?"
    assert as_police.get("/information-requests", status="answered").json() == []
    assert as_police.get("/information-requests", status="bogus").status_code == 422
    assert as_police.get("/information-requests/not-a-number").status_code == 422


def test_a_request_lapses_when_the_manager_decides(asked_enquiry, manager, as_education):
    cases.decide(asked_enquiry, by=manager, outcome="no_further_action", rationale="No role for the MASH")
    rid = request_id(asked_enquiry, "education")
    response = as_education.post(f"/information-requests/{rid}/contribution", share())
    assert response.status_code == 400
    assert response.json()["detail"] == "This request lapsed when the MASH manager recorded the decision"
    assert as_education.get(f"/information-requests/{rid}").json()["status"] == "lapsed"


def test_asking_an_agency_twice_or_one_outside_the_isa(asked_enquiry, as_manager):
    ref = asked_enquiry.reference
    response = as_manager.post(f"/enquiries/{ref}/information-requests", {"partners": ["education", "acme"]})
    assert response.status_code == 400
    messages = response.json()["errors"]["partners"]
    assert "'acme' is not a partner to the current ISA" in messages
    assert any(m.startswith("Already asked: Education") for m in messages)
