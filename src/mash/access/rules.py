"""The rules of need-to-know, written once and pure: no database, no domain's services.

A user comes to a case through *links*:

- hub manager: a MASH manager, who runs the hub and sees every enquiry;
- assigned: a MASH team member a manager put on the enquiry (case assignment);
- asked agency: a MASH worker whose agency was asked for information, for as long as the ISA lets
  asked agencies keep access after the decision (`after_decision`);
- own agency: on a request or a contribution, a worker of the agency it belongs to (same window);
- addressee: a receiving professional a live disclosure package is addressed to.

`ACTIONS` says which links allow each action, `FIELDS` which links read each part of an enquiry,
`ITEM_READERS` who reads an item of an answer at each confidentiality. `evaluate` applies them in
memory to a `Subject` and the `CaseFacts` of one enquiry. The same rules compiled to SQL are in
`mash.access.filters`; `mash.access.gate` loads the facts, decides, refuses and records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from mash.accounts.models import Role
from mash.sharing.models import Confidentiality

if TYPE_CHECKING:
    from mash.disclosure.models import DisclosurePackage

# --- Actions and fields ------------------------------------------------------------------

VIEW_ENQUIRY = "enquiry.view"
RECORD_CONTACT = "contact.record"
RATE = "enquiry.rate"
REQUEST_INFORMATION = "enquiry.request_information"
MARK_READY = "enquiry.mark_ready"
DECIDE = "enquiry.decide"
CLOSE = "enquiry.close"
ASSIGN = "enquiry.assign"
AMEND_PERSON = "person.amend"
VIEW_REQUEST = "request.view"
ANSWER_REQUEST = "request.answer"
UNSEAL = "contribution.unseal"
# Reading a file attached to an item: allowed wherever the item is readable (ITEM_READERS).
READ_ATTACHMENT = "attachment.read"
READ_FIELD = "enquiry.read_field"
# Consent (issue 5): recording consent and its withdrawal, proposing to share without consent, and
# a manager's approval of that.
RECORD_CONSENT = "consent.record"
PROPOSE_OVERRIDE = "consent.propose_override"
APPROVE_OVERRIDE = "consent.approve_override"
# Onward disclosure: the manager builds, sends and withdraws packages; the addressee reads one.
BUILD_PACKAGE = "package.build"
VIEW_PACKAGE = "package.view"
# The audit log's pages: who has seen a person's record (the MASH managers and the data protection
# officer), and what one user did (auditors and the data protection officer).
VIEW_PERSON_TRAIL = "audit.person_trail"
VIEW_USER_ACTIVITY = "audit.user_activity"
# The reports: counts only, never a child's data (the MASH managers and the data protection officer).
VIEW_REPORTS = "reports.view"
# Subject access requests: the data protection officer logs, compiles, reviews and answers them.
MANAGE_SAR = "sar.manage"
# Pages open to roles rather than to links with a case.
AUDIT_ROLES = {
    VIEW_PERSON_TRAIL: frozenset({Role.MASH_MANAGER, Role.DPO}),
    VIEW_USER_ACTIVITY: frozenset({Role.AUDITOR, Role.DPO}),
    VIEW_REPORTS: frozenset({Role.MASH_MANAGER, Role.DPO}),
    MANAGE_SAR: frozenset({Role.DPO}),
}


class Link(StrEnum):
    HUB_MANAGER = "hub manager"
    ASSIGNED = "assigned to the enquiry"
    ASKED_AGENCY = "worker of an agency that was asked"
    OWN_AGENCY = "worker of the agency it belongs to"
    ADDRESSEE = "receiving professional a live package is addressed to"


HUB, ASSIGNED, ASKED, OWN = Link.HUB_MANAGER, Link.ASSIGNED, Link.ASKED_AGENCY, Link.OWN_AGENCY
ADDRESSEE = Link.ADDRESSEE
TEAM = frozenset({HUB, ASSIGNED})

# Which links allow each action on an enquiry (object: Enquiry) or a request (object: InformationRequest).
ACTIONS: dict[str, frozenset[Link]] = {
    VIEW_ENQUIRY: frozenset({HUB, ASSIGNED, ASKED}),
    REQUEST_INFORMATION: TEAM,
    RATE: frozenset({HUB}),
    MARK_READY: frozenset({HUB}),
    DECIDE: frozenset({HUB}),
    CLOSE: frozenset({HUB}),
    ASSIGN: frozenset({HUB}),
    AMEND_PERSON: frozenset({HUB}),
    VIEW_REQUEST: frozenset({HUB, ASSIGNED, OWN}),
    ANSWER_REQUEST: frozenset({OWN}),
    UNSEAL: frozenset({OWN}),
    RECORD_CONSENT: TEAM,
    PROPOSE_OVERRIDE: TEAM,
    APPROVE_OVERRIDE: frozenset({HUB}),
    BUILD_PACKAGE: frozenset({HUB}),
    # object: DisclosurePackage. A receiving professional reaches a package, never its enquiry.
    VIEW_PACKAGE: frozenset({HUB, ASSIGNED, ADDRESSEE}),
}

# Which links may read each part of an enquiry. An asked agency needs the child, the household
# and the concern to search its own records, and the outcome once decided; it does not need who
# reported the concern, the MASH's reasoning, or other agencies' answers.
CHILD, HOUSEHOLD, CONCERN, RAG, OUTCOME = "child", "household", "concern", "rag", "outcome"
REPORTER, RATINGS, DECISION, HISTORY, REQUESTS, CONTRIBUTIONS, TEAM_MEMBERS, CONSENT, PACKAGES = (
    "reporter", "ratings", "decision", "history", "requests", "contributions", "team", "consent", "packages")
FIELDS: dict[str, frozenset[Link]] = {
    CHILD: frozenset({HUB, ASSIGNED, ASKED}),
    HOUSEHOLD: frozenset({HUB, ASSIGNED, ASKED}),
    CONCERN: frozenset({HUB, ASSIGNED, ASKED}),
    RAG: frozenset({HUB, ASSIGNED, ASKED}),
    OUTCOME: frozenset({HUB, ASSIGNED, ASKED}),
    REPORTER: TEAM,
    RATINGS: TEAM,
    DECISION: TEAM,
    HISTORY: TEAM,
    REQUESTS: TEAM,          # every agency's request; an asked agency sees its own through VIEW_REQUEST
    CONTRIBUTIONS: TEAM,     # every agency's answer; an asked agency reads its own as OWN
    TEAM_MEMBERS: TEAM,
    CONSENT: TEAM,           # consent records and sharing without consent, with their reasons
    PACKAGES: TEAM,          # the disclosure packages built from the enquiry
}

# Who reads an item of a contribution, by its confidentiality (object: the contribution).
ITEM_READERS: dict[str, frozenset[Link]] = {
    Confidentiality.NORMAL: frozenset({HUB, ASSIGNED, OWN}),
    Confidentiality.RESTRICTED: frozenset({HUB, OWN}),
    Confidentiality.SEALED: frozenset({OWN}),
}




@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    reason: str

    def __bool__(self):
        return self.allowed


# --- Facts and links ------------------------------------------------------------------------


def _within_window(decided_at, now, days: int) -> bool:
    return decided_at is None or decided_at >= now - dt.timedelta(days=days)


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need to know about one enquiry: loaded once, then every decision is in memory."""

    enquiry_id: int
    decided_at: dt.datetime | None
    asked_partner_ids: frozenset[int]
    assigned_user_ids: frozenset[int]
    window_days: int
    now: dt.datetime

    @property
    def asked_window_open(self) -> bool:
        return _within_window(self.decided_at, self.now, self.window_days)


