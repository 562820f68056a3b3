"""The rules of `mash.access.rules`, compiled to SQL: which rows a user may reach, as a filter.

Lists and searches are filtered in the database, so that no list loads rows in order to hide them.
Each link is a sub-query of ids, and a user's links are joined with UNION inside one `pk IN (...)`.
(`EXISTS ... OR EXISTS ...` reads: PostgreSQL cannot use an index for an OR of sub-queries, so it
tested every row of the table; with the union each arm is an index scan and the cost follows what
the user may see. bench/queue_postgres.py measured both.) Tests prove these filters and
`rules.evaluate` agree (access/tests/test_matrix.py).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from mash.accounts.models import Role
from mash.cases.models import EnquiryAssignment
from mash.disclosure.models import live_q
from mash.partners.selectors import NoAgreementLoaded, current
from mash.sharing.models import ContributionKind, InformationRequest

from .rules import (ACTIONS, ASKED, ASSIGNED, HUB, OWN, VIEW_ENQUIRY, VIEW_REQUEST, CaseFacts, Subject, case_links,
                    levels_readable, reads_own)


def after_decision_days() -> int:
    """How long asked agencies keep access after the decision, by the current ISA (0 without one)."""
    try:
        return current()[1].after_decision.asked_agency_access_days
    except NoAgreementLoaded:
        return 0


def _window_q(prefix: str = "") -> Q:
    cutoff = timezone.now() - dt.timedelta(days=after_decision_days())
    return Q(**{f"{prefix}decided_at__isnull": True}) | Q(**{f"{prefix}decided_at__gte": cutoff})


def assigned_enquiry_ids(user) -> QuerySet:
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
        arms.append(assigned_enquiry_ids(user))
    if ASKED in allowed and user.partner_id:
        arms.append(_asked_enquiry_ids(user))
    return _in_any(arms)


def request_filter(user, action: str = VIEW_REQUEST) -> Q | None:
    allowed = ACTIONS[action]
    if user.role == Role.MASH_MANAGER and HUB in allowed:
        return None
    if user.role != Role.MASH_WORKER:
        return Q(pk__in=[])
    arms = []
    if ASSIGNED in allowed:
        arms.append(InformationRequest.objects.filter(enquiry_id__in=assigned_enquiry_ids(user))
                    .order_by().values("pk"))
    if OWN in allowed and user.partner_id:
        arms.append(_own_agency_requests(user).values("pk"))
    return _in_any(arms)


def package_filter(user) -> Q | None:
    """VIEW_PACKAGE as a filter: every package for a manager, those on their enquiries for an assigned
    worker, and for a receiving professional the live packages addressed to them or their team."""
    if user.role == Role.MASH_MANAGER:
        return None
    if user.role == Role.MASH_WORKER:
        return Q(enquiry_id__in=assigned_enquiry_ids(user))
    if user.role == Role.RECEIVING_PROFESSIONAL:
        mine = Q(recipient_id=user.pk)
        if (user.team or "").strip():
            mine |= Q(recipient__isnull=True, recipient_team__iexact=user.team.strip())
        return live_q() & mine
    return Q(pk__in=[])


def item_q(subject: Subject, facts: CaseFacts) -> Q:
    """The items (of one enquiry's contributions) the user reads: its own agency's, or another agency's at
    a level the user's other links read (ITEM_READERS); never an item of another agency's "confidential
    information held". Used for contributions and for the files attached to their items."""
    q = Q(contribution__partner_id=subject.partner_id) if reads_own(subject, facts) else Q(pk__in=[])
    q |= (Q(confidentiality__in=levels_readable(case_links(subject, facts) - {ASKED}))
          & ~Q(contribution__kind=ContributionKind.CONFIDENTIAL_HELD))
    return q

