"""Is this the same person? Comparing what is known of two people, and the keys that find candidates.

Pure: no database. `compare` scores two `Details` with Fellegi–Sunter match weights: each comparison
(NHS number, unique pupil number, given name, family name, date of birth, postcode, gender) falls into
one level, each level has an m probability (how often two records of the same person fall into it) and
a u probability (how often two records of different people do), and the score is the posterior
probability of a match from the prior and the product of the levels' m/u. The m and u probabilities are
estimated by Splink on a synthetic population (scripts/train_match_model.py) and read from
match_model.json; the levels are defined here once, and the training script uses these same functions
(docs/decisions/0007-person-matching.md).

`blocking_keys` gives the keys a person is indexed under (`MatchKey`), chosen so that each kind of real
error (a typo, a nickname, day and month swapped, a new surname, a house move, a missing NHS number)
still leaves a duplicate sharing at least one key with the record it duplicates.
"""

from __future__ import annotations

import datetime
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jellyfish
from rapidfuzz.distance import JaroWinkler

from . import nicknames

MODEL_FILE = Path(__file__).with_name("match_model.json")


@dataclass(frozen=True)
class Details:
    """What is known of a person: as typed at intake, or read from a record."""

    given_name: str
    family_name: str
    date_of_birth: datetime.date | None = None
    nhs_number: str = ""  # normalised 10 digits or ""
    upn: str = ""
    postcode: str = ""  # normalised "RM17 6SL" or ""
    gender: str = ""
    other_names: tuple[tuple[str, str], ...] = ()  # previous names / aliases: (given, family)
    other_postcodes: tuple[str, ...] = ()  # previous addresses' postcodes

    @classmethod
    def of(cls, person) -> Details:
        """From a Person: its previous names and aliases and its addresses' postcodes too (prefetched ones
        when `names` and `addresses` were prefetched, else read)."""
        names = _related(person, "names")
        addresses = _related(person, "addresses")
        others = [(n.first_name, n.last_name) for n in names]
        others += _split_other_names(person.other_names or "")
        current = (person.postcode or "").upper()
        postcodes = tuple(dict.fromkeys(a.postcode.upper() for a in addresses if a.postcode and
                                        a.postcode.upper() != current))
        return cls(given_name=person.first_name or "", family_name=person.last_name or "",
                   date_of_birth=person.date_of_birth, nhs_number=person.nhs_number or "",
                   upn=person.upn or "", postcode=current,
                   gender="" if person.gender in ("", "unknown") else person.gender,
                   other_names=tuple(dict.fromkeys(others)), other_postcodes=postcodes)


def _related(person, name: str) -> list:
    cache = getattr(person, "_prefetched_objects_cache", {})
    if name in cache:
        return list(cache[name])
    if person.pk is None:
        return []
    return list(getattr(person, name).all())


def _split_other_names(text: str) -> list[tuple[str, str]]:
    """'known as, previous names' typed free: 'Lizzie; Beth Smith' -> [('Lizzie', ''), ('Beth', 'Smith')]."""
    found = []
    for part in re.split(r"[,;/]|\band\b", text):
        words = part.split()
        if len(words) == 1:
            found.append((words[0], ""))
        elif words:
            found.append((" ".join(words[:-1]), words[-1]))
    return found


# -- normalising ------------------------------------------------------------------------------------------

