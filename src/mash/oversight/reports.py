"""Reports: counts of what was shared, on what basis, over a period. Counts only: no child's data."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from mash.consent.models import ConsentOverride, ConsentRecord, OverrideStatus
from mash.core.vocabulary import ConsentStatus, RecipientType
from mash.disclosure.models import ConsentState, DisclosurePackage, PackageStatus
from mash.sharing.models import InformationRequest


def _period(qs, field: str, since: dt.date | None, until: dt.date | None):
    if since:
        qs = qs.filter(**{f"{field}__date__gte": since})
    if until:
        qs = qs.filter(**{f"{field}__date__lte": until})
    return qs


def sharing_report(since: dt.date | None = None, until: dt.date | None = None) -> dict:
    """Sharing without consent, requests to agencies and disclosure packages in a period (by the day
    each was proposed, requested or sent), and consent recorded."""
    overrides = _period(ConsentOverride.objects.all(), "proposed_at", since, until)
    approved = overrides.filter(status=OverrideStatus.APPROVED)
    requests = _period(InformationRequest.objects.all(), "requested_at", since, until)
    packages = _period(DisclosurePackage.objects.exclude(status=PackageStatus.DRAFT), "sent_at", since, until)
    records = _period(ConsentRecord.objects.all(), "recorded_at", since, until)
    now = timezone.now()
    recipient_labels = dict(RecipientType.choices)
    return {
        "since": since, "until": until,
        "without_consent": {
            "approved": approved.count(),
            "awaiting_approval": overrides.filter(status=OverrideStatus.PROPOSED).count(),
            "rejected": overrides.filter(status=OverrideStatus.REJECTED).count(),
            "enquiries": approved.values("enquiry_id").distinct().count(),
            "by_lawful_basis": [{"lawful_basis": r["lawful_basis"], "count": r["n"]} for r in
                                approved.values("lawful_basis").annotate(n=Count("id")).order_by("-n", "lawful_basis")],
            "by_month": [{"month": r["month"].strftime("%Y-%m"), "count": r["n"]} for r in
                         approved.annotate(month=TruncMonth("proposed_at")).values("month")
                         .annotate(n=Count("id")).order_by("month")],
        },
        "requests": {
            "with_consent": requests.filter(consent_record__isnull=False).count(),
            "without_consent": requests.filter(consent_override__isnull=False).count(),
            "before_consent_was_recorded": requests.filter(consent_record__isnull=True,
                                                           consent_override__isnull=True).count(),
        },
        "packages": {
            "sent": packages.count(),
            "with_consent": packages.filter(consent_state=ConsentState.GIVEN).count(),
            "without_consent": packages.filter(consent_state=ConsentState.WITHOUT_CONSENT).count(),
            "withdrawn": packages.filter(status=PackageStatus.WITHDRAWN).count(),
            "expired": packages.filter(status=PackageStatus.SENT, expires_at__lte=now).count(),
            "live": packages.filter(status=PackageStatus.SENT, expires_at__gt=now).count(),
            "by_recipient_type": [{"recipient_type": r["recipient_type"],
                                   "label": recipient_labels.get(r["recipient_type"], r["recipient_type"]),
                                   "count": r["n"]} for r in
                                  packages.values("recipient_type").annotate(n=Count("id")).order_by("recipient_type")],
        },
        "consent_records": {
            **{status: records.filter(status=status).count() for status in ConsentStatus.values},
            "withdrawn": records.filter(~Q(withdrawn_at=None)).count(),
        },
    }
