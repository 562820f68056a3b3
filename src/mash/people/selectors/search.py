"""Finding a person, and a person's summary, through the gate.

Who may search: the MASH managers across the hub, and the MASH workers among the people they may
already see (`visible_people`). Nobody else searches (403, recorded). A search looks only among the
people the user may see, so nothing about anyone else (no count, no "N hidden") reaches them: a name
that matches only a person outside their need-to-know answers exactly as a name that matches nobody.

The name is matched fuzzily by `people.matching`: every name a person has had counts (previous names
and aliases), and a name is "like" the one asked when its level says so (a typo, a nickname, sounds the
same: `LIKE_GIVEN`, `LIKE_FAMILY`); the people found are ranked by `matching.compare` with whatever
else was asked. The people compared are those the user may see, when they are few (a MASH worker's),
else those the person index's blocking keys point to (an index lookup on the name's keys for every
year of birth) or who have the name as spelt. Date of birth, NHS number, unique pupil number and
postcode are exact (the postcode of the current address or of any recorded address). The fields given
are combined: a person must match each.

A search is recorded as a read of the people found, with the kind of search (which fields were
used), never the text typed (docs/audit.md). A person's page is recorded as a read of them and of the
people shown on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from mash.access import filters, gate
from mash.accounts.models import Role
from mash.audit import services as audit
from mash.cases.models import Enquiry
from mash.core.errors import PermissionDenied, ValidationFailed

from ..identifiers import normalise_nhs_number, normalise_postcode, normalise_upn
from ..matching import Details, blocking_keys, compare, level_family_name, level_given_name
from ..models import LocalIdentifier, MatchKey, Person, PersonAddress, PersonName, Relationship, RelationshipType
from . import visible_people, visible_person

SEARCHERS = frozenset({Role.MASH_MANAGER, Role.MASH_WORKER})
LIMIT = 50
# What a refusal is recorded as (the audit log's action); not a rule of mash.access.rules: who may
# search is the role (SEARCHERS), and whom they find is visible_people.
SEARCH = "person.search"
VIEW = "person.view"
NAME_LENGTH = 100
FIELDS_READ = ("name", "date of birth", "postcode")
CHILD_ROLE = "Child"


# --- What was asked -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Terms:
    """A search, normalised: each field empty (or None) when not given."""

    given_name: str = ""
    family_name: str = ""
    date_of_birth: dt.date | None = None
    nhs_number: str = ""
    upn: str = ""
    postcode: str = ""

    @property
    def has_name(self) -> bool:
        return bool(self.given_name or self.family_name)

    def kinds(self) -> tuple[str, ...]:
        """Which fields were used, in words: what the audit log records (never the values)."""
        used = (("name", self.has_name), ("date of birth", self.date_of_birth is not None),
                ("NHS number", self.nhs_number), ("unique pupil number", self.upn), ("postcode", self.postcode))
        return tuple(kind for kind, given in used if given)


def _name(data: Mapping, key: str, errors: dict) -> str:
    value = " ".join(str(data.get(key) or "").split())
    if "\x00" in value or len(value) > NAME_LENGTH:
        errors[key] = [f"Enter a name of at most {NAME_LENGTH} letters"]
        return ""
    return value


def _identifier(data: Mapping, key: str, normalise, errors: dict) -> str:
    value = str(data.get(key) or "").strip()
    if not value:
        return ""
    try:
        return normalise(value)
    except ValidationError as exc:
        errors[key] = exc.messages
        return ""


def terms_from(data: Mapping) -> Terms:
    """The search `data` asks for (given_name, family_name, date_of_birth, nhs_number, upn, postcode),
    checked and normalised; ValidationFailed naming each field that is wrong, or saying what to enter."""
    errors: dict[str, list[str]] = {}
    dob = data.get("date_of_birth") or None
    if dob is not None and not isinstance(dob, dt.date):
        try:
            dob = dt.date.fromisoformat(str(dob))
        except ValueError:
            errors["date_of_birth"] = ["Enter a real date of birth, like 2016-05-04"]
            dob = None
    terms = Terms(given_name=_name(data, "given_name", errors), family_name=_name(data, "family_name", errors),
                  date_of_birth=dob, nhs_number=_identifier(data, "nhs_number", normalise_nhs_number, errors),
                  upn=_identifier(data, "upn", normalise_upn, errors),
                  postcode=_identifier(data, "postcode", normalise_postcode, errors))
    if errors:
        raise ValidationFailed(errors)
    if not terms.kinds():
        raise ValidationFailed("Enter a name, a date of birth, an NHS number, a unique pupil number or a postcode")
    return terms


# --- Who may search ------------------------------------------------------------------------------

def may_search(user) -> bool:
    return bool(user and user.is_authenticated) and not gate.refusal(user) and user.role in SEARCHERS


def hub_wide(user) -> bool:
    """Whether the user's search reaches everyone in the hub (a MASH manager), not only whom they may see."""
    return may_search(user) and user.role == Role.MASH_MANAGER


