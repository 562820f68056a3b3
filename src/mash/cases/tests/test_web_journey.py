"""The MASH's web pages, from contact to decision, as the people using them see them."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from mash.core.declare import policy_of
from mash.accounts.models import Role
from mash.cases import services
from mash.cases.models import Enquiry
from mash.testing.pages import answer_form, text
from mash.testing.world import PASSWORD, contact_data

pytestmark = pytest.mark.django_db

SECRET = "OPERATION-SECRET-TEXT"


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


def contact_form(**overrides):
    data = {
        "child-first_name": "Rowan", "child-last_name": "Exampleton",
        "child-date_of_birth_day": "4", "child-date_of_birth_month": "5", "child-date_of_birth_year": "2016",
        "child-gender": "female", "child-nhs_number": "943 476 5919", "child-address_line_1": "1 Sample Street",
        "child-town": "Grays", "child-postcode": "rm17 6sl",
        "reporter_type": "school", "reporter_name": "Pat Reporter", "reporter_organisation": "Sample Primary School",
        "reporter_partner": "education",
        "concern": "Child arrived at school with bruising on both arms and said she was afraid to go home.",
        "concern_categories": ["physical_abuse", "neglect"], "consent_at_intake": "given",
        "related-0-first_name": "Morgan", "related-0-last_name": "Exampleton", "related-0-relationship": "mother",
        "related-0-lives_with_child": "on", "related-0-parental_responsibility": "on",
    }
    data.update(overrides)
    return data




def test_contact_to_decision_through_the_web(manager, police_worker, education_worker,
                                             receiving_professional):
    mgr = client_for(manager)

    page = mgr.get(reverse("cases:contact_new"))
    assert page.status_code == 200
    assert "<title>Record a contact – MASH Hub</title>" in text(page)
    assert 'name="concern_categories" type="checkbox" value="physical_abuse"' in text(page)
    assert 'name="reporter_type" type="radio" value="police"' in text(page)

    response = mgr.post(reverse("cases:contact_new"), contact_form())
    assert response.status_code == 302
    enquiry = Enquiry.objects.get()
    assert response["Location"] == reverse("cases:detail", args=[enquiry.reference])
    page = mgr.get(response["Location"])
    body = text(page)
    assert "govuk-notification-banner--success" in body and enquiry.reference in body
    assert "Morgan Exampleton" in body and "RM17 6SL" in body and "Awaiting RAG rating" in body
    assert enquiry.child.relationships.get().parental_responsibility is True
    assert enquiry.contact.reporter_partner.slug == "education"

    # Rate, then ask Essex Police and Education.
    response = mgr.post(reverse("cases:rate", args=[enquiry.reference]),
                        {"rate-rating": "amber", "rate-rationale": "Injuries seen by school staff"})
    assert response.status_code == 302
    response = mgr.post(reverse("cases:request_information", args=[enquiry.reference]),
                        {"request-partners": ["essex-police", "education"],
                         "request-question": "What do you hold about the child and household?"})
    assert response.status_code == 302
    enquiry.refresh_from_db()
    assert enquiry.state == "gathering" and enquiry.rag == "amber"
    police_request = enquiry.information_requests.get(partner__slug="essex-police")
    education_request = enquiry.information_requests.get(partner__slug="education")

    # The police worker signs in through the login page and records confidential information held.
    police = Client()
    response = police.post(reverse("login"), {"username": police_worker.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")
    home = text(police.get(reverse("home")))
    assert "1</strong> request for information is waiting" in home
    listing = text(police.get(reverse("sharing:requests")))
    assert enquiry.reference in listing
    url = reverse("sharing:request", args=[police_request.pk])
    assert "afraid to go home" in text(police.get(url))
    response = police.post(url, answer_form(
        "confidential_held", "Disclosure would compromise a live operation", lawful_basis="dpa-2018-part-3",
        confidential_reason="ongoing_investigation",
        items=[{"category": "intelligence", "content": SECRET, "relevance_note": "Household member of interest"}]))
    assert response.status_code == 302, text(response)

    # Education shares an item.
    education = client_for(education_worker)
    response = education.post(reverse("sharing:request", args=[education_request.pk]), answer_form(
        "share", "Relevant to the bruising reported", lawful_basis="children-act-2004-s10-s11",
        items=[{"category": "school_attendance", "content": "Attendance 71% this term",
                "relevance_note": "Absences follow weekends", "occurred_on_day": "2",
                "occurred_on_month": "3", "occurred_on_year": "2026"}]))
    assert response.status_code == 302, text(response)

    # The manager sees the marker and the shared item, never the sealed content.
    body = text(mgr.get(reverse("cases:detail", args=[enquiry.reference])))
    assert "Confidential information held by Essex Police" in body
    assert 'class="govuk-inset-text">Confidential information held by Essex Police' in body
    assert SECRET not in body
    assert "Disclosure would compromise" not in body
    assert "Attendance 71% this term" in body and "S2.4.1" in body
    # The police worker reads their own agency's sealed content; education does not.
    assert SECRET in text(police.get(reverse("cases:detail", args=[enquiry.reference])))
    assert SECRET in text(police.get(url))
    education_body = text(education.get(reverse("cases:detail", args=[enquiry.reference])))
    assert SECRET not in education_body and "Attendance 71% this term" in education_body

    # Ready, decide, amend, close.
    assert mgr.post(reverse("cases:mark_ready", args=[enquiry.reference]), {"ready-note": ""}).status_code == 302
    response = mgr.post(reverse("cases:decide", args=[enquiry.reference]), {
        "decision-outcome": "section_47", "decision-rationale": "Risk of significant harm",
        "decision-recipient_type": "social_worker", "decision-receiving_team": "Assessment team",
        "decision-receiving_professional": receiving_professional.username})
    assert response.status_code == 302
    decision = services.current_decision(enquiry)
    assert decision.outcome == "section_47" and decision.receiving_professional == receiving_professional
    response = mgr.post(reverse("cases:amend_decision", args=[enquiry.reference]), {
        "amend-reason": "Strategy discussion already held", "amend-outcome": "section_17",
        "amend-rationale": "Child in need", "amend-recipient_type": "social_worker",
        "amend-receiving_team": "Assessment team"})
    assert response.status_code == 302
    body = text(mgr.get(reverse("cases:detail", args=[enquiry.reference])))
    assert "Section 17 child in need assessment" in body and "Earlier versions of the decision (1)" in body
    assert mgr.post(reverse("cases:close", args=[enquiry.reference]), {"close-note": "Handed on"}).status_code == 302
    enquiry.refresh_from_db()
    assert enquiry.state == "closed"
    assert [e.action for e in enquiry.events.all()][-3:] == ["decide", "amend_decision", "close"]

    body = text(mgr.get(reverse("cases:detail", args=[enquiry.reference])))
    assert SECRET not in body
    assert "Close enquiry" not in body and "Record decision" not in body
    assert enquiry.reference not in text(mgr.get(reverse("cases:queue")))
    assert enquiry.reference in text(mgr.get(reverse("cases:queue") + "?show=all"))


def test_queue_puts_awaiting_rating_first_then_the_nearest_deadline(as_manager, manager):
    now = timezone.now()

    def record(name, hours_ago):
        return services.record_contact(by=manager, **contact_data(
            child={"first_name": name, "last_name": "Queue"}, received_at=now - dt.timedelta(hours=hours_ago)))

    newer_unrated = record("Newer", 1)
    older_unrated = record("Older", 5)
    green = record("Green", 3)
    red = record("Red", 2)
    services.rate(green, by=manager, rating="green", rationale="Low risk")
    services.rate(red, by=manager, rating="red", rationale="High risk")
    Enquiry.objects.filter(pk=red.pk).update(decision_due_at=now - dt.timedelta(hours=2, minutes=1))
    closed = record("Closed", 1)
    Enquiry.objects.filter(pk=closed.pk).update(state="closed")

    body = text(as_manager.get(reverse("cases:queue")))
    order = list(dict.fromkeys(re.findall(r"MASH-\d{4}-\d{6}", body)))
    assert order == [older_unrated.reference, newer_unrated.reference, red.reference, green.reference]
    assert "<title>Enquiry queue – MASH Hub</title>" in body
    assert "Overdue by 2 hours" in body and 'govuk-tag--red">Overdue' in body
    assert "2 days 23 hours" in body
    assert 'govuk-tag--green">Green' in body
    all_body = text(as_manager.get(reverse("cases:queue") + "?show=all"))
    assert closed.reference in all_body

    home = text(as_manager.get(reverse("home")))
    assert "4</span>open enquiries" in home


def test_a_worker_records_a_contact_and_is_told_its_reference(client, police_worker):
    client.force_login(police_worker)
    response = client.post(reverse("cases:contact_new"), contact_form(reporter_type="police",
                                                                      reporter_partner="essex-police"))
    assert response.status_code == 302 and response["Location"] == reverse("home")
    enquiry = Enquiry.objects.get()
    assert f"enquiry {enquiry.reference} is awaiting a RAG rating" in text(client.get(reverse("home")))


def test_bad_input_is_shown_on_its_field_and_nothing_typed_is_lost(as_manager):
    response = as_manager.post(reverse("cases:contact_new"), contact_form(**{
        "child-first_name": "Juniper", "child-nhs_number": "943 476 5918",
        "related-0-first_name": "", "related-0-last_name": "", "related-0-relationship": "",
        "related-0-lives_with_child": "", "related-0-parental_responsibility": "",
        "related-1-first_name": "Alex", "related-1-relationship": "father"}))
    assert response.status_code == 400
    body = text(response)
    assert "<title>Error: Record a contact – MASH Hub</title>" in body
    assert "govuk-error-summary" in body
    assert '<a href="#id_child-nhs_number">This NHS number is not valid: its check digit does not match</a>' in body
    assert 'govuk-form-group govuk-form-group--error' in body
    assert 'aria-describedby="id_child-nhs_number-hint id_child-nhs_number-error"' in body
    assert 'value="Juniper"' in body and 'value="943 476 5918"' in body and "afraid to go home" in body
    # The error about the second row of people lands on that row, though the first row was blank.
    assert 'id="id_related-1-last_name-error"' in body
    assert '<a href="#id_related-1-last_name">Enter their last name</a>' in body  # not "This field cannot be blank."
    assert 'value="Alex"' in body
    assert Enquiry.objects.count() == 0

    response = as_manager.post(reverse("cases:contact_new"), contact_form(**{
        "child-date_of_birth_day": "31", "child-date_of_birth_month": "2", "concern": "",
        "concern_categories": []}))
    body = text(response)
    assert response.status_code == 400
    assert "Date of birth must be a real date" in body
    assert 'value="31"' in body
    # The date stops the service being called; the identifiers are checked all the same.
    response = as_manager.post(reverse("cases:contact_new"), contact_form(**{
        "child-date_of_birth_year": "15", "child-postcode": "NOT A POSTCODE", "child-first_name": "Juniper"}))
    body = text(response)
    assert "Date of birth must be a real date, with a 4-digit year" in body
    assert "Enter a real UK postcode" in body and 'value="Juniper"' in body


def test_service_errors_on_an_action_re_render_the_enquiry(as_manager, new_enquiry):
    url = reverse("cases:rate", args=[new_enquiry.reference])
    response = as_manager.post(url, {"rate-rating": "red", "rate-rationale": ""})
    assert response.status_code == 400
    body = text(response)
    assert '<a href="#id_rate-rationale">Enter the rationale for the rating</a>' in body
    assert 'value="red" checked' in body
    response = as_manager.post(reverse("cases:close", args=[new_enquiry.reference]), {"close-note": "x"})
    assert response.status_code == 409
    body = text(response)
    assert "govuk-error-summary" in body and "Cannot close the enquiry" in body


def test_a_worker_whose_agency_was_not_asked_gets_404(client, make_user, asked_enquiry, police_worker):
    nelft = make_user(Role.MASH_WORKER, "nelft")
    client.force_login(nelft)
    ref = asked_enquiry.reference
    assert client.get(reverse("cases:detail", args=[ref])).status_code == 404
    assert client.post(reverse("cases:rate", args=[ref]), {"rate-rating": "red"}).status_code == 404
    request = asked_enquiry.information_requests.first()
    assert client.get(reverse("sharing:request", args=[request.pk])).status_code == 404
    assert ref not in text(client.get(reverse("cases:queue")))
    # An asked worker may see it, but not rate it.
    client.force_login(police_worker)
    assert client.get(reverse("cases:detail", args=[ref])).status_code == 200
    assert client.post(reverse("cases:rate", args=[ref]), {"rate-rating": "red"}).status_code == 403


def test_a_receiving_professional_gets_404_and_a_missing_enquiry_is_404(client, receiving_professional,
                                                                        new_enquiry, manager):
    client.force_login(receiving_professional)
    response = client.get(reverse("cases:detail", args=[new_enquiry.reference]))
    assert response.status_code == 404
    assert new_enquiry.reference not in text(response) and "Rowan" not in text(response)
    assert client.get(reverse("cases:contact_new")).status_code == 403
    assert "No disclosure packages from the MASH are open to you" in text(client.get(reverse("home")))
    client.force_login(manager)
    assert client.get(reverse("cases:detail", args=["MASH-1999-000001"])).status_code == 404


def test_anonymous_users_are_sent_to_sign_in(client, new_enquiry):
    for url in [reverse("home"), reverse("cases:queue"), reverse("cases:contact_new"),
                reverse("cases:detail", args=[new_enquiry.reference]),
                reverse("cases:rate", args=[new_enquiry.reference]), reverse("sharing:requests"),
                reverse("sharing:request", args=[1]), reverse("partners:isa")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url
    page = client.get(reverse("login"))
    assert page.status_code == 200 and 'lang="en-GB"' in text(page) and "govuk-template__body" in text(page)
    assert "/static/govuk/govuk-frontend.min.css" in text(page)
    response = client.post(reverse("login"), {"username": "nobody", "password": "wrong"})
    assert "govuk-error-summary" in text(response)


def test_sign_out_is_a_post(client, manager):
    client.force_login(manager)
    assert 'action="/logout/"' in text(client.get(reverse("home")))
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_isa_page(client, police_worker):
    client.force_login(police_worker)
    body = text(client.get(reverse("partners:isa")))
    assert "<title>Information Sharing Agreement – MASH Hub</title>" in body
    assert "Partner agencies (13)" in body
    assert "Police intelligence" in body and "S2.5.4" in body and "2026.2" in body
    assert "Police intelligence is never passed on" in body


def test_admin_is_for_system_administrators_only(client, manager, make_user):
    client.force_login(manager)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    sysadmin = make_user(Role.SYSADMIN, username="sysadmin")
    client.force_login(sysadmin)
    assert client.get("/admin/").status_code == 200
    sysadmin.is_superuser = True
    sysadmin.save()
    for url in ["/admin/accounts/user/", "/admin/accounts/apitoken/", "/admin/partners/partner/",
                "/admin/partners/isaversion/", f"/admin/accounts/user/{manager.pk}/change/",
                "/admin/accounts/user/add/"]:
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/partners/isaversion/add/").status_code == 403
    assert client.get("/admin/cases/enquiry/").status_code == 404


def _patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in ("admin", "api"):
                continue
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_every_web_page_declares_its_access_policy():
    pages = list(_patterns(get_resolver()))
    assert len(pages) >= 14
    missing = [route for route, view in pages if not policy_of(view)]
    assert missing == []