@lru_cache(maxsize=65536)
def norm(name: str) -> str:
    """Lower-case letters only, accents removed: "O'Brien-Smith" -> "obriensmith"."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    return "".join(ch for ch in decomposed.lower() if "a" <= ch <= "z")


@lru_cache(maxsize=65536)
def norm_given(name: str) -> str:
    """The first given name, normalised: "Mary Jane" -> "mary"."""
    words = (name or "").replace("-", " ").split()
    return norm(words[0]) if words else ""


@lru_cache(maxsize=65536)
def phonetic(name: str) -> frozenset[str]:
    """Metaphone and NYSIIS codes of a normalised name."""
    if not name:
        return frozenset()
    return frozenset((("m", jellyfish.metaphone(name)), ("n", jellyfish.nysiis(name))))


@lru_cache(maxsize=65536)
def soundex(name: str) -> str:
    return jellyfish.soundex(name) if name else ""


def _given_names(d: Details) -> list[str]:
    names = [norm_given(d.given_name)] + [norm_given(g) for g, _ in d.other_names]
    return [n for n in dict.fromkeys(names) if n]


def _family_names(d: Details) -> list[str]:
    names = [norm(d.family_name)] + [norm(f) for _, f in d.other_names]
    return [n for n in dict.fromkeys(names) if n]


def _postcodes(d: Details) -> list[str]:
    return [p for p in dict.fromkeys((d.postcode, *d.other_postcodes)) if p]


# -- the comparison levels (each returns a level's name, or None when either side is not known) --------

def _similarity_level(pairs) -> str:
    """The best over the pairs of names: Jaro-Winkler >= 0.92, a phonetic code in common (Metaphone or
    NYSIIS), Jaro-Winkler >= 0.8, else."""
    best = 3
    for x, y in pairs:
        jw = JaroWinkler.similarity(x, y)
        level = 0 if jw >= 0.92 else 1 if phonetic(x) & phonetic(y) else 2 if jw >= 0.8 else 3
        best = min(best, level)
    return ("jw92", "phonetic", "jw80", "else")[best]


def level_nhs_number(a: Details, b: Details) -> str | None:
    if not a.nhs_number or not b.nhs_number:
        return None
    return "exact" if a.nhs_number == b.nhs_number else "different"


def level_upn(a: Details, b: Details) -> str | None:
    if not a.upn or not b.upn:
        return None
    return "exact" if a.upn.upper() == b.upn.upper() else "different"


def level_given_name(a: Details, b: Details) -> str | None:
    ga, gb = _given_names(a), _given_names(b)
    if not ga or not gb:
        return None
    if set(ga) & set(gb):
        return "exact"
    pairs = [(x, y) for x in ga for y in gb]
    if any(nicknames.same_name(x, y) for x, y in pairs):
        return "nickname"
    return _similarity_level(pairs)


def level_family_name(a: Details, b: Details) -> str | None:
    fa, fb = _family_names(a), _family_names(b)
    if not fa or not fb:
        return None
    if norm(a.family_name) and norm(a.family_name) == norm(b.family_name):
        return "exact"
    if set(fa) & set(fb):
        return "previous"
    return _similarity_level([(x, y) for x in fa for y in fb])


def _one_digit_apart(x: datetime.date, y: datetime.date) -> bool:
    return sum(c != d for c, d in zip(x.isoformat(), y.isoformat())) == 1


def level_date_of_birth(a: Details, b: Details) -> str | None:
    x, y = a.date_of_birth, b.date_of_birth
    if x is None or y is None:
        return None
    if x == y:
        return "exact"
    if x.year == y.year and x.month == y.day and x.day == y.month:
        return "swapped"
    if _one_digit_apart(x, y):
        return "one_digit"
    return "same_year" if x.year == y.year else "else"


def sector(postcode: str) -> str:
    return postcode[:-2] if len(postcode) >= 5 else postcode


def district(postcode: str) -> str:
    return postcode.split(" ")[0]


def level_postcode(a: Details, b: Details) -> str | None:
    pa, pb = _postcodes(a), _postcodes(b)
    if not pa or not pb:
        return None
    if a.postcode and a.postcode == b.postcode:
        return "exact"
    if set(pa) & set(pb):
        return "previous"
    if {sector(p) for p in pa} & {sector(p) for p in pb}:
        return "sector"
    if {district(p) for p in pa} & {district(p) for p in pb}:
        return "district"
    return "else"


def level_gender(a: Details, b: Details) -> str | None:
    if not a.gender or not b.gender:
        return None
    return "exact" if a.gender == b.gender else "different"


# name -> (level function, levels best first, what each level says in words)
COMPARISONS = {
    "nhs_number": (level_nhs_number, {"exact": "same NHS number", "different": "different NHS numbers"}),
    "upn": (level_upn, {"exact": "same unique pupil number", "different": "different unique pupil numbers"}),
    "given_name": (level_given_name, {
        "exact": "same given name", "nickname": "given name a short form of the other (like Liz and Elizabeth)",
        "jw92": "given name spelt slightly differently", "phonetic": "given name sounds the same",
        "jw80": "similar given name", "else": "different given name"}),
    "family_name": (level_family_name, {
        "exact": "same family name", "previous": "family name matches a previous name or alias",
        "jw92": "family name spelt slightly differently", "phonetic": "family name sounds the same",
        "jw80": "similar family name", "else": "different family name"}),
    "date_of_birth": (level_date_of_birth, {
        "exact": "same date of birth", "swapped": "date of birth with day and month swapped",
        "one_digit": "date of birth one digit different", "same_year": "same year of birth",
        "else": "different date of birth"}),
    "postcode": (level_postcode, {
        "exact": "same postcode", "previous": "same postcode as a previous address",
        "sector": "nearby postcode (same sector)", "district": "same postcode district",
        "else": "different postcode area"}),
    "gender": (level_gender, {"exact": "same gender", "different": "different gender"}),
}


def levels(a: Details, b: Details) -> dict[str, str | None]:
    """Each comparison's level for the pair (None: not known on one side)."""
    return {name: function(a, b) for name, (function, _) in COMPARISONS.items()}