def require_searcher(user) -> None:
    """PermissionDenied (recorded) unless the user may search for people."""
    if may_search(user):
        return
    reason = (gate.refusal(user) if user else None) or "only the MASH team searches for people"
    gate.record_denial(user, SEARCH, "person", "search", False, reason)
    raise PermissionDenied("You cannot search for people: only MASH managers and MASH workers can")


# --- Searching -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    person: Person
    roles: tuple[str, ...]          # in the hub, as the user may know it: "Child", "Mother"...
    score: float | None = None      # how closely the name matched (0 to 1); None for a search without a name
    reasons: tuple[str, ...] = ()   # why, in words ("similar name", "previous name")


@dataclass(frozen=True)
class SearchResult:
    terms: Terms
    found: list[Found] = field(default_factory=list)
    more: bool = False              # more than LIMIT people matched (among those the user may see)


def _exact(terms: Terms, people: QuerySet[Person]) -> QuerySet[Person]:
    if terms.nhs_number:
        people = people.filter(nhs_number=terms.nhs_number)
    if terms.upn:
        people = people.filter(upn=terms.upn)
    if terms.date_of_birth is not None:
        people = people.filter(date_of_birth=terms.date_of_birth)
    if terms.postcode:
        moved = PersonAddress.objects.filter(postcode=terms.postcode).values("person_id")
        people = people.filter(Q(postcode=terms.postcode) | Q(pk__in=moved))
    return people


# A name is looked for among at most this many people at once (the people a MASH worker may see, or those
# an exact field left); beyond it, only among those whose keys or exact names point to the name.
POOL = 1000
FETCH = 1000
# What makes a name "like" the one asked (matching.COMPARISONS' levels): any of these, for each part given.
LIKE_GIVEN = frozenset({"exact", "nickname", "phonetic", "jw92", "jw80"})
LIKE_FAMILY = frozenset({"exact", "previous", "phonetic", "jw92", "jw80"})


def _name_keys(terms: Terms) -> set[str]:
    """The blocking keys a person of this name born in any year would have (`yfg:` keys: the year of
    birth with both names' codes): looked up in the index, so a name alone finds people hub-wide."""
    if not (terms.given_name and terms.family_name):
        return set()
    keys = set()
    for year in range(1900, dt.date.today().year + 2):
        born = Details(terms.given_name, terms.family_name, date_of_birth=dt.date(year, 1, 1))
        keys.update(k for k in blocking_keys(born) if k.startswith("yfg:"))
    return keys


def _exact_names(terms: Terms) -> Q:
    """People with this name spelt as asked (any case), now or as a previous name or alias."""
    q = Q()
    for part, column in ((terms.given_name, "first_name"), (terms.family_name, "last_name")):
        if part:
            other = PersonName.objects.filter(**{f"{column}__iexact": part}).values("person_id")
            q &= Q(**{f"{column}__iexact": part}) | Q(pk__in=other)
    return q


def _pool(terms: Terms, people: QuerySet[Person]) -> QuerySet[Person]:
    ids = list(people.values_list("pk", flat=True)[:POOL + 1])
    if len(ids) <= POOL:
        return Person.objects.filter(pk__in=ids)
    keyed = MatchKey.objects.filter(key__in=sorted(_name_keys(terms))).values("person_id")
    return people.filter(Q(pk__in=keyed) | _exact_names(terms))[:FETCH]


def _by_name(terms: Terms, people: QuerySet[Person]) -> list[tuple[Person, float, tuple[str, ...]]]:
    """People whose name, a previous name or an alias is like the one asked (a typo, a nickname, sounds
    the same), best first: compared by `people.matching`, with whatever else was asked."""
    asked = Details(terms.given_name, terms.family_name, date_of_birth=terms.date_of_birth,
                    nhs_number=terms.nhs_number, upn=terms.upn, postcode=terms.postcode)
    found = []
    for person in _pool(terms, people).prefetch_related("names", "addresses"):
        theirs = Details.of(person)
        if terms.given_name and level_given_name(asked, theirs) not in LIKE_GIVEN:
            continue
        if terms.family_name and level_family_name(asked, theirs) not in LIKE_FAMILY:
            continue
        comparison = compare(asked, theirs)
        found.append((person, comparison.score, comparison.reasons))
    found.sort(key=lambda f: (-f[1], f[0].last_name, f[0].first_name, f[0].pk))
    return found