@dataclass(frozen=True)
class Subject:
    """The user as the rules see them."""

    id: int
    role: str
    partner_id: int | None
    team: str = ""

    @classmethod
    def of(cls, user) -> "Subject":
        return cls(user.pk, user.role, user.partner_id, getattr(user, "team", "") or "")


def case_links(subject: Subject, facts: CaseFacts) -> frozenset[Link]:
    links = set()
    if subject.role == Role.MASH_MANAGER:
        links.add(HUB)
    if subject.role == Role.MASH_WORKER:
        if subject.id in facts.assigned_user_ids:
            links.add(ASSIGNED)
        if subject.partner_id and subject.partner_id in facts.asked_partner_ids and facts.asked_window_open:
            links.add(ASKED)
    return frozenset(links)


def agency_links(subject: Subject, facts: CaseFacts, partner_id: int) -> frozenset[Link]:
    """Links to something an agency owns on the case (its request, its contribution)."""
    links = set(case_links(subject, facts)) - {ASKED}
    if subject.role == Role.MASH_WORKER and subject.partner_id == partner_id and facts.asked_window_open:
        links.add(OWN)
    return frozenset(links)


def addressed_to(subject: Subject, package: DisclosurePackage) -> bool:
    if package.recipient_id is not None:
        return package.recipient_id == subject.id
    return bool(subject.team) and subject.team.strip().lower() == package.recipient_team.strip().lower()