# -- the model --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Model:
    prior: float  # probability that two records drawn at random are one person
    mu: dict  # comparison -> level -> (m, u)

    def weight(self, comparison: str, level: str | None) -> float:
        """The level's match weight, log2(m/u); 0 for an unknown level."""
        if level is None:
            return 0.0
        m, u = self.mu[comparison][level]
        return math.log2(m / u)


def load_model(path: Path = MODEL_FILE) -> Model:
    data = json.loads(path.read_text(encoding="utf-8"))
    mu = {name: {level: tuple(pair) for level, pair in lv.items()} for name, lv in data["comparisons"].items()}
    missing = [f"{name}.{level}" for name, (_, words) in COMPARISONS.items() for level in words
               if level not in mu.get(name, {})]
    if missing:
        raise ValueError(f"{path.name} has no m and u for {', '.join(missing)}: retrain "
                         "(scripts/train_match_model.py)")
    return Model(prior=float(data["prior"]), mu=mu)


MODEL = load_model()
# A candidate is shown to a person from this score: chosen on the synthetic benchmark for precision
# >= 0.99 and recall >= 0.95 of the candidates shown (bench/person_matching.py, bench/README.md).
SHOW_AT: float = json.loads(MODEL_FILE.read_text(encoding="utf-8")).get("show_at", 0.9)


# -- comparing --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    score: float  # 0..1, probability it is the same person (Fellegi–Sunter posterior)
    reasons: tuple[str, ...]  # in words, strongest first
    conflicts: tuple[str, ...]  # identifiers that disagree with each other or with the rest


def match_weight(found: dict[str, str | None], model: Model | None = None) -> float:
    model = model or MODEL
    prior = math.log2(model.prior / (1 - model.prior))
    return prior + sum(model.weight(name, level) for name, level in found.items())


def probability(weight: float) -> float:
    if weight > 60:
        return 1.0
    return 1.0 / (1.0 + 2.0 ** (-weight))


def _conflicts(found: dict[str, str | None]) -> tuple[str, ...]:
    said = []
    for ident, words in (("nhs_number", "NHS number"), ("upn", "unique pupil number")):
        if found[ident] == "exact":
            if found["date_of_birth"] in ("same_year", "else"):
                said.append(f"same {words} but a different date of birth")
            if found["given_name"] in ("jw80", "else") and found["family_name"] in ("jw80", "else"):
                said.append(f"same {words} but a different name")
        elif found[ident] == "different":
            said.append(f"different {words}s")
    return tuple(said)


