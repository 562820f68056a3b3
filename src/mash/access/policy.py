"""The one gate for case data.

Every read of case information goes through here: `enquiries()` and `information_requests()`
filter lists in the database, `enquiry()` and `information_request()` fetch one object or raise
NotFound (outside need-to-know looks exactly like missing), `require()` checks an action, and
`contribution_views()` hands out contributions with sealed content removed.

`decide()` answers (user, action, object) with a reason, so that a refusal can say why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from mash.accounts.models import Role
from mash.cases.models import Enquiry
from mash.core.errors import NotFound, PermissionDenied
from mash.sharing.models import Confidentiality, Contribution, ContributionKind, InformationRequest

# Actions on case data
VIEW_ENQUIRY = "enquiry.view"
RECORD_CONTACT = "contact.record"
RATE = "enquiry.rate"
REQUEST_INFORMATION = "enquiry.request_information"
MARK_READY = "enquiry.mark_ready"
DECIDE = "enquiry.decide"
CLOSE = "enquiry.close"
VIEW_REQUEST = "request.view"
ANSWER_REQUEST = "request.answer"
AMEND_PERSON = "person.amend"

MANAGER_ACTIONS = {RATE, MARK_READY, DECIDE, CLOSE, AMEND_PERSON}

# The enquiry state machine's actions, and the access action that guards each.
# ("contribute" is guarded per request, by ANSWER_REQUEST.)
STATE_ACTIONS = {
    "rate": RATE,
    "request_information": REQUEST_INFORMATION,
    "mark_ready": MARK_READY,
    "decide": DECIDE,
    "amend_decision": DECIDE,
    "close": CLOSE,
}


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    reason: str

    def __bool__(self):
        return self.allowed


def _active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def _asked(user, enquiry: Enquiry) -> bool:
    return bool(user.partner_id) and enquiry.information_requests.filter(partner_id=user.partner_id).exists()


def decide(user, action: str, obj=None) -> AccessDecision:
    """Whether `user` may take `action` on `obj`, and why."""
    if not _active(user):
        return AccessDecision(False, "not signed in")
    role = user.role
    if action == RECORD_CONTACT:
        if role in (Role.MASH_MANAGER, Role.MASH_WORKER):
            return AccessDecision(True, "MASH team member")
        return AccessDecision(False, "only the MASH team records contacts")
    if isinstance(obj, Enquiry):
        if role == Role.MASH_MANAGER:
            return AccessDecision(True, "MASH manager")
        if role == Role.MASH_WORKER and action in (VIEW_ENQUIRY, REQUEST_INFORMATION):
            if _asked(user, obj):
                return AccessDecision(True, f"worker of {user.partner.name}, which was asked for information")
            return AccessDecision(False, "the worker's agency was not asked about this enquiry")
        if action in MANAGER_ACTIONS:
            return AccessDecision(False, "only a MASH manager may do this")
        return AccessDecision(False, f"{user.get_role_display()} has no need to know this enquiry")
    if isinstance(obj, InformationRequest):
        if role == Role.MASH_MANAGER and action == VIEW_REQUEST:
            return AccessDecision(True, "MASH manager")
        if role == Role.MASH_WORKER and user.partner_id == obj.partner_id:
            return AccessDecision(True, f"request addressed to {user.partner.name}")
        return AccessDecision(False, "the request is addressed to another agency")
    return AccessDecision(False, f"no policy allows {action}")


def require(user, action: str, obj=None) -> AccessDecision:
    """Raise unless allowed: NotFound where the user may not even see the object, else PermissionDenied."""
    verdict = decide(user, action, obj)
    if verdict:
        return verdict
    if obj is not None:
        view = VIEW_ENQUIRY if isinstance(obj, Enquiry) else VIEW_REQUEST
        if action != view and decide(user, view, obj):
            raise PermissionDenied(f"You cannot do this: {verdict.reason}")
        raise NotFound()
    raise PermissionDenied(f"You cannot do this: {verdict.reason}")


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
        elif decide(user, STATE_ACTIONS[action], enquiry_obj):
            out.append(action)
    return out


# Lists: the same rules as queryset filters, so no list loads rows it then hides.

def enquiries(user) -> QuerySet[Enquiry]:
    qs = Enquiry.objects.select_related("child", "contact")
    if not _active(user):
        return qs.none()
    if user.role == Role.MASH_MANAGER:
        return qs
    if user.role == Role.MASH_WORKER and user.partner_id:
        asked = InformationRequest.objects.filter(enquiry=OuterRef("pk"), partner_id=user.partner_id)
        return qs.filter(Exists(asked))
    return qs.none()


def enquiry(user, reference: str) -> Enquiry:
    found = enquiries(user).filter(reference=reference).first()
    if found is None:
        raise NotFound()
    return found


def information_requests(user) -> QuerySet[InformationRequest]:
    qs = InformationRequest.objects.select_related("enquiry", "enquiry__child", "partner", "requested_by")
    if not _active(user):
        return qs.none()
    if user.role == Role.MASH_MANAGER:
        return qs
    if user.role == Role.MASH_WORKER and user.partner_id:
        return qs.filter(partner_id=user.partner_id)
    return qs.none()


def information_request(user, pk: int) -> InformationRequest:
    found = information_requests(user).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


# Fields: contributions with what the user may not read taken out.

@dataclass
class ItemView:
    category: str
    category_label: str
    content: str
    relevance_note: str
    occurred_on: object
    isa_clause: str
    confidentiality: str


@dataclass
class ContributionView:
    """What one user may see of one contribution. Sealed content is never copied into it."""

    id: int
    partner_name: str
    partner_slug: str
    kind: str
    kind_label: str
    version: int
    contributed_at: object
    contributed_by: str
    isa_version: str
    sealed: bool
    confidential_reason: str = ""
    confidential_reason_label: str = ""
    decision_reason: str | None = None
    lawful_basis: str | None = None
    items: list[ItemView] = field(default_factory=list)
    withheld_items: int = 0

    @property
    def marker(self) -> str:
        return (
            f"Confidential information held by {self.partner_name}, recorded "
            f"{timezone.localtime(self.contributed_at):%-d %B %Y}, category: {self.confidential_reason_label.lower()}"
        )


def _may_read_sealed(user, contribution: Contribution) -> bool:
    return user.role == Role.MASH_WORKER and user.partner_id == contribution.partner_id


def contribution_views(user, enquiry_obj: Enquiry, agreement=None, include_superseded=False) -> list[ContributionView]:
    """The contributions on an enquiry the user may see, redacted for them.

    Managers see every agency's contribution; a worker sees their own agency's. Sealed items
    are read only by the originating agency; anyone else gets the marker and nothing more.
    """
    require(user, VIEW_ENQUIRY, enquiry_obj)
    qs = (
        Contribution.objects.filter(enquiry=enquiry_obj)
        .select_related("partner", "contributed_by", "isa_version")
        .prefetch_related("items")
        .order_by("partner__name", "version")
    )
    if user.role != Role.MASH_MANAGER:
        qs = qs.filter(partner_id=user.partner_id)
    if not include_superseded:
        qs = qs.filter(superseded_by__isnull=True)
    views = []
    for c in qs:
        reader = _may_read_sealed(user, c)
        sealed_kind = c.kind == ContributionKind.CONFIDENTIAL_HELD
        view = ContributionView(
            id=c.pk,
            partner_name=c.partner.name,
            partner_slug=c.partner.slug,
            kind=c.kind,
            kind_label=c.get_kind_display(),
            version=c.version,
            contributed_at=c.contributed_at,
            contributed_by=c.contributed_by.display_name,
            isa_version=c.isa_version.version,
            sealed=sealed_kind and not reader,
            confidential_reason=c.confidential_reason,
            confidential_reason_label=c.get_confidential_reason_display() if c.confidential_reason else "",
        )
        if sealed_kind and not reader:
            # The marker only: no reason text, no basis, no categories, no items.
            views.append(view)
            continue
        view.decision_reason = c.decision_reason
        view.lawful_basis = c.lawful_basis
        for item in c.items.all():
            if item.confidentiality == Confidentiality.SEALED and not reader:
                view.withheld_items += 1
                continue
            view.items.append(
                ItemView(
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
    return views
