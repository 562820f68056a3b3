"""Finding a person (issue 20, item 7): fuzzy names, previous names, postcode, NHS number; managers across the
hub, MASH workers among the people they may see; nobody learns that a person outside their need-to-know
exists, from a search, a count, an error or a person's page; every search audited without its text."""

import json
import re

import pytest

from mash.audit.models import AuditEvent, Kind
from mash.core.errors import PermissionDenied, ValidationFailed
from mash.people.models import NameKind, Person, PersonAddress, PersonName
from mash.people.selectors import search
from mash.people.services.index import index_person
from mash.testing.world import child_data, contact_data

pytestmark = pytest.mark.django_db

HIDDEN = "Quillfeatherton"  # the hidden child's surname: nobody else's
NOBODY = "Zzyxvortonby"     # nobody's


def _terms(**data):
    return search.terms_from(data)


def _names(result) -> list[str]:
    return [f.person.full_name for f in result.found]


@pytest.fixture
def hub(world):
    """Rowan (asked of Essex Police, so the police worker sees her and her mother) and a hidden child of
    another enquiry, asked of nobody. Every person indexed (MatchKey)."""
    visible = world.ask(world.rate(world.new_enquiry(related_people=[dict(
        first_name="Morgan", last_name="Exampleton", relationship="mother", lives_with_child=True,
        parental_responsibility=True, address_line_1="1 Sample Street", town="Grays", postcode="RM17 6SL")])))
    hidden = world.new_enquiry(child=child_data(first_name="Skye", last_name=HIDDEN, nhs_number="", upn="",
                                                date_of_birth="2014-02-03", postcode="SS17 0AA"),
                               related_people=[])
    for person in Person.objects.all():
        index_person(person)
    return visible, hidden


def test_a_worker_finds_only_whom_they_may_see_and_the_manager_everyone(world, hub):
    visible, hidden = hub
    police, manager = world.user("police_worker"), world.user("manager")
    assert _names(search.search_people(police, _terms(family_name="Exampleton"))) == ["Morgan Exampleton",
                                                                                      "Rowan Exampleton"]
    assert search.search_people(police, _terms(family_name=HIDDEN)).found == []
    assert _names(search.search_people(manager, _terms(family_name=HIDDEN))) == [f"Skye {HIDDEN}"]
    assert search.hub_wide(manager) and not search.hub_wide(police)


def test_fuzzy_name_finds_a_typo_and_a_nickname(world, hub):
    manager = world.user("manager")
    found = search.search_people(manager, _terms(given_name="Rowen", family_name="Exampletn")).found
    assert [f.person.full_name for f in found][:1] == ["Rowan Exampleton"] and found[0].reasons
    assert "Morgan Exampleton" not in [f.person.full_name for f in found]  # another given name
    Person.objects.filter(first_name="Morgan").update(first_name="Elizabeth")
    found = search.search_people(manager, _terms(given_name="Lizzie", family_name="Exampleton")).found
    assert [f.person.full_name for f in found] == ["Elizabeth Exampleton"]
    assert found[0].reasons[:2] == ("same family name", "given name a short form of the other (like Liz and Elizabeth)")


def test_a_name_is_found_hub_wide_through_the_index_when_the_pool_is_large(world, hub, monkeypatch):
    monkeypatch.setattr(search, "POOL", 0)  # as in a hub of many: only the name's keys and exact names
    manager = world.user("manager")
    assert _names(search.search_people(manager, _terms(given_name="Rowen", family_name="Exampelton"))) == [
        "Rowan Exampleton"]
    assert _names(search.search_people(manager, _terms(family_name="exampleton")))[:2] == [
        "Morgan Exampleton", "Rowan Exampleton"]


def test_a_previous_surname_finds_the_person(world, hub):
    visible, _ = hub
    PersonName.objects.create(person=visible.child, kind=NameKind.PREVIOUS, first_name="Rowan",
                              last_name="Formerlyton")
    found = search.search_people(world.user("police_worker"), _terms(family_name="Formerlyton")).found
    assert [f.person for f in found] == [visible.child]
    assert "family name matches a previous name or alias" in found[0].reasons


def test_a_postcode_finds_the_household_and_whoever_lived_there(world, hub):
    visible, hidden = hub
    PersonAddress.objects.create(person=hidden.child, address_line_1="9 Old Road", postcode="RM17 6SL",
                                 to_date="2020-01-01")
    manager, police = world.user("manager"), world.user("police_worker")
    found = search.search_people(manager, _terms(postcode="rm176sl"))
    assert sorted(_names(found)) == ["Morgan Exampleton", "Rowan Exampleton", f"Skye {HIDDEN}"]
    roles = {f.person.first_name: f.roles for f in found.found}
    assert roles["Rowan"] == ("Child",) and roles["Morgan"] == ("Mother",)
    assert sorted(_names(search.search_people(police, _terms(postcode="RM17 6SL")))) == [
        "Morgan Exampleton", "Rowan Exampleton"]


def test_nhs_number_is_exact_and_checked(world, hub):
    visible, _ = hub
    manager = world.user("manager")
    assert [f.person for f in search.search_people(manager, _terms(nhs_number="943 476 5919")).found] == [
        visible.child]
    assert search.search_people(manager, _terms(nhs_number="401 023 2137")).found == []  # valid, nobody's
    with pytest.raises(ValidationFailed) as bad:
        _terms(nhs_number="943 476 5918")
    assert "check digit" in bad.value.errors["nhs_number"][0]
    with pytest.raises(ValidationFailed):
        _terms()  # nothing to search by
    # Combined fields: each must match.
    assert search.search_people(manager, _terms(family_name="Exampleton", date_of_birth="2014-02-03")).found == []