def package_links(subject: Subject, facts: CaseFacts, package: DisclosurePackage) -> frozenset[Link]:
    """Links to a disclosure package: the team's to its enquiry, and the addressee's while it is live."""
    links = set(case_links(subject, facts)) - {ASKED}
    if subject.role == Role.RECEIVING_PROFESSIONAL and package.is_live and addressed_to(subject, package):
        links.add(ADDRESSEE)
    return frozenset(links)


def evaluate(subject: Subject, action: str, facts: CaseFacts, partner_id: int | None = None,
             field_name: str | None = None, package: DisclosurePackage | None = None) -> AccessDecision:
    """The rules, in memory. `partner_id` is the owning agency for a request or contribution."""
    if package is not None:
        allowed = ACTIONS.get(action, frozenset())
        links = package_links(subject, facts, package)
    elif action == READ_FIELD:
        allowed = FIELDS.get(field_name or "")
        if allowed is None:
            return AccessDecision(False, f"no rule for the field '{field_name}'")
        links = case_links(subject, facts)
    else:
        allowed = ACTIONS.get(action)
        if allowed is None:
            return AccessDecision(False, f"no policy allows {action}")
        links = agency_links(subject, facts, partner_id) if partner_id is not None else case_links(subject, facts)
    granted = links & allowed
    if granted:
        return AccessDecision(True, sorted(granted)[0].value)
    if not links:
        if package is not None and subject.role == Role.RECEIVING_PROFESSIONAL and addressed_to(subject, package):
            return AccessDecision(False, f"the package is {package.state_label.lower()}")
        if subject.role == Role.MASH_WORKER and subject.partner_id in facts.asked_partner_ids:
            return AccessDecision(False, f"the ISA's access for asked agencies ended {facts.window_days} days "
                                         "after the decision")
        return AccessDecision(False, "no need to know: not on this enquiry")
    if allowed <= {HUB}:
        return AccessDecision(False, "only a MASH manager may do this")
    if allowed == {OWN}:
        return AccessDecision(False, "only the agency the request is addressed to may do this")
    return AccessDecision(False, "not for the caller's link to this case: " + ", ".join(sorted(links)))


def amendment_readers(levels: set[str]) -> frozenset[Link]:
    """Who reads why a version of an answer was made: its own agency, and those of the MASH team who
    read every item the reason might speak of: the version's own items and, for an amendment (not an
    unsealing, whose earlier items are now at the level the agency chose), the earlier version's too.
    "Confidential information held" counts as sealed."""
    readers = frozenset({HUB, ASSIGNED, OWN})
    for level in levels:
        readers &= ITEM_READERS[level]
    return readers


def levels_readable(links: frozenset[Link]) -> list[str]:
    return [level for level, readers in ITEM_READERS.items() if links & readers]


def reads_own(subject: Subject, facts: CaseFacts) -> bool:
    return bool(subject.role == Role.MASH_WORKER and subject.partner_id and facts.asked_window_open)

