"""The gate: every read of case data asks it, and every refusal it gives is recorded.

- The gates every user passes first (`register_gate`: the training refresher registers one), checked at
  the door for every URL whose declared policy guards case data (`door`, used by the middleware and by
  token authentication alike) and again by every decision (`refusal`).
- `decide(user, action, obj[, field])` applies `mash.access.rules` to the facts of one case, loaded once
  per object (`facts_for`), and says why; `require` raises NotFound where the user may not even know
  the object exists, else PermissionDenied, and records the denial.
- `filtered` narrows a query by the rules compiled to SQL (`mash.access.filters`): each domain's
  `selectors.py` reads its lists through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from django.db.models import Q, QuerySet
from django.utils import timezone

from mash.accounts.models import Role
from mash.audit import services as audit
from mash.audit.models import Kind as AuditKind
from mash.audit.models import Result as AuditResult
from mash.audit.typed import loggable_path, loggable_ref
from mash.cases.models import Enquiry, EnquiryAssignment
from mash.core.errors import NotFound, PermissionDenied
from mash.disclosure.models import DisclosurePackage
from mash.sharing.models import Contribution, InformationRequest

from mash.core.declare import declared_policy
from .filters import after_decision_days
from .rules import (AUDIT_ROLES, RECORD_CONTACT, VIEW_ENQUIRY, VIEW_PACKAGE, VIEW_REQUEST, AccessDecision, CaseFacts,
                    Subject, evaluate)

# --- Gates every user passes first ---------------------------------------------------------



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



def door(request, user) -> GateRefusal | None:
    """The door check, for the middleware (a session's user) and token authentication (a token's user,
    known only once the token is read): the gate refusing `user` the URL asked for, recorded, or None."""
    if user is None or not user.is_authenticated:
        return None
    return refuse_at_the_door(user, declared_policy(request), request.path)


# --- Facts: what links a user to one case ------------------------------------------------------

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
        window_days=after_decision_days(),
        now=timezone.now(),
    )
    enquiry_obj._access_facts = facts
    return facts


def forget_facts(enquiry_obj: Enquiry) -> None:
    """After a change that alters who is linked (a request, an assignment, a decision)."""
    enquiry_obj.__dict__.pop("_access_facts", None)


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


# --- Refusals ---------------------------------------------------------------------------------


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


def filtered(user, qs: QuerySet, rules: Callable[[], Q | None]) -> QuerySet:
    """`qs` narrowed by the rules' filter (None: all of it); nothing for a user the gates refuse."""
    if refusal(user):
        return qs.none()
    q = rules()
    return qs if q is None else qs.filter(q)


def not_found(user, action: str, object_type: str, ref, existing, missing: str) -> NotFound:
    """The refusal of an object a user asked for and may not reach, recorded with why: the rules' reason
    where `existing` (the object, or None) exists, else `missing`. Returned for the caller to raise."""
    reason = decide(user, action, existing).reason if existing is not None else missing
    record_denial(user, action, object_type, ref, existing is not None, reason)
    return NotFound()


def on_enquiry(user, action: str, enquiry_obj: Enquiry, model, pk: int):
    """One row of `model` on this enquiry for `action` on it; NotFound (recorded) if there is none."""
    require(user, action, enquiry_obj)
    found = model.objects.filter(enquiry=enquiry_obj, pk=pk).select_related("enquiry").first()
    if found is None:
        record_denial(user, action, model._meta.model_name, pk, False, "no such record on this enquiry")
        raise NotFound()
    return found


def may_read_audit(user, action: str) -> bool:
    return not refusal(user) and user.role in AUDIT_ROLES[action]


def require_audit_reader(user, action: str, object_type: str = "", ref="") -> None:
    """NotFound (recorded) unless the user's role may read this part of the audit log."""
    if not may_read_audit(user, action):
        reason = refusal(user) or f"only {', '.join(sorted(r.label for r in AUDIT_ROLES[action]))} may see this"
        record_denial(user, action, object_type, ref, False, reason)
        raise NotFound()

