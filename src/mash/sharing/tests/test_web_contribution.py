"""An agency answering a request through the web: ISA checks, errors on the right row, amendments."""

import pytest
from django.urls import reverse

from mash.cases import services as cases
from mash.sharing.models import Contribution
from mash.testing.pages import answer_form, text

pytestmark = pytest.mark.django_db




@pytest.fixture
def education_request(asked_enquiry):
    return asked_enquiry.information_requests.get(partner__slug="education")


@pytest.fixture
def as_education(client, education_worker):
    client.force_login(education_worker)
    return client


def test_the_form_offers_only_what_the_isa_allows_the_agency(as_education, education_request):
    body = text(as_education.get(reverse("sharing:request", args=[education_request.pk])))
    assert "<title>Request to Education establishments (all primary and secondary) on" in body
    assert 'value="school_attendance"' in body and 'value="police_incidents"' not in body
    assert 'value="children-act-2004-s10-s11"' in body and 'value="dpa-2018-part-3"' not in body
    assert "What do you hold about the child and household?" in body
    assert 'name="kind" type="radio" value="confidential_held"' in body
    assert "Answer the request" in body


def test_a_category_the_isa_forbids_shows_the_isa_violation(as_education, education_request):
    response = as_education.post(reverse("sharing:request", args=[education_request.pk]), answer_form(
        "share", "Relevant to the concern", lawful_basis="uk-gdpr-6-1-e",
        items=[{"category": "police_incidents", "content": "Copied from a police log", "relevance_note": "Risk"}]))
    assert response.status_code == 422
    body = text(response)
    assert "govuk-error-summary" in body
    assert ("does not allow Education establishments (all primary and secondary) to share "
            "&#x27;police_incidents&#x27;") in body
    assert "Copied from a police log" in body  # the input is kept
    assert not Contribution.objects.exists()


def test_errors_land_on_the_row_that_caused_them(as_education, education_request):
    response = as_education.post(reverse("sharing:request", args=[education_request.pk]), answer_form(
        "share", "", items=[{}, {"category": "exclusions", "content": "", "relevance_note": "Two suspensions"}]))
    assert response.status_code == 400
    body = text(response)
    assert '<a href="#id_decision_reason">Record why your agency made this decision</a>' in body
    assert 'href="#id_lawful_basis"' in body
    assert '<a href="#id_item-1-content">Enter the information</a>' in body
    assert "Two suspensions" in body


def test_decline_then_amend_to_share_with_a_sealed_item(client, education_worker, education_request, manager):
    as_education = client
    client.force_login(education_worker)
    url = reverse("sharing:request", args=[education_request.pk])
    assert as_education.post(url, answer_form("decline", "Nothing held beyond attendance")).status_code == 302
    body = text(as_education.get(url))
    assert "Amend your answer" in body and "Nothing held beyond attendance" in body

    missing_reason = as_education.post(url, answer_form("share", "Now relevant", lawful_basis="uk-gdpr-6-1-e",
                                                        items=[{"category": "exclusions", "content": "Suspended",
                                                                "relevance_note": "Pattern"}]))
    assert '<a href="#id_reason">Give a reason for the amendment</a>' in text(missing_reason)

    response = as_education.post(url, answer_form(
        "share", "Now relevant", lawful_basis="uk-gdpr-6-1-e", reason="Records checked again",
        items=[{"category": "exclusions", "content": "Suspended twice", "relevance_note": "Pattern"},
               {"category": "school_safeguarding_concerns", "content": "SEALED-SCHOOL-NOTE",
                "relevance_note": "Disclosure to a teacher", "confidentiality": "sealed"}]))
    assert response.status_code == 302, text(response)
    current = Contribution.objects.get(superseded_by__isnull=True)
    assert current.version == 2 and current.kind == "share"
    assert "SEALED-SCHOOL-NOTE" in text(as_education.get(url))

    client.force_login(manager)
    body = text(client.get(reverse("cases:detail", args=[education_request.enquiry.reference])))
    assert "Suspended twice" in body and "SEALED-SCHOOL-NOTE" not in body
    assert "1 further item sealed to Education establishments" in body
    manager_view = text(client.get(url))
    assert "Suspended twice" in manager_view and "SEALED-SCHOOL-NOTE" not in manager_view
    assert 'name="kind"' not in manager_view  # a manager reads requests but does not answer them
    assert client.post(url, answer_form("decline", "x")).status_code == 403


def test_request_lists(client, education_worker, education_request, manager, asked_enquiry):
    client.force_login(education_worker)
    body = text(client.get(reverse("sharing:requests")))
    assert asked_enquiry.reference in body and "Awaiting the agency&#x27;s answer" in body
    client.force_login(manager)
    body = text(client.get(reverse("sharing:requests")))
    assert "Essex Police" in body and "Education establishments" in body


def test_a_lapsed_request_cannot_be_answered(as_education, education_request, asked_enquiry, manager):
    cases.decide(asked_enquiry, by=manager, outcome="no_further_action", rationale="Concern resolved")
    url = reverse("sharing:request", args=[education_request.pk])
    body = text(as_education.get(url))
    assert "This request lapsed" in body and 'name="kind"' not in body
    response = as_education.post(url, answer_form("decline", "Too late"))
    assert "govuk-error-summary" in text(response) and "lapsed" in text(response)
    assert not Contribution.objects.exists()
