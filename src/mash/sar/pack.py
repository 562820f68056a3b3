"""The response pack of a subject access request: its content (what the JSON download is, and what
the PDF is made from), with the supplementary information Article 15 of the UK GDPR requires.

Only items the reviewer disclosed are in it, with confirmed redactions applied; withheld items are
counted by exemption, except those withheld without saying they exist (neither confirm nor deny),
which leave no trace at all.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from mash.core.dates import long_date
from mash.core.pdf import css_string, html_to_pdf
from mash.core.vocabulary import Outcome
from mash.keys import integrity
from mash.keys.fields import DamagedData
from mash.partners import services as isa

from . import clock as sar_clock
from .compile import COUNCIL, redact
from .models import Exemption, ItemDecision, ItemSource

REDACTED = "[redacted]"
CONTROLLER = "Thurrock Council, Civic Offices, New Road, Grays, RM17 6SL (data controller for the MASH)"
ICO = ("You have the right to complain to the Information Commissioner's Office (ICO), Wycliffe House, "
       "Water Lane, Wilmslow, Cheshire, SK9 5AF; telephone 0303 123 1113; ico.org.uk/make-a-complaint. "
       "We would welcome the chance to put things right first: contact our data protection officer.")
RIGHTS = [
    "To have inaccurate personal information corrected (rectification), and incomplete information completed.",
    "To ask for personal information to be erased, or its use restricted, where the law allows it.",
    "To object to the use of your personal information where it is processed for a public task.",
]
PURPOSES = [
    "To decide, with partner agencies, whether a child needs help or protection (the MASH enquiry), under the "
    "Information Sharing Agreement.",
    "To pass relevant information to the professionals who help the child after the MASH manager's decision "
    "(onward disclosure).",
    "To keep a record of what was shared, why and with whom, as the law and the Information Sharing Agreement "
    "require.",
]


def _iso(value) -> str:
    return value.isoformat() if value else ""


def build_content(sar, issued_on: dt.date | None = None) -> dict:
    _, agreement = isa.current()
    items = list(sar.items.select_related("person").order_by("person_id", "enquiry_reference", "held_on", "id"))
    clock = sar_clock.Clock(sar.received_on, sar.extension_months,
                            tuple((p.started_on, p.ended_on) for p in sar.pauses.all()),
                            issued_on or timezone.localdate(), sar.responded_on)
    information, withheld, categories, agencies, recipients = [], Counter(), set(), set(), []
    for item in items:
        if item.decision == ItemDecision.WITHHOLD:
            if not item.neither_confirm_nor_deny:
                withheld[Exemption(item.exemption).label if item.exemption else "Withheld"] += 1
            continue
        if item.decision not in (ItemDecision.DISCLOSE, ItemDecision.REDACT):
            continue  # never reviewed: nothing unreviewed goes out
        if item.decision == ItemDecision.REDACT and integrity.unreadable(item.redactions):
            # The confirmed redactions cannot be read: nothing of the item goes out unredacted. The
            # stand-in text keeps the pack from being issued (it cannot be sealed) until it is reviewed again.
            fields = {integrity.UnreadableData.LABEL: item.redactions[0]}
        elif item.decision == ItemDecision.REDACT:
            fields = redact(item.fields, item.redactions, REDACTED)
        else:
            fields = dict(item.fields)
        information.append({
            "subject": item.person.full_name, "title": item.title, "kind": ItemSource(item.source).label,
            "enquiry_reference": item.enquiry_reference, "recorded_on": _iso(item.held_on), "provided_by": item.agency,
            "category": item.category, "fields": fields, "redacted": item.decision == ItemDecision.REDACT})
        categories.add(item.category or ItemSource(item.source).label)
        if item.agency and item.agency != COUNCIL:
            agencies.add(item.agency)
        if item.source == ItemSource.RECIPIENTS:
            recipients += [f"{org}: {summary}" for org, summary in fields.items()]
    return {
        "reference": sar.reference,
        "requester": {"name": sar.requester_name, "relationship": sar.get_requester_relationship_display()},
        "received_on": _iso(sar.received_on),
        "deadline": _iso(clock.deadline),
        "issued_on": _iso(issued_on or timezone.localdate()),
        "subjects": [{"name": s.person.full_name, "date_of_birth": _iso(s.person.date_of_birth)}
                     for s in sar.subjects.select_related("person")],
        "information": information,
        "withheld": [{"exemption": label, "items": n} for label, n in sorted(withheld.items())],
        "supplementary": {
            "controller": CONTROLLER,
            "purposes": PURPOSES,
            "lawful_bases": [f"{b.description} (ISA clause {b.clause})" for b in agreement.lawful_bases()],
            "categories": sorted(categories),
            "recipients": recipients or ["The MASH partner agencies under the Information Sharing Agreement"],
            "retention": _retention(agreement),
            "sources": ["The person or organisation who contacted the MASH about the child"]
                       + [f"{a} (a MASH partner agency)" for a in sorted(agencies)],
            "automated_decision_making": "None: every decision in the MASH is made by people.",
            "rights": RIGHTS,
            "complaint": ICO,
            "isa_version": agreement.version,
        },
    }


def _retention(agreement) -> list[str]:
    out = []
    for outcome in Outcome.values:
        try:
            rule = agreement.retention(outcome)
        except KeyError:
            continue
        then = "deleted" if rule.then == "delete" else "anonymised"
        out.append(f"{Outcome(outcome).label}: kept {rule.retain_for_months} months after the decision, then "
                   f"{then} (ISA clause {rule.clause})")
    return out


def _day(iso: str) -> str:
    return long_date(dt.date.fromisoformat(iso)) if iso else ""


def render_pdf(content: dict, issued=None) -> bytes:
    issued_on = content.get("issued_on") or (timezone.localdate(issued.issued_at).isoformat() if issued else "")
    header = f"Subject access response {content['reference']}, issued {_day(issued_on)}"
    context = {"c": content, "header_css": mark_safe(css_string(header)),
               "received": _day(content.get("received_on", "")), "issued": _day(issued_on),
               "deadline": _day(content.get("deadline", ""))}
    return html_to_pdf(render_to_string("sar/pack_pdf.html", context))


def as_issued(sar, issued) -> dict:
    """The issued pack's content; one that failed its integrity check as the request's reference and dates
    with `integrity_error` (the pages, the PDF and the JSON file say it cannot be shown)."""
    if not integrity.unreadable(issued.content):
        return issued.content
    return {"reference": sar.reference, "integrity_error": integrity.MESSAGE}


def download(sar, issued, as_pdf: bool) -> HttpResponse:
    """The issued pack as a file to send to the requester: PDF or JSON. A pack that failed its integrity check
    is refused (DamagedData, 409) rather than handed over as a file saying so, which could be sent on unread."""
    if integrity.unreadable(issued.content):
        raise DamagedData(f"sar pack {sar.reference}")
    content = issued.content
    if as_pdf:
        response = HttpResponse(render_pdf(content, issued), content_type="application/pdf")
    else:
        response = HttpResponse(json.dumps(content, indent=2, ensure_ascii=False),
                                content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{sar.reference}.{"pdf" if as_pdf else "json"}"'
    return response
