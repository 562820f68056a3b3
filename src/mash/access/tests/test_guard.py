"""The guard's own parts: the policy a route declares from an action, and `may`, which hands the view what
the user may do with what a loader returned (the route's object, or the first of several)."""

import pytest

from mash.access.guard import May, policy_name, route_object
from mash.access.rules import (APPROVE_OVERRIDE, MANAGE_SAR, READ_FIELD, VIEW_ENQUIRY, VIEW_PERSON_TRAIL,
                               VIEW_REPORTS)


def test_a_route_declares_its_actions_policy():
    assert policy_name(VIEW_ENQUIRY) == "case:enquiry.view"
    assert policy_name(READ_FIELD) == "case:enquiry.read_field"
    assert policy_name(VIEW_PERSON_TRAIL) == "audit:audit.person_trail"
    assert policy_name(VIEW_REPORTS) == "reports:reports.view"
    assert policy_name(MANAGE_SAR) == "sar:sar.manage"
    assert policy_name("authenticated") == "authenticated"
    assert policy_name("training:record") == "training:record"


def test_may_is_of_the_first_thing_a_loader_returns():
    assert route_object(("enquiry", "record")) == "enquiry"
    assert route_object("enquiry") == "enquiry"


@pytest.mark.django_db
def test_a_refused_withdrawal_shows_the_consent_page_as_the_manager_may_use_it(client, new_enquiry, manager):
    """The withdrawal's loader returns (enquiry, record): the page shown again with the form's error still
    offers the manager what only a manager may do (approve sharing without consent)."""
    record = new_enquiry.consent_records.first()
    assert May(manager, new_enquiry).approve_override and May(manager, new_enquiry)(APPROVE_OVERRIDE)
    client.force_login(manager)
    response = client.post(f"/enquiries/{new_enquiry.reference}/consent/{record.pk}/withdraw/",
                           {f"withdraw-{record.pk}-reason": ""})
    assert response.status_code == 400
    assert b"Record and approve" in response.content
