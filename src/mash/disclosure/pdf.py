"""The PDF of a disclosure package, for the receiving professional to print or keep.

Every page carries the reader's name and when it was printed (CSS @page margin boxes), so a page
that strays can be traced to whom it was given. Nothing is fetched: no base URL, no web fonts.
"""

import datetime as dt

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from mash.core.pdf import css_string as _css_string
from mash.core.pdf import html_to_pdf
from mash.keys import integrity

from .services import CHILD_FIELDS, DECISION_FIELDS, ITEM_FIELDS


def _local(value: dt.datetime) -> dt.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _day(value: dt.date) -> str:
    return f"{value.day} {value:%B %Y}"  # 4 May 2016; `%-d` is not portable


def _when(value: dt.datetime | None, missing: str) -> str:
    return f"{_day(_local(value))} {_local(value):%H:%M}" if value else missing


def _iso_day(iso: str) -> str:
    # Content stores dates as ISO strings; "" means the date was chosen but not recorded.
    return _day(dt.date.fromisoformat(iso)) if iso else "Not recorded"


_DATES = {"date_of_birth", "occurred_on"}


def _rows(source: dict, labels: dict) -> list[tuple[str, str]]:
    """(label, value) for the fields the package includes, in the order of `labels`; dates made readable."""
    return [(label, _iso_day(source[key]) if key in _DATES else source[key] or "Not recorded")
            for key, label in labels.items() if key in source]


def render_pdf(package, content: dict, reader_name: str, printed_at: dt.datetime) -> bytes:
    printed = _when(printed_at, "")
    header = f"Disclosure package {package.pk} for {reader_name}, {printed}"
    isa = (f"ISA version {package.isa_version.version}, clause {package.isa_clause or 'not recorded'}"
           if package.isa_version else "Not recorded yet")
    basis = package.lawful_basis + (f", clause {package.lawful_basis_clause}" if package.lawful_basis_clause else "")
    if integrity.unreadable(content):
        # The content failed its integrity check: the PDF says so, with the package's own facts.
        content = {"enquiry_reference": package.enquiry_reference_as_sent, "unreadable": integrity.MESSAGE,
                   "child": {"full_name": ""}}
    decision = content.get("decision", {})
    context = {
        "unreadable": content.get("unreadable", ""),
        "package": package,
        "is_preview": package.status == "draft",
        "header_css": mark_safe(_css_string(header)),  # escaped for CSS above; HTML escaping would break it
        "facts": [
            ("Addressed to", package.addressed_to),
            ("Kind of recipient", package.get_recipient_type_display()),
            ("Sent on", _when(package.sent_at, "Not sent")),
            ("Expires on", _when(package.expires_at, "Not set")),
            ("Information sharing agreement", isa),
            ("Lawful basis", basis or "Not recorded"),
            ("Consent", package.get_consent_state_display() or "Not recorded yet"),
        ],
        "enquiry_reference": content.get("enquiry_reference", ""),
        "cover_note": content.get("cover_note", ""),
        "child_rows": [("Name", content["child"]["full_name"])] + _rows(content["child"], CHILD_FIELDS),
        "decision_rows": [("Outcome", decision.get("outcome_label", "")),
                          ("Decided on", _iso_day(decision.get("decided_on", "")))]
                         + _rows(decision, DECISION_FIELDS),
        "items": [{"agency": item["agency"], "category_label": item["category_label"],
                   "rows": _rows(item, ITEM_FIELDS)} for item in content.get("items", [])],
    }
    return html_to_pdf(render_to_string("disclosure/package_pdf.html", context))
