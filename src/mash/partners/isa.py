"""The Information Sharing Agreement: its schema, its validation, and look-ups into a loaded version.

Validation reports every problem with the path of the field it concerns, e.g.
`partners[4].contributions[1].category: unknown data category 'arests'`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from mash.core.vocabulary import Outcome, PartnerType, RagRating, RecipientType

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", min_length=2, max_length=80)]
Clause = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LawfulBasis(_Strict):
    id: Id
    clause: Clause
    description: Text


class DataCategory(_Strict):
    id: Id
    label: Text
    description: str = ""


class ContributionRule(_Strict):
    category: Id
    clause: Clause


class PartnerEntry(_Strict):
    id: Id
    name: Text
    type: PartnerType
    lawful_bases: list[Id] = Field(min_length=1)
    contributions: list[ContributionRule] = Field(min_length=1)


class OnwardDisclosureRule(_Strict):
    recipient_type: RecipientType
    clause: Clause
    categories: list[Id] = Field(min_length=1)
    # The lawful bases a package to this kind of recipient may rely on. An agreement that names none
    # (before 2026.2) lets no package be sent.
    lawful_bases: list[Id] = []
    package_expires_after_days: int = Field(gt=0, le=3650)
    conditions: str = ""


class RetentionRule(_Strict):
    outcome: Outcome
    clause: Clause
    retain_for_months: int = Field(gt=0, le=1200)
    then: str = Field(pattern="^(delete|anonymise)$")


class AfterDecision(_Strict):
    """What the MASH workers of the asked agencies keep once the manager has decided."""

    clause: Clause
    asked_agency_access_days: int = Field(ge=0, le=365, description="days after the decision during which "
                                          "asked agencies' MASH workers can still open the enquiry")


class WithoutConsent(_Strict):
    """Sharing without consent: where a child or adult may be at risk of significant harm."""

    clause: Clause
    lawful_bases: list[Id] = []


class ConsentRules(_Strict):
    clause: Clause
    without_consent: WithoutConsent


# Where an agreement says nothing about consent, nothing may be shared without it.
NO_SHARING_WITHOUT_CONSENT = ConsentRules(clause="none", without_consent=WithoutConsent(clause="none"))


# Where an agreement says nothing, asked agencies keep nothing after the decision.
NO_ACCESS_AFTER_DECISION = AfterDecision(clause="none", asked_agency_access_days=0)


class RepeatContacts(_Strict):
    """When a child's contacts are a pattern: `contacts` or more received in the last `months` months. The
    enquiry then shows the count to the MASH team, and no further action needs the manager's rationale."""

    clause: Clause
    contacts: int = Field(ge=2, le=100, description="contacts in the window that make a pattern")
    months: int = Field(ge=1, le=60, description="the window, in months, back from today")


# Where an agreement says nothing: 3 contacts in 12 months (issue 20; the DfE's re-referral window).
DEFAULT_REPEAT_CONTACTS = RepeatContacts(clause="none", contacts=3, months=12)


class DecisionTimescale(_Strict):
    rag: RagRating
    clause: Clause
    hours: int = Field(gt=0, le=24 * 30)


class IsaDocument(_Strict):
    version: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    title: Text
    effective_from: dt.date
    lawful_bases: list[LawfulBasis] = Field(min_length=1)
    data_categories: list[DataCategory] = Field(min_length=1)
    partners: list[PartnerEntry] = Field(min_length=1)
    onward_disclosure: list[OnwardDisclosureRule] = Field(min_length=1)
    retention: list[RetentionRule]
    decision_timescales: list[DecisionTimescale]
    after_decision: AfterDecision = NO_ACCESS_AFTER_DECISION
    consent: ConsentRules = NO_SHARING_WITHOUT_CONSENT
    repeat_contacts: RepeatContacts = DEFAULT_REPEAT_CONTACTS

    @model_validator(mode="after")
    def _cross_references(self):
        errors: list[str] = []

        def unique(items, attr, path):
            seen = set()
            for i, item in enumerate(items):
                value = getattr(item, attr)
                if value in seen:
                    errors.append(f"{path}[{i}].{attr}: duplicate '{value}'")
                seen.add(value)
            return seen

        bases = unique(self.lawful_bases, "id", "lawful_bases")
        categories = unique(self.data_categories, "id", "data_categories")
        unique(self.partners, "id", "partners")
        unique(self.partners, "name", "partners")
        unique(self.onward_disclosure, "recipient_type", "onward_disclosure")
        retained = unique(self.retention, "outcome", "retention")
        rated = unique(self.decision_timescales, "rag", "decision_timescales")

        for i, partner in enumerate(self.partners):
            for j, basis in enumerate(partner.lawful_bases):
                if basis not in bases:
                    errors.append(f"partners[{i}].lawful_bases[{j}]: unknown lawful basis '{basis}'")
            seen = set()
            for j, rule in enumerate(partner.contributions):
                if rule.category not in categories:
                    errors.append(
                        f"partners[{i}].contributions[{j}].category: unknown data category '{rule.category}'"
                    )
                if rule.category in seen:
                    errors.append(f"partners[{i}].contributions[{j}].category: duplicate '{rule.category}'")
                seen.add(rule.category)
        for i, rule in enumerate(self.onward_disclosure):
            for j, category in enumerate(rule.categories):
                if category not in categories:
                    errors.append(f"onward_disclosure[{i}].categories[{j}]: unknown data category '{category}'")
            for j, basis in enumerate(rule.lawful_bases):
                if basis not in bases:
                    errors.append(f"onward_disclosure[{i}].lawful_bases[{j}]: unknown lawful basis '{basis}'")
        for j, basis in enumerate(self.consent.without_consent.lawful_bases):
            if basis not in bases:
                errors.append(f"consent.without_consent.lawful_bases[{j}]: unknown lawful basis '{basis}'")
        for outcome in Outcome.values:
            if outcome not in retained:
                errors.append(f"retention: no rule for outcome '{outcome}'")
        for rag in RagRating.values:
            if rag not in rated:
                errors.append(f"decision_timescales: no timescale for rating '{rag}'")
        if errors:
            raise ValueError("\n".join(errors))
        return self


