"""The one gate for case data: need-to-know, decided in one place and enforced in the database.

The rules are written once, as which *links* between a user and a case allow which action or
field (`ACTIONS`, `FIELDS`, `ITEM_READERS`). A link is how the user comes to the case:

- hub manager: a MASH manager, who runs the hub and sees every enquiry;
- assigned: a MASH team member a manager put on the enquiry (case assignment);
- asked agency: a MASH worker whose agency was asked for information, for as long as the ISA lets
  asked agencies keep access after the decision (`after_decision`);
- own agency: on a request or a contribution, a worker of the agency it belongs to (same window).

The same rules are used two ways, and tests prove they agree:
- `decide()` answers (user, action, object[, field]) in Python with a reason, from facts loaded
  once per object (`facts_for`), for single objects and for the reason a refusal gives;
- `enquiries()`, `information_requests()` compile them to SQL (a union of id sub-queries), so that no list
  or search loads rows in order to hide them.

Reads of one object go through `enquiry()` / `information_request()`, which answer NotFound for
what is outside the user's need to know (its existence is not revealed) and record the denial.
Fields go through `case_record()`, and contributions through `contribution_views()`, whose
queries never select sealed content for anyone but the agency that sealed it.

Before any rule, the user must be signed in, active, and pass every registered gate (the training
refresher of issue 6 registers one with `register_gate`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable

from django.db.models import (BigIntegerField, Case, CharField, Count, F, JSONField, OuterRef, Prefetch, Q, QuerySet,
                              Subquery, TextField, Value, When)
from django.urls import Resolver404, resolve
from django.utils import timezone

from mash.accounts.models import Role
from mash.audit import services as audit
from mash.audit.models import Kind as AuditKind
from mash.audit.models import Result as AuditResult
from mash.cases.models import Enquiry, EnquiryAssignment
from mash.core.errors import NotFound, PermissionDenied
from mash.disclosure.models import DisclosurePackage
from mash.sharing.models import (Confidentiality, Contribution, ContributionItem, ContributionKind,
                                 InformationRequest)

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

# The enquiry state machine's actions, and the access action that guards each.
# ("contribute" and "unseal" are guarded per request, by ANSWER_REQUEST and UNSEAL.)
STATE_ACTIONS = {
    "rate": RATE,
    "request_information": REQUEST_INFORMATION,
    "mark_ready": MARK_READY,
    "decide": DECIDE,
    "amend_decision": DECIDE,
    "close": CLOSE,
    "assign": ASSIGN,
    "end_assignment": ASSIGN,
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


# --- Gates every user passes first ---------------------------------------------------------

Gate = Callable[[object], str | None]
_gates: dict[Gate, tuple[str, str, str]] = {}  # each gate's advice, and the page that helps (URL name, link text)

# Policies that guard case data or what is derived from it; a user a gate refuses gets none of them.
GATED_POLICIES = ("case:", "audit:", "reports:", "sar:")


def register_gate(gate: Gate, *, advice: str = "", link_name: str = "", link_text: str = "") -> Gate:
    """Add a check every user must pass before any case data: returns None, or why the user is refused.
    `advice` tells a refused user what to do, and `link_name` names the page that helps."""
    _gates[gate] = (advice, link_name, link_text)
    return gate


def unregister_gate(gate: Gate) -> None:
    _gates.pop(gate, None)


@dataclass(frozen=True)
class GateRefusal:
    reason: str
    advice: str
    link_name: str
    link_text: str

    @property
    def message(self) -> str:
        return f"You cannot reach case data: {self.reason}. {self.advice}".strip()


def _gate_refusal(user) -> GateRefusal | None:
    for gate, (advice, link_name, link_text) in list(_gates.items()):
        reason = gate(user)
        if reason:
            return GateRefusal(reason, advice, link_name, link_text)
    return None


def refusal(user) -> str | None:
    """Why this user may not reach any case data at all, or None."""
    if not (user and user.is_authenticated):
        return "not signed in"
    if not user.is_active:
        return "the account is inactive"
    refused = _gate_refusal(user)
    return refused.reason if refused else None


def refuse_at_the_door(user, declared: str, path: str) -> GateRefusal | None:
    """For a signed-in user asking for a URL whose declared policy guards case data: the gate that refuses
    them, recorded as a denial; None when no gate does (the policy's own rules then decide)."""
    if not (declared and declared.startswith(GATED_POLICIES) and user and user.is_authenticated):
        return None
    refused = _gate_refusal(user)
    if refused:
        audit.record(AuditKind.DENIAL, declared.partition(":")[2] or declared, actor=user,
                     result=AuditResult.REFUSED, object_type="url", object_ref=loggable_path(path)[:300],
                     detail=refused.reason)
    return refused


# --- Facts: what links a user to one case ------------------------------------------------------

def _after_decision_days() -> int:
    from mash.partners import services as isa

    try:
        return isa.current()[1].after_decision.asked_agency_access_days
    except isa.NoAgreementLoaded:
        return 0


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


def facts_for(enquiry_obj: Enquiry, refresh: bool = False) -> CaseFacts:
    cached = getattr(enquiry_obj, "_access_facts", None)
    if cached is not None and not refresh:
        return cached
    facts = CaseFacts(
        enquiry_id=enquiry_obj.pk,
        decided_at=enquiry_obj.decided_at,
        asked_partner_ids=frozenset(
            InformationRequest.objects.filter(enquiry_id=enquiry_obj.pk).values_list("partner_id", flat=True)),
        assigned_user_ids=frozenset(
            EnquiryAssignment.objects.filter(enquiry_id=enquiry_obj.pk, ended_at__isnull=True)
            .values_list("user_id", flat=True)),
        window_days=_after_decision_days(),
        now=timezone.now(),
    )
    enquiry_obj._access_facts = facts
    return facts


def forget_facts(enquiry_obj: Enquiry) -> None:
    """After a change that alters who is linked (a request, an assignment, a decision)."""
    enquiry_obj.__dict__.pop("_access_facts", None)


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


def decide(user, action: str, obj=None, field_name: str | None = None) -> AccessDecision:
    """Whether `user` may take `action` on `obj` (or read `field_name` of an enquiry), and why."""
    refused = refusal(user)
    if refused:
        return AccessDecision(False, refused)
    if action == RECORD_CONTACT:
        if user.role in (Role.MASH_MANAGER, Role.MASH_WORKER):
            return AccessDecision(True, "MASH team member")
        return AccessDecision(False, "only the MASH team records contacts")
    subject = Subject.of(user)
    if isinstance(obj, Enquiry):
        return evaluate(subject, action, facts_for(obj), field_name=field_name)
    if isinstance(obj, InformationRequest):
        return evaluate(subject, action, facts_for(obj.enquiry), partner_id=obj.partner_id)
    if isinstance(obj, Contribution):
        return evaluate(subject, action, facts_for(obj.enquiry), partner_id=obj.partner_id)
    if isinstance(obj, DisclosurePackage):
        return evaluate(subject, action, facts_for(obj.enquiry), package=obj)
    return AccessDecision(False, f"no policy allows {action}")


# --- Denials -----------------------------------------------------------------------------------

# What the log keeps of an object asked for: an id, or a reference shaped as the application makes them
# (MASH-2026-000001, SAR-2026-0001/12). Anything else was typed (a name in a reference box or a URL) and
# is not kept: the audit log is append-only and outlives retention (docs/audit.md).
_LOGGABLE_REF = re.compile(r"(?:[A-Za-z]{1,10}-\d{4}-\d{1,10}|\d{1,9})(?:/\d{1,19})?|[*]|search|open|all|")
NOT_KEPT = "(typed text, not kept)"


def loggable_ref(ref) -> str:
    if isinstance(ref, int):
        return str(ref)
    text = str(ref or "")
    return text if _LOGGABLE_REF.fullmatch(text) else NOT_KEPT


def loggable_path(path: str) -> str:
    """A URL for the log, with whatever was typed where a reference goes left out."""
    try:
        match = resolve(path)
    except Resolver404:
        return f"(no such page: {NOT_KEPT})"
    for value in match.kwargs.values():
        if loggable_ref(value) == NOT_KEPT:
            path = path.replace(str(value), NOT_KEPT)
    return path


def record_denial(user, action: str, object_type: str, ref, exists: bool, reason: str) -> None:
    """Into the audit log: the user saw "not found" or "forbidden"; the log says why, and whether it exists."""
    signed_in = bool(user and user.is_authenticated)
    audit.record(AuditKind.DENIAL, action, actor=user if signed_in else None, result=AuditResult.REFUSED,
                 object_type=object_type, object_ref=loggable_ref(ref)[:60],
                 detail=f"{reason} ({'exists' if exists else 'no such object'})")


def require(user, action: str, obj=None, field_name: str | None = None) -> AccessDecision:
    """Raise unless allowed: NotFound where the user may not even see the object, else PermissionDenied.

    Every refusal is recorded."""
    verdict = decide(user, action, obj, field_name)
    if verdict:
        return verdict
    if obj is None:
        record_denial(user, action, "", "", False, verdict.reason)
        raise PermissionDenied(f"You cannot do this: {verdict.reason}")
    kind = "enquiry" if isinstance(obj, Enquiry) else type(obj).__name__.lower()
    ref = obj.reference if isinstance(obj, Enquiry) else obj.pk
    record_denial(user, action, kind, ref, True, verdict.reason)
    view = (VIEW_ENQUIRY if isinstance(obj, Enquiry) else VIEW_PACKAGE if isinstance(obj, DisclosurePackage)
            else VIEW_REQUEST)
    if action != view and decide(user, view, obj):
        raise PermissionDenied(f"You cannot do this: {verdict.reason}")
    raise NotFound()


def available_actions(user, enquiry_obj: Enquiry) -> list[str]:
    """The state-machine actions the enquiry's state allows and this user may take on it."""
    from mash.cases.states import allowed_actions
    from mash.sharing.models import RequestStatus

    out = []
    for action in allowed_actions(enquiry_obj.state):
        if action == "contribute":
            open_requests = information_requests(user).filter(enquiry=enquiry_obj, status=RequestStatus.OPEN)
            if any(decide(user, ANSWER_REQUEST, r) for r in open_requests):
                out.append(action)
        elif action == "end_assignment" and not facts_for(enquiry_obj).assigned_user_ids:
            continue
        elif action in STATE_ACTIONS and decide(user, STATE_ACTIONS[action], enquiry_obj):
            out.append(action)
    return out


# --- Lists: the same rules compiled to SQL -----------------------------------------------------

def _window_q(prefix: str = "") -> Q:
    cutoff = timezone.now() - dt.timedelta(days=_after_decision_days())
    return Q(**{f"{prefix}decided_at__isnull": True}) | Q(**{f"{prefix}decided_at__gte": cutoff})


# Each link is a sub-query of ids, and a user's links are joined with UNION inside one `pk IN (...)`.
# (`EXISTS ... OR EXISTS ...` reads: PostgreSQL cannot use an index for an OR of sub-queries, so it
# tested every row of the table; with the union each arm is an index scan and the cost follows what
# the user may see. bench/queue_postgres.py measured both.)

def _assigned_enquiry_ids(user) -> QuerySet:
    return EnquiryAssignment.objects.filter(user_id=user.pk, ended_at__isnull=True).order_by().values("enquiry_id")


def _own_agency_requests(user) -> QuerySet:
    """Requests to the user's agency on enquiries still within the ISA's window."""
    return InformationRequest.objects.filter(_window_q("enquiry__"), partner_id=user.partner_id).order_by()


def _asked_enquiry_ids(user) -> QuerySet:
    return _own_agency_requests(user).values("enquiry_id")


def _in_any(arms: list[QuerySet]) -> Q:
    if not arms:
        return Q(pk__in=[])
    return Q(pk__in=arms[0] if len(arms) == 1 else arms[0].union(*arms[1:]))


def enquiry_filter(user, action: str = VIEW_ENQUIRY) -> Q | None:
    """The rules for `action` as a filter on Enquiry; None means every enquiry."""
    allowed = ACTIONS[action]
    if user.role == Role.MASH_MANAGER and HUB in allowed:
        return None
    if user.role != Role.MASH_WORKER:
        return Q(pk__in=[])
    arms = []
    if ASSIGNED in allowed:
        arms.append(_assigned_enquiry_ids(user))
    if ASKED in allowed and user.partner_id:
        arms.append(_asked_enquiry_ids(user))
    return _in_any(arms)


def _describe_enquiry(obj: Enquiry):
    return obj.reference, [obj.child_id]


def _describe_request(obj: InformationRequest):
    # `information_requests()` selects the enquiry with each request, so this costs no query.
    return f"{obj.enquiry.reference}/{obj.pk}", [obj.enquiry.child_id]


def _filtered(user, qs: QuerySet, rules: Callable[[], Q | None]) -> QuerySet:
    """`qs` narrowed by the rules' filter (None: all of it); nothing for a user the gates refuse."""
    if refusal(user):
        return qs.none()
    q = rules()
    return qs if q is None else qs.filter(q)


def _enquiries(user, action: str) -> QuerySet[Enquiry]:
    return _filtered(user, Enquiry.objects.select_related("child", "contact"), lambda: enquiry_filter(user, action))


def enquiries(user, action: str = VIEW_ENQUIRY) -> QuerySet[Enquiry]:
    """The enquiries `user` may take `action` on. Rows loaded from it are recorded as read."""
    return audit.track(_enquiries(user, action), "enquiry", _describe_enquiry)


def request_filter(user, action: str = VIEW_REQUEST) -> Q | None:
    allowed = ACTIONS[action]
    if user.role == Role.MASH_MANAGER and HUB in allowed:
        return None
    if user.role != Role.MASH_WORKER:
        return Q(pk__in=[])
    arms = []
    if ASSIGNED in allowed:
        arms.append(InformationRequest.objects.filter(enquiry_id__in=_assigned_enquiry_ids(user))
                    .order_by().values("pk"))
    if OWN in allowed and user.partner_id:
        arms.append(_own_agency_requests(user).values("pk"))
    return _in_any(arms)


def _information_requests(user, action: str) -> QuerySet[InformationRequest]:
    return _filtered(user, InformationRequest.objects.select_related("enquiry", "enquiry__child", "partner",
                                                                    "requested_by"),
                     lambda: request_filter(user, action))


def information_requests(user, action: str = VIEW_REQUEST) -> QuerySet[InformationRequest]:
    """The requests `user` may take `action` on. Rows loaded from it are recorded as read."""
    return audit.track(_information_requests(user, action), "request", _describe_request)


def package_filter(user) -> Q | None:
    """VIEW_PACKAGE as a filter: every package for a manager, those on their enquiries for an assigned
    worker, and for a receiving professional the live packages addressed to them or their team."""
    if user.role == Role.MASH_MANAGER:
        return None
    if user.role == Role.MASH_WORKER:
        return Q(enquiry_id__in=_assigned_enquiry_ids(user))
    if user.role == Role.RECEIVING_PROFESSIONAL:
        from mash.disclosure.services import live_q

        mine = Q(recipient_id=user.pk)
        if (user.team or "").strip():
            mine |= Q(recipient__isnull=True, recipient_team__iexact=user.team.strip())
        return live_q() & mine
    return Q(pk__in=[])


def _describe_package(obj: DisclosurePackage):
    return f"package {obj.pk}", [obj.enquiry.child_id]


def _packages(user) -> QuerySet[DisclosurePackage]:
    return _filtered(user, DisclosurePackage.objects.select_related("enquiry", "enquiry__child", "recipient",
                                                                    "isa_version"),
                     lambda: package_filter(user))


def packages(user) -> QuerySet[DisclosurePackage]:
    """The disclosure packages `user` may see. Rows loaded from it are recorded as read."""
    return audit.track(_packages(user), "package", _describe_package)


def search_enquiries(user, text: str) -> QuerySet[Enquiry]:
    """Enquiries the user may see whose reference or child matches `text`. Filtered first, then matched."""
    text = (text or "").strip()
    visible = enquiries(user)
    if not text:
        return visible
    if "\x00" in text:  # no stored text holds NUL, and PostgreSQL refuses a query that does
        return visible.none()
    q = Q(reference__iexact=text) | Q(child__nhs_number=text.replace(" ", "")) | Q(child__upn__iexact=text)
    words = text.split()
    name_q = Q()
    for word in words[:4]:
        name_q &= (Q(child__first_name__icontains=word) | Q(child__last_name__icontains=word)
                   | Q(child__other_names__icontains=word))
    # Only the name fields the user may read: an asked agency reads the child (CHILD includes ASKED).
    return visible.filter(q | name_q)


def with_outcome(visible: QuerySet[Enquiry]) -> QuerySet[Enquiry]:
    """Annotate a list from `enquiries()` with the current decision's outcome (`outcome`).

    Every link that can see an enquiry may read its outcome (FIELDS[OUTCOME]), so a list the gate
    filtered may carry it."""
    from mash.cases.models import Decision

    assert FIELDS[OUTCOME] >= ACTIONS[VIEW_ENQUIRY], "the outcome must be readable wherever the enquiry is"
    latest = Decision.objects.filter(enquiry=OuterRef("pk"), superseded_by__isnull=True).values("outcome")[:1]
    return visible.annotate(outcome=Subquery(latest))


# --- One object ---------------------------------------------------------------------------------

def enquiry(user, reference: str) -> Enquiry:
    """One enquiry the user may see (its parts are read, and recorded, through `case_record`)."""
    found = _enquiries(user, VIEW_ENQUIRY).filter(reference=reference).first()
    if found is None:
        exists = Enquiry.objects.filter(reference=reference).exists()
        if exists:
            reason = decide(user, VIEW_ENQUIRY, Enquiry.objects.get(reference=reference)).reason
        else:
            reason = "no such enquiry"
        record_denial(user, VIEW_ENQUIRY, "enquiry", reference, exists, reason)
        raise NotFound()
    return found


def information_request(user, pk: int) -> InformationRequest:
    found = _information_requests(user, VIEW_REQUEST).filter(pk=pk).first()
    if found is not None:
        # A request is read with its enquiry's child and concern (sharing/api.py request_out).
        audit.note_read("request", f"{found.enquiry.reference}/{found.pk}", [found.enquiry.child_id],
                        ("request", CHILD, CONCERN))
    if found is None:
        existing = InformationRequest.objects.filter(pk=pk).select_related("enquiry").first()
        reason = decide(user, VIEW_REQUEST, existing).reason if existing else "no such request"
        record_denial(user, VIEW_REQUEST, "informationrequest", pk, existing is not None, reason)
        raise NotFound()
    return found


def enquiry_packages(user, enquiry_obj: Enquiry) -> list[DisclosurePackage]:
    """The packages built from one enquiry (the team's), newest first; looking is a read of the enquiry."""
    require(user, READ_FIELD, enquiry_obj, PACKAGES)
    audit.note_read("enquiry", enquiry_obj.reference, [enquiry_obj.child_id], (PACKAGES,))
    return list(packages(user).filter(enquiry=enquiry_obj).order_by("-created_at", "-id"))


def package(user, pk: int) -> DisclosurePackage:
    """One disclosure package the user may see; its content is read through `package_content`."""
    found = _packages(user).filter(pk=pk).first()
    if found is None:
        existing = DisclosurePackage.objects.filter(pk=pk).select_related("enquiry").first()
        reason = decide(user, VIEW_PACKAGE, existing).reason if existing else "no such package"
        record_denial(user, VIEW_PACKAGE, "disclosurepackage", pk, existing is not None, reason)
        raise NotFound()
    return found


def package_content(user, package_obj: DisclosurePackage) -> dict:
    """What the package says (for a draft, what it would say if sent now), recorded as read.

    The recipient reads the content fixed when it was sent and nothing of the enquiry behind it."""
    from mash.disclosure import services as disclosure

    require(user, VIEW_PACKAGE, package_obj)
    content = disclosure.preview(package_obj)
    audit.note_read("package", str(package_obj.pk), [package_obj.enquiry.child_id], ("package",))
    return content


def consent_position(user, enquiry_obj: Enquiry):
    """The consent records and sharing without consent on an enquiry, for the team."""
    from mash.consent import services as consent

    require(user, READ_FIELD, enquiry_obj, CONSENT)
    found = consent.position(enquiry_obj)
    audit.note_read("consent", enquiry_obj.reference, [r.person_id for r in found.records] + [enquiry_obj.child_id],
                    (CONSENT,))
    return found


def _on_enquiry(user, action: str, enquiry_obj: Enquiry, model, pk: int):
    """One row of `model` on this enquiry for `action` on it; NotFound (recorded) if there is none."""
    require(user, action, enquiry_obj)
    found = model.objects.filter(enquiry=enquiry_obj, pk=pk).select_related("enquiry").first()
    if found is None:
        record_denial(user, action, model._meta.model_name, pk, False, "no such record on this enquiry")
        raise NotFound()
    return found


def consent_record(user, enquiry_obj: Enquiry, record_id: int):
    """One consent record on this enquiry, for a change to it (withdrawal)."""
    from mash.consent.models import ConsentRecord

    return _on_enquiry(user, RECORD_CONSENT, enquiry_obj, ConsentRecord, record_id)


def consent_override(user, enquiry_obj: Enquiry, override_id: int):
    """One proposal to share without consent on this enquiry, for a manager's decision on it."""
    from mash.consent.models import ConsentOverride

    return _on_enquiry(user, APPROVE_OVERRIDE, enquiry_obj, ConsentOverride, override_id)


def package_choices(user, enquiry_obj: Enquiry, agreement=None) -> list[ContributionView]:
    """The contributions a manager builds a package from: only what they may read, redacted as ever."""
    require(user, BUILD_PACKAGE, enquiry_obj)
    return contribution_views(user, enquiry_obj, agreement)


# --- Fields: an enquiry as one user may read it --------------------------------------------------

@dataclass
class CaseRecord:
    """One enquiry as one user may read it. A part the user may not read is None (or empty),
    and `readable` says which parts they may."""

    enquiry: Enquiry
    readable: frozenset[str]
    links: frozenset[Link]
    child: object = None
    relationships: list = field(default_factory=list)
    contact: object = None
    reporter_visible: bool = False
    ratings: list = field(default_factory=list)
    decision: object = None
    earlier_decisions: list = field(default_factory=list)
    outcome: str | None = None
    outcome_label: str | None = None
    events: list = field(default_factory=list)
    information_requests: list = field(default_factory=list)
    contributions: list = field(default_factory=list)
    team: list = field(default_factory=list)
    actions: list = field(default_factory=list)

    def can(self, part: str) -> bool:
        return part in self.readable


class RedactedRow:
    """A row as one user may read it. Each column is read through its rule (a part of the enquiry,
    `rules`: column -> part); a column whose part the user may not read reads as empty (its
    `get_..._display` too). Methods are reached only where `derived` names the part they read;
    anything else is an AttributeError, so nothing undeclared can reach a page or a response."""

    def __init__(self, row, rules: dict[str, str], readable: frozenset[str], derived: dict[str, str] | None = None):
        self._row, self._rules, self._readable, self._derived = row, rules, readable, derived or {}
        self._fields = {}
        for f in row._meta.concrete_fields:
            self._fields[f.name] = self._fields[f.attname] = f

    def may_read(self, column: str) -> bool:
        field = self._fields.get(column)
        rule = self._rules.get(field.name if field is not None else column)
        return rule is not None and rule in self._readable

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        column = name[4:-8] if name.startswith("get_") and name.endswith("_display") else name
        field = self._fields.get(column)
        if field is None and name in self._derived:
            if self._derived[name] in self._readable:
                return getattr(self._row, name)
            return lambda *args, **kwargs: []
        if field is None:
            if name == "pk":
                return self._row.pk
            raise AttributeError(f"{type(self._row).__name__}.{name} has no rule in mash.access.columns")
        if self.may_read(field.name):
            return getattr(self._row, name)
        if column != name:
            return lambda: ""
        if isinstance(field, JSONField):
            return []
        if isinstance(field, (CharField, TextField)) and not field.is_relation:
            return ""
        return None


def case_record(user, enquiry_obj: Enquiry, agreement=None) -> CaseRecord:
    """The enquiry, with each part the user may not read left out."""
    require(user, VIEW_ENQUIRY, enquiry_obj)
    subject, facts = Subject.of(user), facts_for(enquiry_obj)
    links = case_links(subject, facts)
    readable = frozenset(f for f in FIELDS if evaluate(subject, READ_FIELD, facts, field_name=f))
    record = CaseRecord(enquiry=enquiry_obj, readable=readable, links=links)
    if CHILD in readable:
        record.child = enquiry_obj.child
    if HOUSEHOLD in readable:
        record.relationships = list(enquiry_obj.child.relationships.select_related("person"))
    if CONCERN in readable:
        from mash.access.columns import CONTACT, CONTACT_DERIVED

        # Column by column (columns.CONTACT): the reporter for the team, consent at intake for the team.
        record.contact = RedactedRow(enquiry_obj.contact, CONTACT, readable, CONTACT_DERIVED)
        record.reporter_visible = REPORTER in readable
    decisions = list(enquiry_obj.decisions.select_related("decided_by", "receiving_professional", "isa_version")
                     .order_by("-version"))
    if DECISION in readable:
        record.decision = decisions[0] if decisions else None
        record.earlier_decisions = decisions[1:]
    if OUTCOME in readable and decisions:
        record.outcome, record.outcome_label = decisions[0].outcome, decisions[0].get_outcome_display()
    if RATINGS in readable:
        record.ratings = list(enquiry_obj.ratings.select_related("rated_by", "isa_version"))
    if HISTORY in readable:
        record.events = list(enquiry_obj.events.select_related("by"))
    if TEAM_MEMBERS in readable:
        record.team = list(enquiry_obj.assignments.filter(ended_at__isnull=True).select_related("user",
                                                                                             "user__partner"))
    record.information_requests = list(information_requests(user).filter(enquiry=enquiry_obj)
                                       .order_by("partner__name"))
    record.contributions = contribution_views(user, enquiry_obj, agreement)
    record.actions = available_actions(user, enquiry_obj)
    people = [enquiry_obj.child_id] if CHILD in readable else []
    people += [r.person_id for r in record.relationships]
    audit.note_read("enquiry", enquiry_obj.reference, people, readable)
    return record


# --- Contributions, with what the user may not read left in the database ---------------------------

@dataclass
class ItemView:
    id: int
    category: str
    category_label: str
    content: str
    relevance_note: str
    occurred_on: object
    isa_clause: str
    confidentiality: str
    attachments: list[AttachmentView] = field(default_factory=list)


@dataclass
class AttachmentView:
    """A file attached to an item the user may read: what the listing shows, never the file itself."""

    id: int
    filename: str
    content_type: str
    size: int
    uploaded_at: object

    @property
    def type_label(self) -> str:
        from mash.attachments.models import TYPE_LABELS

        return TYPE_LABELS.get(self.content_type, self.content_type)


@dataclass
class ContributionView:
    """What one user may see of one contribution. Sealed content is never loaded into it."""

    id: int
    request_id: int
    partner_name: str
    partner_slug: str
    kind: str
    kind_label: str
    version: int
    contributed_at: object
    contributed_by: str
    isa_version: str
    sealed: bool
    unsealed: bool = False
    confidential_reason: str = ""
    confidential_reason_label: str = ""
    decision_reason: str | None = None
    lawful_basis: str | None = None
    # Why this version was made (an amendment, or lifting a seal), where the user may read it
    # (amendment_readers); empty otherwise, and for a first version.
    amendment_reason: str = ""
    items: list[ItemView] = field(default_factory=list)
    withheld_items: int = 0
    withheld_restricted: int = 0
    may_unseal: bool = False

    @property
    def marker(self) -> str:
        return (
            f"Confidential information held by {self.partner_name}, recorded "
            f"{timezone.localtime(self.contributed_at):%-d %B %Y}, category: {self.confidential_reason_label.lower()}"
        )


def amendment_readers(levels: set[str]) -> frozenset[Link]:
    """Who reads why a version of an answer was made: its own agency, and those of the MASH team who
    read every item the reason might speak of: the version's own items and, for an amendment (not an
    unsealing, whose earlier items are now at the level the agency chose), the earlier version's too.
    "Confidential information held" counts as sealed."""
    readers = frozenset({HUB, ASSIGNED, OWN})
    for level in levels:
        readers &= ITEM_READERS[level]
    return readers


def _amendment_levels(enquiry_obj: Enquiry) -> dict[int, set[str]]:
    """For each contribution on the enquiry, the levels `amendment_readers` weighs: no content is loaded."""
    rows = list(Contribution.objects.filter(enquiry=enquiry_obj).values_list("id", "kind", "supersedes_id", "unsealed"))
    own: dict[int, set[str]] = {cid: set() for cid, *_ in rows}
    for cid, level in (ContributionItem.objects.filter(contribution__enquiry=enquiry_obj)
                       .values_list("contribution_id", "confidentiality").distinct()):
        own[cid].add(level)
    for cid, kind, _, _ in rows:
        if kind == ContributionKind.CONFIDENTIAL_HELD:
            own[cid].add(Confidentiality.SEALED)
    return {cid: own[cid] | (own.get(earlier, set()) if earlier and not unsealed else set())
            for cid, kind, earlier, unsealed in rows}


def _levels_readable(links: frozenset[Link]) -> list[str]:
    return [level for level, readers in ITEM_READERS.items() if links & readers]


def _reads_own(subject: Subject, facts: CaseFacts) -> bool:
    return bool(subject.role == Role.MASH_WORKER and subject.partner_id and facts.asked_window_open)


def _item_q(subject: Subject, facts: CaseFacts) -> Q:
    """The items (of one enquiry's contributions) the user reads: its own agency's, or another agency's at
    a level the user's other links read (ITEM_READERS); never an item of another agency's "confidential
    information held". Used for contributions and for the files attached to their items."""
    item_q = Q(contribution__partner_id=subject.partner_id) if _reads_own(subject, facts) else Q(pk__in=[])
    item_q |= (Q(confidentiality__in=_levels_readable(case_links(subject, facts) - {ASKED}))
               & ~Q(contribution__kind=ContributionKind.CONFIDENTIAL_HELD))
    return item_q


def contribution_views(user, enquiry_obj: Enquiry, agreement=None, include_superseded=False) -> list[ContributionView]:
    """The contributions on an enquiry the user may see, redacted for them in the query itself.

    The team (manager, assigned members) sees every agency's contribution; an asked agency its own.
    Items are read by confidentiality (ITEM_READERS). Of another agency's "confidential information
    held" only the marker is selected: no reason text, no basis, no items.
    """
    require(user, VIEW_ENQUIRY, enquiry_obj)
    subject, facts = Subject.of(user), facts_for(enquiry_obj)
    qs = Contribution.objects.filter(enquiry=enquiry_obj)
    if not evaluate(subject, READ_FIELD, facts, field_name=CONTRIBUTIONS):
        qs = qs.filter(partner_id=user.partner_id or -1)
    if not include_superseded:
        qs = qs.filter(superseded_by__isnull=True)

    reads_own = _reads_own(subject, facts)
    own = Q(partner_id=subject.partner_id) if reads_own else Q(pk__in=[])
    # An item is selected when its own agency asks, or the user's other links read its level;
    # never an item of another agency's "confidential information held".
    item_q = _item_q(subject, facts)
    marker_only = Q(kind=ContributionKind.CONFIDENTIAL_HELD) & ~own
    qs = (
        qs.select_related("partner", "contributed_by", "isa_version")
        # The reason is encrypted, so it comes as ciphertext and is decrypted below only where shown.
        .defer("lawful_basis")
        .annotate(
            shown_basis=Case(When(marker_only, then=Value("")), default=F("lawful_basis"),
                             output_field=CharField()),
            item_count=Count("items"),
            restricted_count=Count("items", filter=Q(items__confidentiality=Confidentiality.RESTRICTED)),
        )
        .prefetch_related(Prefetch("items", queryset=ContributionItem.objects.filter(item_q).order_by("id"),
                                   to_attr="readable_items"))
        .order_by("partner__name", "version")
    )
    views = []
    levels = _amendment_levels(enquiry_obj)
    for c in qs:
        is_own = reads_own and c.partner_id == subject.partner_id
        hidden = c.kind == ContributionKind.CONFIDENTIAL_HELD and not is_own
        view = ContributionView(
            id=c.pk,
            request_id=c.request_id,
            partner_name=c.partner.name,
            partner_slug=c.partner.slug,
            kind=c.kind,
            kind_label=c.get_kind_display(),
            version=c.version,
            contributed_at=c.contributed_at,
            contributed_by=c.contributed_by.display_name,
            isa_version=c.isa_version.version,
            sealed=hidden,
            unsealed=c.unsealed,
            confidential_reason=c.confidential_reason,
            confidential_reason_label=c.get_confidential_reason_display() if c.confidential_reason else "",
        )
        if hidden:
            # The marker only: who, when, and the category of reason.
            views.append(view)
            continue
        view.decision_reason = c.decision_reason
        view.lawful_basis = c.shown_basis
        if agency_links(subject, facts, c.partner_id) & amendment_readers(levels.get(c.pk, set())):
            view.amendment_reason = c.amendment_reason
        shown_restricted = sum(1 for i in c.readable_items if i.confidentiality == Confidentiality.RESTRICTED)
        view.withheld_restricted = c.restricted_count - shown_restricted
        view.withheld_items = c.item_count - len(c.readable_items) - view.withheld_restricted
        view.may_unseal = is_own and (c.kind == ContributionKind.CONFIDENTIAL_HELD or any(
            i.confidentiality == Confidentiality.SEALED for i in c.readable_items)) and c.is_current
        for item in c.readable_items:
            view.items.append(
                ItemView(
                    id=item.pk,
                    category=item.category,
                    category_label=agreement.category_label(item.category) if agreement else item.category,
                    content=item.content,
                    relevance_note=item.relevance_note,
                    occurred_on=item.occurred_on,
                    isa_clause=item.isa_clause,
                    confidentiality=item.confidentiality,
                )
            )
        views.append(view)
    if views:
        audit.note_read("contribution", ",".join(str(v.id) for v in views), [enquiry_obj.child_id],
                        (CONTRIBUTIONS,) + (("sealed marker",) if any(v.sealed for v in views) else ()))
    _list_attachments(views, enquiry_obj)
    return views


def _list_attachments(views: list[ContributionView], enquiry_obj: Enquiry) -> None:
    """The files of the items the views hold (items the user reads), listed without their content."""
    from mash.attachments.models import Attachment

    items = {i.id: i for v in views for i in v.items}
    if not items:
        return
    rows = list(Attachment.objects.filter(item_id__in=items).select_related("item__contribution__enquiry")
                .only("id", "item", "filename", "content_type", "size", "uploaded_at", "item__contribution",
                      "item__contribution__enquiry__child").order_by("id"))
    for a in rows:
        items[a.item_id].attachments.append(AttachmentView(id=a.pk, filename=a.filename, content_type=a.content_type,
                                                           size=a.size, uploaded_at=a.uploaded_at))
    if rows:
        audit.note_read("attachment", ",".join(str(a.pk) for a in rows), [enquiry_obj.child_id],
                        (CONTRIBUTIONS, "attachments"))


def attachment(user, attachment_id: int):
    """One file attached to an item, for its download: readable exactly where its item is (the rules of
    `contribution_views`), else NotFound, recorded. The file's content is loaded by the caller, from
    the row this returns; the read is recorded here."""
    from mash.attachments.models import Attachment

    # Neither the file nor its item's text is selected here: only what the rules need.
    found = (Attachment.objects.select_related("item__contribution__enquiry")
             .only("id", "item", "filename", "content_type", "size", "sha256", "uploaded_at", "uploaded_by",
                   "item__confidentiality", "item__contribution__kind", "item__contribution__partner",
                   "item__contribution__enquiry")
             .filter(pk=attachment_id).first())
    reason = "no such attachment" if found is None else _item_refusal(user, found.item)
    if reason:
        record_denial(user, READ_ATTACHMENT, "attachment", attachment_id, found is not None, reason)
        raise NotFound()
    enquiry_obj = found.item.contribution.enquiry
    audit.note_read("attachment", f"{enquiry_obj.reference}/{found.pk}", [enquiry_obj.child_id],
                    (CONTRIBUTIONS, "attachment"))
    return found


def _item_refusal(user, item: ContributionItem) -> str | None:
    """Why the user may not read this item (None when they may): the enquiry first, then the item's
    agency and level, decided by the same query `contribution_views` selects items with."""
    enquiry_obj = item.contribution.enquiry
    verdict = decide(user, VIEW_ENQUIRY, enquiry_obj)
    if not verdict:
        return verdict.reason
    subject, facts = Subject.of(user), facts_for(enquiry_obj)
    readable = ContributionItem.objects.filter(_item_q(subject, facts), pk=item.pk, contribution__enquiry=enquiry_obj)
    if not evaluate(subject, READ_FIELD, facts, field_name=CONTRIBUTIONS):
        readable = readable.filter(contribution__partner_id=subject.partner_id or -1)
    if not readable.exists():
        if item.contribution.kind == ContributionKind.CONFIDENTIAL_HELD:
            return "confidential information held by another agency"
        return f"a {item.confidentiality} item, which the caller's link to this case does not read"
    return None


def attachable_item(user, item_id: int) -> ContributionItem:
    """An item of an agency's answer, for adding a file to it: only that agency may (ANSWER_REQUEST on
    the request). NotFound (recorded) where the user may not see the request, PermissionDenied where
    they see it but may not answer it."""
    # An id past the database's range names no item (and SQLite cannot even compare it).
    in_range = 0 < item_id <= BigIntegerField.MAX_BIGINT
    request_obj = (InformationRequest.objects.select_related("enquiry", "partner")
                   .filter(contributions__items=item_id).first()) if in_range else None
    if request_obj is None:
        record_denial(user, ANSWER_REQUEST, "contributionitem", item_id, False, "no such item")
        raise NotFound()
    require(user, ANSWER_REQUEST, request_obj)  # before the item itself is loaded
    found = (ContributionItem.objects.select_related("contribution__request__enquiry__child",
                                                     "contribution__request__partner", "contribution__enquiry")
             .get(pk=item_id))
    enquiry_obj = found.contribution.enquiry
    audit.note_read("contribution item", f"{enquiry_obj.reference}/{found.pk}", [enquiry_obj.child_id],
                    (CONTRIBUTIONS,))
    return found


# --- The audit log's pages ----------------------------------------------------------------------

def may_read_audit(user, action: str) -> bool:
    return not refusal(user) and user.role in AUDIT_ROLES[action]


def require_audit_reader(user, action: str, object_type: str = "", ref="") -> None:
    """NotFound (recorded) unless the user's role may read this part of the audit log."""
    if not may_read_audit(user, action):
        reason = refusal(user) or f"only {', '.join(sorted(r.label for r in AUDIT_ROLES[action]))} may see this"
        record_denial(user, action, object_type, ref, False, reason)
        raise NotFound()


def person_for_trail(user, person_id: int):
    """The person whose record's audit trail `user` asks for; recorded as a read of their record."""
    from mash.people.models import Person

    require_audit_reader(user, VIEW_PERSON_TRAIL, "person", person_id)
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        record_denial(user, VIEW_PERSON_TRAIL, "person", person_id, False, "no such person")
        raise NotFound()
    audit.note_read("audit trail of person", str(person.pk), [person.pk], ("audit trail",))
    return person


def child_for_trail(user, reference: str):
    """The child of an enquiry, found by its reference, for the audit trail."""
    require_audit_reader(user, VIEW_PERSON_TRAIL, "enquiry", reference)
    found = Enquiry.objects.filter(reference=(reference or "").strip().upper()).values_list("child_id", flat=True)
    child_id = found.first()
    if child_id is None:
        record_denial(user, VIEW_PERSON_TRAIL, "enquiry", reference, False, "no such enquiry")
        raise NotFound()
    return child_id


def actor_for_activity(user, actor_id: int):
    """The user whose activity `user` asks for (a User, or None for someone known only to the log)."""
    from mash.accounts.models import User
    from mash.audit.models import AuditEvent

    require_audit_reader(user, VIEW_USER_ACTIVITY, "user", actor_id)
    actor = User.objects.select_related("partner").filter(pk=actor_id).first()
    if actor is None and not AuditEvent.objects.filter(actor_id=actor_id).exists():
        record_denial(user, VIEW_USER_ACTIVITY, "user", actor_id, False, "no such user")
        raise NotFound()
    audit.note_read("activity of user", str(actor_id), (), ("audit trail",))
    return actor


def activity_list(user):
    require_audit_reader(user, VIEW_USER_ACTIVITY, "user", "*")
    audit.note_read("activity of users", "all", (), ("audit summary",))


# --- Subject access requests -----------------------------------------------------------------------

def subject_access_requests(user):
    """Every request, for the data protection officer; NotFound (recorded) for anyone else."""
    from mash.sar.models import SubjectAccessRequest

    require_audit_reader(user, MANAGE_SAR, "sar", "*")
    return SubjectAccessRequest.objects.all()


def subject_access_request(user, reference: str):
    """One request, by its reference. A request names people and holds what was compiled about them:
    only the data protection officer reaches it."""
    from mash.sar.models import SubjectAccessRequest

    require_audit_reader(user, MANAGE_SAR, "sar", reference)
    found = SubjectAccessRequest.objects.filter(reference=(reference or "").strip().upper()).first()
    if found is None:
        record_denial(user, MANAGE_SAR, "sar", reference, False, "no such request")
        raise NotFound()
    audit.note_read("subject access request", found.reference,
                    found.subjects.values_list("person_id", flat=True), ("subject access request",))
    return found


def open_subject_access_requests(user):
    """The open requests with their clocks, most urgent first; a read of the people they name."""
    from mash.sar import services as sars

    require_audit_reader(user, MANAGE_SAR, "sar", "open")
    rows = sars.open_requests()
    audit.note_read("subject access requests", "open", [p for sar, _ in rows for p in sars.subject_ids(sar)],
                    ("subject access request",))
    return rows


def issued_sar_pack(user, reference: str):
    """(request, its issued pack) for a download, recorded as an export; NotFound if none was issued."""
    sar = subject_access_request(user, reference)
    issued = getattr(sar, "pack", None)
    if issued is None:
        raise NotFound("No pack has been issued for this request")
    audit.mark_export()
    return sar, issued


def sar_item(user, sar, item_id: int):
    """One compiled item of a request the user reached through `subject_access_request`."""
    require_audit_reader(user, MANAGE_SAR, "sar", f"{sar.reference}/{item_id}")
    item = sar.items.select_related("person").filter(pk=item_id).first()
    if item is None:
        record_denial(user, MANAGE_SAR, "sar item", f"{sar.reference}/{item_id}", False, "no such item")
        raise NotFound()
    return item


def sar_people(user, text: str):
    """People matching `text` (name words, NHS number, or date of birth YYYY-MM-DD), for the data
    protection officer choosing whom a request concerns; at most 50, recorded as a read."""
    from mash.people.models import Person

    require_audit_reader(user, MANAGE_SAR, "person", "search")
    text = (text or "").strip()
    if not text:
        return []
    q = Q(nhs_number=text.replace(" ", ""))
    searched = "NHS number" if text.replace(" ", "").isdecimal() else "name"
    try:
        q |= Q(date_of_birth=dt.date.fromisoformat(text))
        searched = "date of birth"
    except ValueError:
        pass
    name_q = Q()
    for word in text.split()[:4]:
        name_q &= Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(other_names__icontains=word)
    found = list(Person.objects.filter(q | name_q).order_by("last_name", "first_name", "id")[:50])
    if found:
        # Recorded by whom it found, never by what was typed: the log is append-only and outlives
        # retention, and the text names the people looked for (docs/audit.md).
        audit.note_read("person search", f"search by {searched}", [p.pk for p in found], ("name", "date of birth"))
    return found