def test_only_the_mash_team_searches(world, hub):
    for name in ("receiving_professional", "dpo", "auditor", "sysadmin"):
        with pytest.raises(PermissionDenied):
            search.search_people(world.user(name), _terms(family_name="Exampleton"))
    assert AuditEvent.objects.filter(kind=Kind.DENIAL, action=search.SEARCH).count() == 4


def _same(body: str, typed: str) -> str:
    """A page with what differs on every response (the CSRF tokens) and the text typed taken out."""
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    return body.replace(typed, "TYPED")


def test_a_worker_cannot_learn_that_a_hidden_child_exists(client, world, hub):
    """The same answer, page and API, for a name only a hidden child has as for a name nobody has; the hidden
    child's page is the same 404 as an id that is nobody's."""
    _, hidden = hub
    client.force_login(world.user("police_worker"))
    pages = {name: client.post("/people/search/", {"family_name": name}) for name in (HIDDEN, NOBODY)}
    assert {p.status_code for p in pages.values()} == {200}
    assert _same(pages[HIDDEN].content.decode(), HIDDEN) == _same(pages[NOBODY].content.decode(), NOBODY)
    assert "No one you may see matches" in pages[NOBODY].content.decode()
    api = {name: client.post("/api/v1/people/search", json.dumps({"family_name": name}),
                             content_type="application/json") for name in (HIDDEN, NOBODY)}
    assert [(r.status_code, r.json()) for r in api.values()] == [(200, {"people": [], "more": False})] * 2
    missing = Person.objects.order_by("-pk").first().pk + 100
    assert client.get(f"/people/{2**64}/").status_code == 404  # beyond any id: not found, not an error
    for url in ("/people/{}/", "/api/v1/people/{}"):
        shown, nobody = client.get(url.format(hidden.child_id)), client.get(url.format(missing))
        assert shown.status_code == nobody.status_code == 404
        assert _same(shown.content.decode(), "") == _same(nobody.content.decode(), "")
    # The manager reaches the same child, by search and by page.
    client.force_login(world.user("manager"))
    assert f"Skye {HIDDEN}" in client.post("/people/search/", {"family_name": HIDDEN}).content.decode()
    assert client.get(f"/people/{hidden.child_id}/").status_code == 200


def test_searches_are_audited_by_whom_they_found_never_the_text(client, world, hub):
    visible, _ = hub
    client.force_login(world.user("police_worker"))
    page = client.post("/people/search/", {"given_name": "Rowan", "family_name": "Exampleton",
                                           "date_of_birth_day": "4", "date_of_birth_month": "5", "date_of_birth_year": "2016"})
    assert page.status_code == 200 and f"/people/{visible.child_id}/" in page.content.decode()
    client.post("/api/v1/people/search", json.dumps({"nhs_number": "9434765919"}), content_type="application/json")
    client.post("/people/search/", {"family_name": NOBODY})
    events = list(AuditEvent.objects.filter(kind=Kind.READ, object_ref__contains="person search").order_by("pk"))
    refs = [e.object_ref for e in events]
    assert refs == ["person search: search by name and date of birth", "person search: search by NHS number",
                    "person search: search by name"]
    assert events[0].people == [visible.child_id] and events[2].people == []
    logged = json.dumps([[e.object_ref, e.detail, e.action, e.fields] for e in AuditEvent.objects.all()])
    for typed in ("Rowan", "Exampleton", "9434765919", NOBODY, "2016-05-04"):
        assert typed not in logged, typed


def test_a_bad_search_is_shown_on_the_form(client, world, hub):
    client.force_login(world.user("manager"))
    page = client.post("/people/search/", {"nhs_number": "123"})
    assert page.status_code == 400 and "Enter an NHS number of 10 digits" in page.content.decode()
    empty = client.post("/api/v1/people/search", "{}", content_type="application/json")
    assert empty.status_code == 400 and "Enter a name" in empty.json()["detail"]
    client.force_login(world.user("receiving_professional"))
    assert client.get("/people/search/").status_code == 403
    assert client.post("/api/v1/people/search", json.dumps({"family_name": "Exampleton"}),
                       content_type="application/json").status_code == 403


def test_a_parent_s_page_lists_their_children_and_is_audited(client, world, hub):
    visible, _ = hub
    mother = visible.child.relationships.get().person
    client.force_login(world.user("police_worker"))
    page = client.get(f"/people/{mother.pk}/")
    body = page.content.decode()
    assert page.status_code == 200 and "Children Morgan is related to" in body
    assert f'href="/people/{visible.child_id}/"' in body and "Mother" in body
    read = AuditEvent.objects.filter(kind=Kind.READ, object_type__contains="person").order_by("pk").last()
    assert mother.pk in read.people and visible.child_id in read.people
    child_page = client.get(f"/people/{visible.child_id}/").content.decode()
    assert f"/people/{visible.child_id}/history/" in child_page and f"/people/{mother.pk}/" in child_page
    api = client.get(f"/api/v1/people/{visible.child_id}").json()
    assert api["roles"] == ["Child"] and [(h["name"], h["relationship"]) for h in api["household"]] == [
        ("Morgan Exampleton", "Mother")]
