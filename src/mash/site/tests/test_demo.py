import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory  # django-axes needs the request to count attempts
from django.core.management import call_command

from mash.accounts.models import Role, User
from mash.cases.models import Enquiry
from mash.cases.states import EnquiryState
from mash.sharing.models import Contribution

pytestmark = pytest.mark.django_db


def counts():
    return User.objects.count(), Enquiry.objects.count(), Contribution.objects.count()


def test_demo_is_idempotent_and_covers_every_role_and_state(capsys):
    call_command("demo", password="demo-password-for-tests")
    first = counts()
    call_command("demo")
    assert counts() == first
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    # One worker per partner agency, and one whose training refresher has lapsed.
    assert User.objects.filter(role=Role.MASH_WORKER, username__startswith="worker-").count() == 13
    from mash.training import services as training

    states = {u.username: training.status(u).state for u in User.objects.all()}
    assert states.pop("lapsed-worker") == "lapsed"
    assert set(states.values()) <= {"current", "not_required"}
    assert set(Enquiry.objects.values_list("state", flat=True)) == set(EnquiryState.values)
    assert any(e.is_overdue for e in Enquiry.objects.all())
    assert Contribution.objects.filter(kind="confidential_held").exists()
    assert authenticate(RequestFactory().post("/login/"), username="worker-essex-police", password="demo-password-for-tests") is not None
    out = capsys.readouterr().out
    assert "already present (unchanged)" in out and "http://127.0.0.1:8000/" in out
    # Issue 20's demo people: siblings sharing one mother's record, three contacts in a year for one
    # child (the repeat-contact flag), and a near-duplicate pair waiting for review.
    from mash.people.models import Person, Relationship
    from mash.people.selectors.duplicates import candidate_pairs

    mother = Person.objects.get(first_name="Jade", last_name="Newfield")
    assert set(Relationship.objects.filter(person=mother).values_list("child__first_name", flat=True)) == {"Ava", "Leo"}
    ava = Person.objects.get(first_name="Ava", last_name="Newfield")
    assert ava.enquiries.count() == 3
    pairs = [{p.a.last_name, p.b.last_name} for p in candidate_pairs(threshold=0.9)]
    assert {"Oakridge", "Oakrige"} in pairs


def test_a_given_password_resets_demo_users(monkeypatch):
    call_command("demo", password="first-demo-password")
    monkeypatch.setenv("MASH_DEMO_PASSWORD", "second-demo-password")
    call_command("demo")
    assert authenticate(RequestFactory().post("/login/"), username="manager", password="second-demo-password") is not None