def search_people(user, terms: Terms, limit: int = LIMIT) -> SearchResult:
    """The people `user` may see who match `terms` (at most `limit`, best first), recorded as a read of the
    people found and the kind of search. PermissionDenied for a user who may not search."""
    require_searcher(user)
    people = _exact(terms, visible_people(user))
    if terms.has_name:
        ranked = _by_name(terms, people)
    else:
        ranked = [(p, None, ()) for p in people.order_by("last_name", "first_name", "pk")[:limit + 1]]
    ranked, more = ranked[:limit], len(ranked) > limit
    roles = roles_of(user, [p.pk for p, _, _ in ranked])
    found = [Found(p, roles.get(p.pk, ()), score, reasons) for p, score, reasons in ranked]
    # Recorded by whom it found, never by what was typed (docs/audit.md); a search that found nobody too.
    audit.note_read("person search", f"search by {' and '.join(terms.kinds())}", [f.person.pk for f in found],
                    FIELDS_READ)
    return SearchResult(terms, found, more)


# --- What the user may know of people's roles ---------------------------------------------------

def case_children(user) -> QuerySet:
    """The ids of the children whose enquiries the user may view (and the records they were merged into):
    whose household (relationships) the user may read."""
    children = gate.filtered(user, Enquiry.objects.all(), lambda: filters.enquiry_filter(user)).values("child_id")
    kept = Person.objects.filter(pk__in=children, merged_into__isnull=False).values("merged_into_id")
    return Person.objects.filter(Q(pk__in=children) | Q(pk__in=kept)).values("pk")


def roles_of(user, ids: list[int]) -> dict[int, tuple[str, ...]]:
    """Each person's roles in the hub as far as the user may know them: "Child" when they are the child of
    an enquiry the user may view, and how they are related to a child whose household the user may read."""
    if not ids:
        return {}
    children = case_children(user)
    roles: dict[int, list[str]] = {i: [] for i in ids}
    for pk in Person.objects.filter(pk__in=ids).filter(pk__in=children).values_list("pk", flat=True):
        roles[pk].append(CHILD_ROLE)
    labels = dict(RelationshipType.choices)
    for pk, kind in (Relationship.objects.filter(person_id__in=ids, child_id__in=children)
                     .values_list("person_id", "relationship").distinct()):
        label = labels.get(kind, kind)
        if label not in roles[pk]:
            roles[pk].append(label)
    return {pk: tuple(r) for pk, r in roles.items()}


# --- One person ----------------------------------------------------------------------------------

def person(user, person_id: int) -> Person:
    """A person the user may see, or NotFound, recorded (`visible_person`). For the person's pages."""
    return visible_person(user, person_id, action=VIEW)


@dataclass(frozen=True)
class Related:
    """Someone related to the person (or a child the person is related to), as the relationship says."""

    person: Person
    relationship: str               # "Mother", "Sibling"...
    linked: bool                    # the user may open their page
    lives_with_child: bool = False
    parental_responsibility: bool = False
    from_date: dt.date | None = None
    to_date: dt.date | None = None


@dataclass(frozen=True)
class PersonSummary:
    person: Person
    roles: tuple[str, ...]
    names: list[PersonName]
    addresses: list[PersonAddress]
    identifiers: list[LocalIdentifier]
    household: list[Related]        # the people related to this person as a child
    children: list[Related]         # the children this person is related to


def _related(rows, other: str, visible: set[int]) -> list[Related]:
    return [Related(getattr(r, other), r.get_relationship_display(), getattr(r, f"{other}_id") in visible,
                    r.lives_with_child, r.parental_responsibility, r.from_date, r.to_date) for r in rows]


def person_summary(user, found: Person) -> PersonSummary:
    """What the user may read of a person `person()` loaded: their names, addresses and identifiers, their
    roles, and the relationships recorded on the enquiries whose household the user may read (each
    other person linked only where the user may open their page). Recorded as a read of them all."""
    children = case_children(user)
    rels = Relationship.objects.select_related("child", "person").filter(child_id__in=children)
    household = list(rels.filter(child=found).order_by("relationship", "person__last_name", "pk"))
    of = list(rels.filter(person=found).order_by("child__date_of_birth", "child__last_name", "pk"))
    others = {r.person_id for r in household} | {r.child_id for r in of}
    visible = set(visible_people(user).filter(pk__in=others).values_list("pk", flat=True))
    summary = PersonSummary(
        person=found, roles=roles_of(user, [found.pk]).get(found.pk, ()),
        names=list(found.names.all()), addresses=list(found.addresses.all()),
        identifiers=list(found.local_identifiers.select_related("agency")),
        household=_related(household, "person", visible), children=_related(of, "child", visible))
    audit.note_read("person", str(found.pk), [found.pk, *sorted(others)],
                    ("name", "date of birth", "identifiers", "address", "household"))
    return summary
