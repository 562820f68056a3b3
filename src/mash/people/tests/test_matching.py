"""Person matching (issue 20): each comparison level and its reason, the score, the blocking keys, and
candidate lookup through the MatchKey index. Every person is synthetic."""

import datetime as dt

import pytest

from mash.people import matching
from mash.people import services as people
from mash.people.matching import SHOW_AT, Details, blocking_keys, compare
from mash.people.models import MatchKey, Person, PersonAddress, PersonName
from mash.people.selectors import live_people
from mash.people.selectors.matching import candidates
from mash.people.services.index import index_person

DOB = dt.date(2015, 3, 4)
ROWAN = Details("Rowan", "Exampleton", DOB, nhs_number="9434765919", postcode="RM17 6SL", gender="female")


def with_(d: Details, **changes) -> Details:
    return Details(**{**d.__dict__, **changes})


# -- levels and reasons --------------------------------------------------------------------------------------

@pytest.mark.parametrize("comparison, a, b, level, words", [
    ("nhs_number", ROWAN, ROWAN, "exact", "same NHS number"),
    ("nhs_number", ROWAN, with_(ROWAN, nhs_number="4857773456"), "different", "different NHS numbers"),
    ("nhs_number", ROWAN, with_(ROWAN, nhs_number=""), None, None),
    ("upn", with_(ROWAN, upn="A123"), with_(ROWAN, upn="a123"), "exact", "same unique pupil number"),
    ("given_name", ROWAN, with_(ROWAN, given_name="ROWAN"), "exact", "same given name"),
    ("given_name", with_(ROWAN, given_name="Elizabeth"), with_(ROWAN, given_name="Liz"), "nickname",
     "given name a short form of the other (like Liz and Elizabeth)"),
    ("given_name", with_(ROWAN, given_name="Aiden"), with_(ROWAN, given_name="Aidan"), "phonetic",
     "given name sounds the same"),
    ("given_name", ROWAN, with_(ROWAN, given_name="Rowna"), "jw92", "given name spelt slightly differently"),
    ("given_name", ROWAN, with_(ROWAN, given_name="Rohan"), "jw80", "similar given name"),
    ("given_name", ROWAN, with_(ROWAN, given_name="Sam"), "else", "different given name"),
    ("family_name", ROWAN, with_(ROWAN, family_name="exampleton"), "exact", "same family name"),
    ("family_name", with_(ROWAN, family_name="Marsh", other_names=(("Rowan", "Exampleton"),)), ROWAN,
     "previous", "family name matches a previous name or alias"),
    ("family_name", with_(ROWAN, family_name="Smith"), with_(ROWAN, family_name="Smyth"), "phonetic",
     "family name sounds the same"),
    ("family_name", ROWAN, with_(ROWAN, family_name="Exampelton"), "jw92", "family name spelt slightly differently"),
    ("family_name", ROWAN, with_(ROWAN, family_name="Quill"), "else", "different family name"),
    ("date_of_birth", ROWAN, ROWAN, "exact", "same date of birth"),
    ("date_of_birth", ROWAN, with_(ROWAN, date_of_birth=dt.date(2015, 4, 3)), "swapped",
     "date of birth with day and month swapped"),
    ("date_of_birth", ROWAN, with_(ROWAN, date_of_birth=dt.date(2015, 3, 7)), "one_digit",
     "date of birth one digit different"),
    ("date_of_birth", ROWAN, with_(ROWAN, date_of_birth=dt.date(2015, 11, 29)), "same_year", "same year of birth"),
    ("date_of_birth", ROWAN, with_(ROWAN, date_of_birth=dt.date(2012, 11, 29)), "else", "different date of birth"),
    ("date_of_birth", ROWAN, with_(ROWAN, date_of_birth=None), None, None),
    ("postcode", ROWAN, ROWAN, "exact", "same postcode"),
    ("postcode", with_(ROWAN, postcode="SS1 1AA", other_postcodes=("RM17 6SL",)), ROWAN, "previous",
     "same postcode as a previous address"),
    ("postcode", ROWAN, with_(ROWAN, postcode="RM17 6QX"), "sector", "nearby postcode (same sector)"),
    ("postcode", ROWAN, with_(ROWAN, postcode="RM17 5AB"), "district", "same postcode district"),
    ("postcode", ROWAN, with_(ROWAN, postcode="SS1 1AA"), "else", "different postcode area"),
    ("gender", ROWAN, with_(ROWAN, gender="male"), "different", "different gender"),
])
def test_each_level_and_its_words(comparison, a, b, level, words):
    function, said = matching.COMPARISONS[comparison]
    assert function(a, b) == level == function(b, a)
    if level is not None:
        assert said[level] == words


