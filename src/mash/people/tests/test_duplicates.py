"""Duplicates already recorded: `mash people find-duplicates`, the managers' review page, "not the same
person", and merging and undoing a merge from the page. Every person here is synthetic."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from mash.audit.models import AuditEvent, Kind
from mash.people.models import IdentityDecision, Merge, Person
from mash.people.selectors.duplicates import candidate_pairs
from mash.people.services import merging
from mash.people.services.index import index_person
from mash.testing.pages import text


def _person(by, **fields) -> Person:
    person = Person.objects.create(created_by=by, **fields)
    index_person(person)
    return person


@pytest.fixture
def people(world, manager):
    """Jade Newfield recorded twice (a typo in her first name), her NHS number on a second child with
    another date of birth (a conflict), and someone unrelated at the same postcode."""
    common = dict(last_name="Newfield", date_of_birth=dt.date(1994, 3, 12), postcode="RM17 6SL",
                  address_line_1="4 Sample Close", gender="female")
    return dict(
        jade=_person(manager, first_name="Jade", nhs_number="9434765919", **common),
        jayde=_person(manager, first_name="Jayde", nhs_number="", **common),
        clash=_person(manager, first_name="Jade", last_name="Newfield", nhs_number="9434765919",
                      date_of_birth=dt.date(2011, 7, 1)),
        other=_person(manager, first_name="Sam", last_name="Otherton", date_of_birth=dt.date(1970, 1, 30),
                      postcode="RM17 6SL"),
    )


def _pairs(**kwargs):
    return {frozenset((p.a.pk, p.b.pk)): p for p in candidate_pairs(**kwargs)}


def test_find_duplicates_lists_the_planted_pair_and_the_conflict_not_the_unrelated(people, manager):
    jade, jayde, clash, other = people["jade"], people["jayde"], people["clash"], people["other"]
    out = io.StringIO()
    call_command("people", "find-duplicates", "--threshold", "0.9", stdout=out)
    printed = out.getvalue()
    assert f"{jade.pk} Jade Newfield" in printed and f"{jayde.pk} Jayde Newfield" in printed
    assert "Otherton" not in printed
    assert "same NHS number but a different date of birth" in printed
    listed = AuditEvent.objects.get(kind=Kind.READ, action="person.find_duplicates")
    assert {jade.pk, jayde.pk, clash.pk} <= set(listed.people) and other.pk not in listed.people

    pairs = _pairs(threshold=0.9)
    assert frozenset((jade.pk, jayde.pk)) in pairs
    assert not any(other.pk in key for key in pairs)
    # The conflict is listed, as a conflict, whatever its score.
    assert "same NHS number but a different date of birth" in pairs[frozenset((jade.pk, clash.pk))].conflicts

    # Decided "not the same person": not offered again. Merged: the merged record is not offered again.
    merging.not_the_same(jade, clash, reason="Mother and daughter share a name; the NHS number was mistyped",
                         by=manager)
    merging.merge_people(jade, jayde, reason="Same person, first name misspelt", by=manager)
    assert _pairs(threshold=0.9) == {}
    assert IdentityDecision.objects.filter(person=jade, candidate=clash, outcome="new").exists()


def test_the_review_page_merge_and_undo(client, people, manager):
    jade, jayde = people["jade"], people["jayde"]
    client.force_login(manager)
    page = text(client.get("/people/duplicates/"))
    assert "Jayde Newfield" in page and "Conflict to resolve" in page
    assert "NHS number but a different date of birth" in page

    url = f"/people/duplicates/{jade.pk}/{jayde.pk}/"
    page = text(client.get(url))
    assert "Merge into this one" in page and "Not the same person" in page and "4 Sample Close" in page
    refused = client.post(url + "merge/", {"merge-kept": jade.pk, "merge-reason": ""})
    assert refused.status_code == 400 and "Give a reason" in text(refused)
    assert client.post(url + "merge/", {"merge-kept": jade.pk, "merge-reason": "Same person"}).status_code == 302
    made = Merge.objects.get()
    assert (made.kept_id, made.merged_id) == (jade.pk, jayde.pk)
    assert client.get(url).status_code == 404  # the merged record is no longer a live record of its own

    page = text(client.get("/people/duplicates/"))
    assert "Recent merges" in page and "Undo merge" in page
    undo = f"/people/merges/{made.pk}/undo/"
    assert client.post(undo, {"undo-reason": ""}).status_code == 400
    assert client.post(undo, {"undo-reason": "Sisters, not one person"}).status_code == 302
    made.refresh_from_db()
    assert made.undone_at is not None
    events = AuditEvent.objects.filter(kind=Kind.WRITE, action__in=("person.merge", "person.unmerge"))
    assert [e.action for e in events.order_by("id")] == ["person.merge", "person.unmerge"]
    read = AuditEvent.objects.filter(kind=Kind.READ, actor_id=manager.pk)
    assert any(jayde.pk in e.people for e in read)


def test_not_the_same_person_from_the_page(client, people, manager):
    jade, clash = people["jade"], people["clash"]
    client.force_login(manager)
    url = f"/people/duplicates/{jade.pk}/{clash.pk}/not-the-same/"
    assert client.post(url, {"apart-reason": "Mother and daughter"}).status_code == 302
    decision = IdentityDecision.objects.get()
    assert (decision.outcome, decision.decided_by_id, decision.reason) == ("new", manager.pk, "Mother and daughter")
    assert "NHS number but a different date of birth" not in text(client.get("/people/duplicates/"))


def test_only_managers_reach_the_review_pages(client, people, world):
    jade, jayde = people["jade"], people["jayde"]
    made = merging.merge_people(jade, jayde, reason="Same person", by=world.user("manager"))
    for name in ("council_worker", "police_worker", "dpo"):
        client.force_login(world.user(name))
        for url in ("/people/duplicates/", f"/people/duplicates/{jade.pk}/{people['clash'].pk}/",
                    f"/people/merges/{made.pk}/undo/"):
            assert client.get(url).status_code == 404, (name, url)
        posted = client.post(f"/people/duplicates/{jade.pk}/{people['clash'].pk}/merge/",
                             {"merge-kept": jade.pk, "merge-reason": "x"})
        assert posted.status_code == 404
    assert Merge.objects.count() == 1 and Merge.objects.get().undone_at is None
    assert AuditEvent.objects.filter(kind=Kind.DENIAL, actor_id=world.user("police_worker").pk).exists()