class IsaInvalid(Exception):
    """The agreement does not validate; `errors` lists each problem with its field path."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


def parse(text: str) -> IsaDocument:
    """Parse and validate ISA YAML, raising IsaInvalid with every error found."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise IsaInvalid([f"{where}not valid YAML ({getattr(exc, 'problem', None) or exc})"]) from None
    if not isinstance(data, dict):
        raise IsaInvalid(["(document): expected a mapping with version, title, partners ..."])
    try:
        return IsaDocument.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            if err["type"] == "value_error" and not err["loc"]:
                # Our cross-reference check: its message already names each path.
                errors.extend(str(err["ctx"]["error"]).split("\n"))
            else:
                msg = err["msg"]
                if err["type"] == "missing":
                    msg = "required field is missing"
                elif err["type"] == "extra_forbidden":
                    msg = "unknown field"
                elif err["type"] == "enum":
                    msg = f"'{err['input']}' is not allowed; {msg[0].lower()}{msg[1:]}"
                errors.append(f"{_path(err['loc'])}: {msg}")
        raise IsaInvalid(errors) from None


@dataclass(frozen=True)
class Permission:
    """What the ISA allows: the version and the clause a share relies on."""

    version: str
    clause: str


class Agreement:
    """Look-ups into one validated version of the ISA."""

    def __init__(self, document: IsaDocument):
        self.doc = document
        self.version = document.version
        self._partners = {p.id: p for p in document.partners}
        self._categories = {c.id: c for c in document.data_categories}
        self._bases = {b.id: b for b in document.lawful_bases}
        self._timescales = {t.rag: t for t in document.decision_timescales}
        self._retention = {r.outcome: r for r in document.retention}
        self._onward = {r.recipient_type: r for r in document.onward_disclosure}

    @classmethod
    def from_json(cls, data: dict) -> "Agreement":
        return cls(IsaDocument.model_validate(data))

    def partner(self, slug: str) -> PartnerEntry | None:
        return self._partners.get(slug)

    def category_label(self, category: str) -> str:
        c = self._categories.get(category)
        return c.label if c else category

    def categories(self) -> list[DataCategory]:
        return list(self.doc.data_categories)

    def permitted_categories(self, partner_slug: str) -> list[DataCategory]:
        entry = self._partners.get(partner_slug)
        if entry is None:
            return []
        return [self._categories[r.category] for r in entry.contributions]

    def contribution_permission(self, partner_slug: str, category: str) -> Permission | None:
        entry = self._partners.get(partner_slug)
        if entry is None:
            return None
        for rule in entry.contributions:
            if rule.category == category:
                return Permission(self.version, rule.clause)
        return None

    def timescale(self, rag: str) -> DecisionTimescale:
        return self._timescales[rag]

    def retention(self, outcome: str) -> RetentionRule:
        return self._retention[outcome]

    def onward_rule(self, recipient_type: str) -> OnwardDisclosureRule | None:
        return self._onward.get(recipient_type)

    @property
    def after_decision(self) -> AfterDecision:
        return self.doc.after_decision

    @property
    def consent(self) -> ConsentRules:
        return self.doc.consent

    @property
    def repeat_contacts(self) -> RepeatContacts:
        return self.doc.repeat_contacts

    def lawful_basis(self, basis_id: str) -> LawfulBasis | None:
        return self._bases.get(basis_id)

    def lawful_bases(self) -> list[LawfulBasis]:
        return list(self.doc.lawful_bases)