def test_agreement_is_a_reason_and_disagreement_lowers_the_score():
    same = compare(ROWAN, with_(ROWAN, nhs_number=""))
    assert same.score > 0.99 and same.conflicts == ()
    assert {"same given name", "same family name", "same date of birth", "same postcode"} <= set(same.reasons)
    # strongest first: the date of birth says more than the gender
    assert same.reasons.index("same date of birth") < same.reasons.index("same gender")
    stranger = Details("Sam", "Quill", dt.date(1990, 7, 1), postcode="SS1 1AA")
    assert compare(ROWAN, stranger).score < 0.001


def test_a_nickname_and_a_swapped_date_still_match():
    typed = Details("Liz", "Exampleton", dt.date(2015, 4, 3), postcode="RM17 6SL")
    recorded = Details("Elizabeth", "Exampleton", DOB, postcode="RM17 6SL")
    found = compare(typed, recorded)
    assert found.score >= SHOW_AT
    assert "date of birth with day and month swapped" in found.reasons
    assert blocking_keys(typed) & blocking_keys(recorded)


def test_a_surname_change_is_found_through_a_previous_name():
    typed = Details("Rowan", "Exampleton", DOB)  # the name the referrer knew
    recorded = Details("Rowan", "Marsh", DOB, postcode="SS1 1AA", other_names=(("Rowan", "Exampleton"),))
    found = compare(typed, recorded)
    assert found.score >= SHOW_AT and "family name matches a previous name or alias" in found.reasons
    assert blocking_keys(typed) & blocking_keys(recorded)


def test_a_moved_family_is_found_by_name_and_date_of_birth():
    moved = with_(ROWAN, nhs_number="", postcode="SS1 1AA")
    found = compare(moved, with_(ROWAN, nhs_number=""))
    assert found.score >= SHOW_AT and "same postcode" not in found.reasons
    assert blocking_keys(moved) & blocking_keys(ROWAN)


def test_conflicting_identifiers_are_reported():
    assert "different NHS numbers" in compare(ROWAN, with_(ROWAN, nhs_number="4857773456")).conflicts
    other_birthday = with_(ROWAN, date_of_birth=dt.date(2009, 10, 30))
    assert compare(ROWAN, other_birthday).conflicts == ("same NHS number but a different date of birth",)
    renamed = with_(ROWAN, given_name="Sam", family_name="Quill")
    assert "same NHS number but a different name" in compare(ROWAN, renamed).conflicts


def test_the_keys_pair_identifiers_dates_names_and_postcodes():
    keys = blocking_keys(ROWAN)
    assert {"nhs:9434765919", "df:2015-03-04:E251", "df:2015-04-03:E251", "dp:2015-03-04:RM17 6SL",
            "pf:RM17 6SL:E251"} <= keys
    assert blocking_keys(Details("", "")) == set()


# -- the index and candidates ----------------------------------------------------------------------------------

def make_person(by, first="Rowan", last="Exampleton", dob=DOB, **fields) -> Person:
    person = Person.objects.create(first_name=first, last_name=last, date_of_birth=dob, created_by=by, **fields)
    index_person(person)
    return person


@pytest.mark.django_db
def test_candidates_are_found_through_the_index(manager, django_assert_max_num_queries):
    rowan = make_person(manager, nhs_number="9434765919", postcode="RM17 6SL", gender="female")
    typed = Details("Rowan", "Exampleton", DOB, postcode="RM17 6SL")
    with django_assert_max_num_queries(3):
        [found] = candidates(typed, among=live_people())
    assert found.person == rowan and found.score >= SHOW_AT and "same date of birth" in found.reasons
    # More people sharing no key cost no more queries, and are not scored.
    for n in range(5):
        make_person(manager, first=f"Quin{n}", last="Other", dob=dt.date(1980, 1, 1 + n))
    with django_assert_max_num_queries(3):
        assert [c.person for c in candidates(typed, among=live_people())] == [rowan]