# Fellegi–Sunter takes the comparisons as independent given the truth. Within a household they are not:
# twins, brothers and sisters, a father and son of one name share a family name and an address (and twins
# a date of birth), so those agreements say "same household", not "same person". Where the records share
# no identifier and one of these differences stands, the score is at most AT_MOST (below SHOW_AT: not
# shown as a candidate) and the difference is given as a conflict (docs/decisions/0007-person-matching.md).
AT_MOST = 0.5
HOUSEHOLD_DIFFERENCES = {
    ("nhs_number", "different"): "different NHS numbers",
    ("upn", "different"): "different unique pupil numbers",
    ("given_name", "different"): "a different given name: a brother, sister or twin?",
    ("date_of_birth", "else"): "born in a different year: a parent and child of one name?",
}


def _household_differences(found: dict[str, str | None]) -> tuple[str, ...]:
    if found["nhs_number"] == "exact" or found["upn"] == "exact":
        return ()
    given = "different" if found["given_name"] == "else" else found["given_name"]
    checked = {**found, "given_name": given}
    return tuple(words for (name, level), words in HOUSEHOLD_DIFFERENCES.items() if checked[name] == level)


def compare(a: Details, b: Details, model: Model | None = None) -> Comparison:
    """How likely `a` and `b` are one person, why, and what contradicts it."""
    model = model or MODEL
    found = levels(a, b)
    weighed = [(model.weight(name, level), COMPARISONS[name][1][level])
               for name, level in found.items() if level is not None]
    reasons = tuple(words for weight, words in sorted(weighed, key=lambda w: -w[0]) if weight > 0)
    score = probability(match_weight(found, model))
    differences = _household_differences(found)
    if differences:
        score = min(score, AT_MOST)
    conflicts = tuple(dict.fromkeys(_conflicts(found) + differences))
    return Comparison(score=score, reasons=reasons, conflicts=conflicts)


# -- blocking keys ----------------------------------------------------------------------------------------

def _swapped(d: datetime.date) -> datetime.date | None:
    if d.day > 12 or d.day == d.month:
        return None
    return d.replace(month=d.day, day=d.month)


# At most this many people sharing keys are fetched and scored by a lookup, those sharing the most keys
# first: a real duplicate shares several, and a lookup stays small however common a name is.
MAX_FETCHED = 200


def blocking_keys(d: Details) -> set[str]:
    """The keys a person is indexed under and looked up by. Exact identifiers; and pairs, so that a key
    is selective in a million people: date of birth (as typed and with day and month swapped) with the
    family name's Soundex, with the given name's (through its nicknames) Soundex, with a postcode; a
    postcode (current or previous) with the family name's Soundex; the year of birth with both names'."""
    keys = set()
    if d.nhs_number:
        keys.add(f"nhs:{d.nhs_number}")
    if d.upn:
        keys.add(f"upn:{d.upn.upper()}")
    families = {soundex(f) for f in _family_names(d)}
    givens = {soundex(g) for name in _given_names(d) for g in nicknames.groups(name)}
    postcodes = _postcodes(d)
    if d.date_of_birth:
        dates = {d.date_of_birth.isoformat()}
        if swapped := _swapped(d.date_of_birth):
            dates.add(swapped.isoformat())
        for day in dates:
            keys.update(f"df:{day}:{f}" for f in families)
            keys.update(f"dg:{day}:{g}" for g in givens)
            keys.update(f"dp:{day}:{p}" for p in postcodes)
        keys.update(f"yfg:{d.date_of_birth.year}:{f}:{g}" for f in families for g in givens)
    keys.update(f"pf:{p}:{f}" for p in postcodes for f in families)
    return {k[:80] for k in keys}
