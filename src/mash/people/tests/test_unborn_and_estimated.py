"""Issue 20, item 1: a date of birth may be an estimate, and a child not born yet has an expected date."""

import datetime as dt

import pytest

from mash.cases import services as cases
from mash.core.errors import ValidationFailed
from mash.testing.world import contact_data

pytestmark = pytest.mark.django_db


def _contact(world, **child):
    data = contact_data()
    data["child"] = {**data["child"], **child}
    return cases.record_contact(by=world.user("manager"), **data)


def test_an_unborn_child_has_an_expected_date_and_no_date_of_birth(world, client):
    due = dt.date.today() + dt.timedelta(days=90)
    enquiry = _contact(world, date_of_birth=None, unborn=True, expected_date=due)
    assert enquiry.child.unborn and enquiry.child.expected_date == due and enquiry.child.date_of_birth is None
    client.force_login(world.user("manager"))
    page = client.get(f"/enquiries/{enquiry.reference}/").content.decode()
    assert f"Not born yet: expected {due:%-d %B %Y}" in page
    body = client.get(f"/api/v1/enquiries/{enquiry.reference}").json()
    assert body["child"]["unborn"] is True and body["child"]["expected_date"] == due.isoformat()


def test_unborn_and_estimated_dates_are_checked(world):
    due = dt.date.today() + dt.timedelta(days=90)
    with pytest.raises(ValidationFailed) as no_due:
        _contact(world, date_of_birth=None, unborn=True)
    assert "child.expected_date" in no_due.value.errors
    with pytest.raises(ValidationFailed) as both:
        _contact(world, unborn=True, expected_date=due)  # contact_data gives a date of birth
    assert "child.date_of_birth" in both.value.errors
    with pytest.raises(ValidationFailed) as born:
        _contact(world, expected_date=due)
    assert "child.expected_date" in born.value.errors
    with pytest.raises(ValidationFailed) as guess:
        _contact(world, date_of_birth=None, date_of_birth_estimated=True)
    assert "child.date_of_birth_estimated" in guess.value.errors


def test_an_estimated_date_of_birth_is_shown_as_one(world, client):
    enquiry = _contact(world, date_of_birth_estimated=True)
    client.force_login(world.user("manager"))
    assert "(estimated)" in client.get(f"/enquiries/{enquiry.reference}/").content.decode()