@pytest.mark.django_db
def test_among_exclude_and_threshold_restrict(manager):
    rowan = make_person(manager, postcode="RM17 6SL")
    typed = Details("Rowan", "Exampleton", DOB, postcode="RM17 6SL")
    assert candidates(typed, among=Person.objects.exclude(pk=rowan.pk)) == []
    assert candidates(typed, among=live_people(), exclude=[rowan.pk]) == []
    weak = Details("Rowan", "Quill", dt.date(2015, 9, 9), postcode="RM17 6SL")  # shares the postcode only
    assert candidates(weak, among=live_people()) == []
    assert candidates(weak, among=live_people(), threshold=0.0) == []  # no key in common: never fetched
    near = Details("Rowan", "Exampleton", dt.date(2015, 9, 9), postcode="SS1 1AA")
    assert candidates(near, among=live_people()) == []
    [low] = candidates(near, among=live_people(), threshold=0.0)
    assert low.person == rowan and low.score < SHOW_AT


@pytest.mark.django_db
def test_previous_names_and_addresses_are_keys(manager):
    rowan = make_person(manager, last="Marsh", postcode="SS1 1AA")
    PersonName.objects.create(person=rowan, kind="previous", last_name="Exampleton", first_name="Rowan")
    PersonAddress.objects.create(person=rowan, postcode="RM17 6SL")
    index_person(rowan)
    keys = set(MatchKey.objects.filter(person=rowan).values_list("key", flat=True))
    assert {"df:2015-03-04:E251", "pf:RM17 6SL:M620", "dp:2015-03-04:RM17 6SL"} <= keys
    [found] = candidates(Details("Rowan", "Exampleton", DOB, postcode="RM17 6SL"), among=live_people())
    assert found.person == rowan


@pytest.mark.django_db
def test_an_amendment_rebuilds_the_keys(manager):
    rowan = make_person(manager)
    people.amend_person(rowan, {"last_name": "Marsh"}, reason="Surname changed by deed poll", by=manager)
    keys = set(MatchKey.objects.filter(person=rowan).values_list("key", flat=True))
    assert "df:2015-03-04:M620" in keys and "df:2015-03-04:E251" not in keys
    assert keys == blocking_keys(Details.of(rowan))


def test_a_twin_or_a_parent_of_one_name_is_not_shown():
    twin = with_(ROWAN, given_name="Sasha", nhs_number="")
    found = compare(with_(ROWAN, nhs_number=""), twin)
    assert found.score <= matching.AT_MOST < SHOW_AT
    assert found.conflicts == ("a different given name: a brother, sister or twin?",)
    father = with_(ROWAN, nhs_number="", date_of_birth=dt.date(1979, 8, 21))
    assert compare(with_(ROWAN, nhs_number=""), father).score <= matching.AT_MOST
    # A shared identifier outweighs the difference: the record is the same child, mistyped.
    assert compare(ROWAN, with_(ROWAN, given_name="Sasha")).score >= SHOW_AT


@pytest.mark.django_db
def test_reindex_rebuilds_every_live_persons_keys(manager):
    from io import StringIO

    from django.core.management import call_command

    rowan = Person.objects.create(first_name="Rowan", last_name="Exampleton", date_of_birth=DOB, created_by=manager)
    gone = make_person(manager, first="Ash")
    Person.objects.filter(pk=gone.pk).update(merged_into=rowan)
    out = StringIO()
    call_command("people", "reindex", stdout=out)
    assert set(rowan.match_keys.values_list("key", flat=True)) == blocking_keys(Details.of(rowan))
    assert not gone.match_keys.exists()
    assert "Reindexed 2 people" in out.getvalue()


@pytest.mark.django_db
def test_the_migration_builds_keys_for_people_recorded_before(manager):
    import importlib

    from django.apps import apps

    rowan = Person.objects.create(first_name="Rowan", last_name="Exampleton", date_of_birth=DOB, created_by=manager)
    migration = importlib.import_module("mash.people.migrations.0005_match_keys")
    migration.build_keys(apps, None)
    assert set(rowan.match_keys.values_list("key", flat=True)) == blocking_keys(Details.of(rowan))


def test_details_of_a_person_reads_the_free_text_other_names():
    person = Person(first_name="Elizabeth", last_name="Marsh", other_names="Lizzie; Beth Exampleton", gender="unknown",
                    postcode="RM17 6SL")
    d = Details.of(person)  # unsaved: no previous names or addresses to read
    assert d.other_names == (("Lizzie", ""), ("Beth", "Exampleton")) and d.gender == ""
    assert matching.level_family_name(d, Details("Beth", "Exampleton")) == "previous"
