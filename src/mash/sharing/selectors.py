"""Reading requests to agencies and their answers, through the gate.

`contribution_views` redacts in the query itself: sealed content is never selected for anyone but the
agency that sealed it, and an item is selected only where the user's links read its level."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Case, CharField, Count, F, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from mash.access import gate
from mash.access.filters import item_q, request_filter
from mash.access.rules import (CHILD, CONCERN, CONTRIBUTIONS, READ_FIELD, VIEW_ENQUIRY, VIEW_REQUEST,
                               Subject, agency_links, amendment_readers, evaluate, reads_own)
from mash.attachments.selectors import AttachmentView, list_attachments
from mash.audit import services as audit
from mash.cases.models import Enquiry

from .models import Confidentiality, Contribution, ContributionItem, ContributionKind, InformationRequest

# --- Requests ----------------------------------------------------------------------------------

def _describe_request(obj: InformationRequest):
    # `information_requests()` selects the enquiry with each request, so this costs no query.
    return f"{obj.enquiry.reference}/{obj.pk}", [obj.enquiry.child_id]


def _information_requests(user, action: str) -> QuerySet[InformationRequest]:
    return gate.filtered(user, InformationRequest.objects.select_related("enquiry", "enquiry__child", "partner",
                                                                    "requested_by"),
                     lambda: request_filter(user, action))


def information_requests(user, action: str = VIEW_REQUEST) -> QuerySet[InformationRequest]:
    """The requests `user` may take `action` on. Rows loaded from it are recorded as read."""
    return audit.track(_information_requests(user, action), "request", _describe_request)


def information_request(user, pk: int) -> InformationRequest:
    found = _information_requests(user, VIEW_REQUEST).filter(pk=pk).first()
    if found is None:
        raise gate.not_found(user, VIEW_REQUEST, "informationrequest", pk,
                             InformationRequest.objects.filter(pk=pk).select_related("enquiry").first(),
                             "no such request")
    # A request is read with its enquiry's child and concern (sharing/api.py InformationRequestOut).
    audit.note_read("request", f"{found.enquiry.reference}/{found.pk}", [found.enquiry.child_id],
                    ("request", CHILD, CONCERN))
    return found


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


def _readable_contributions(user, subject: Subject, facts, enquiry_obj: Enquiry, include_superseded: bool,
                            own: Q) -> QuerySet[Contribution]:
    """The query that redacts: the contributions the user may see, each with only the items they read and,
    for another agency's "confidential information held", no basis (`shown_basis` is empty)."""
    qs = Contribution.objects.filter(enquiry=enquiry_obj)
    if not evaluate(subject, READ_FIELD, facts, field_name=CONTRIBUTIONS):
        qs = qs.filter(partner_id=user.partner_id or -1)
    if not include_superseded:
        qs = qs.filter(superseded_by__isnull=True)
    # An item is selected when its own agency asks, or the user's other links read its level;
    # never an item of another agency's "confidential information held".
    items_q = item_q(subject, facts)
    marker_only = Q(kind=ContributionKind.CONFIDENTIAL_HELD) & ~own
    return (
        qs.select_related("enquiry", "partner", "contributed_by", "isa_version")
        # The reason is encrypted, so it comes as ciphertext and is decrypted below only where shown.
        .defer("lawful_basis")
        .annotate(
            shown_basis=Case(When(marker_only, then=Value("")), default=F("lawful_basis"),
                             output_field=CharField()),
            item_count=Count("items"),
            restricted_count=Count("items", filter=Q(items__confidentiality=Confidentiality.RESTRICTED)),
        )
        .prefetch_related(Prefetch("items", queryset=ContributionItem.objects.filter(items_q).order_by("id"),
                                   to_attr="readable_items"))
        .order_by("partner__name", "version")
    )


def _marker_view(c: Contribution, hidden: bool) -> ContributionView:
    """Who answered, when, and (for "confidential information held") the category of reason: all that
    the marker of another agency's sealed answer shows."""
    return ContributionView(
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


def _fill_readable(view: ContributionView, c: Contribution, *, is_own: bool, shows_reason: bool, agreement) -> None:
    """What a reader who may see the contribution's content reads of it: its reasons and readable items,
    with counts of what is withheld."""
    view.decision_reason = c.decision_reason
    view.lawful_basis = c.shown_basis
    if shows_reason:
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


def contribution_views(user, enquiry_obj: Enquiry, agreement=None, include_superseded=False) -> list[ContributionView]:
    """The contributions on an enquiry the user may see, redacted for them in the query itself.

    The team (manager, assigned members) sees every agency's contribution; an asked agency its own.
    Items are read by confidentiality (ITEM_READERS). Of another agency's "confidential information
    held" only the marker is selected: no reason text, no basis, no items.
    """
    gate.require(user, VIEW_ENQUIRY, enquiry_obj)
    subject, facts = Subject.of(user), gate.facts_for(enquiry_obj)
    own_reader = reads_own(subject, facts)
    own = Q(partner_id=subject.partner_id) if own_reader else Q(pk__in=[])
    views = []
    levels = _amendment_levels(enquiry_obj)
    for c in _readable_contributions(user, subject, facts, enquiry_obj, include_superseded, own):
        is_own = own_reader and c.partner_id == subject.partner_id
        hidden = c.kind == ContributionKind.CONFIDENTIAL_HELD and not is_own
        view = _marker_view(c, hidden)
        if not hidden:
            shows_reason = bool(agency_links(subject, facts, c.partner_id) & amendment_readers(levels.get(c.pk, set())))
            _fill_readable(view, c, is_own=is_own, shows_reason=shows_reason, agreement=agreement)
        views.append(view)
    if views:
        audit.note_read("contribution", ",".join(str(v.id) for v in views), [enquiry_obj.child_id],
                        (CONTRIBUTIONS,) + (("sealed marker",) if any(v.sealed for v in views) else ()))
    list_attachments(views, enquiry_obj)
    return views



# --- One request, as whoever may see it reads it ------------------------------------------------------

@dataclass
class RequestDetail:
    """A request to an agency with what its reader sees beside it: the child and the concern, what the ISA
    lets the agency share, and the agency's answer, every version (`contributions`, redacted views).
    The request's own fields read through to the request."""

    request: InformationRequest
    child: object
    concern: str
    concern_categories: list[str]
    lawful_bases: list[str]
    permitted_categories: list[dict]
    contributions: list[ContributionView]

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.request, name)


def request_detail(user, req: InformationRequest, agreement=None) -> RequestDetail:
    """One request from `information_request`, with the child, the concern, the ISA's terms for the agency
    (None when no agreement is loaded: none listed) and the agency's answer as `user` may read it."""
    enquiry_obj = req.enquiry
    # Whoever may see a request may read the child and the concern (rules.FIELDS); checked all the same.
    gate.require(user, READ_FIELD, enquiry_obj, CHILD)
    gate.require(user, READ_FIELD, enquiry_obj, CONCERN)
    entry = agreement.partner(req.partner.slug) if agreement else None
    views = contribution_views(user, enquiry_obj, agreement, include_superseded=True)
    return RequestDetail(
        request=req,
        child=enquiry_obj.child,
        concern=enquiry_obj.contact.concern,
        concern_categories=list(enquiry_obj.contact.concern_categories),
        lawful_bases=list(entry.lawful_bases) if entry else [],
        permitted_categories=[
            {"id": rule.category, "label": agreement.category_label(rule.category), "clause": rule.clause}
            for rule in entry.contributions
        ] if entry else [],
        contributions=[v for v in views if v.partner_slug == req.partner.slug],
    )
