"""The disclosure package PDF: every page names its reader, and only what the package includes is shown.

No database: the package is a stand-in with the attributes the renderer reads. Synthetic data only.
"""

import datetime as dt
import io
import logging
import re
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

from mash.disclosure.pdf import _css_string, render_pdf

READER = "Rowan Exampleton"
PRINTED_AT = dt.datetime(2025, 3, 7, 14, 5)
PRINTED = "7 March 2025 14:05"


def _package(status="sent"):
    return SimpleNamespace(
        pk=42, addressed_to="Sam Testwell (Northfield children's team)", status=status,
        get_recipient_type_display=lambda: "Children's social care",
        sent_at=dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.timezone.utc), expires_at=None,
        isa_version=SimpleNamespace(version="2.1"), isa_clause="7.3",
        lawful_basis="children_act_1989_s47", lawful_basis_clause="4.2",
        get_consent_state_display=lambda: "Consent given")


def _content(items=None, **child):
    return {"enquiry_reference": "MASH-2025-0007",
            "cover_note": "Passed on for the strategy discussion.\nPlease call the MASH first.",
            "child": {"full_name": "Alfie Placeholder", "date_of_birth": "2016-05-04", **child},
            "decision": {"outcome": "s47", "outcome_label": "Strategy discussion", "decided_on": "2025-02-28"},
            "items": items if items is not None else []}


def _item(n):
    return {"agency": f"Example School {n}", "category": "education", "category_label": "Education",
            "content": f"Note number {n}. " + "Attendance has fallen over the term and staff are worried. " * 12,
            "occurred_on": "2025-01-15", "relevance_note": "Shows a pattern over time."}


def _pages(pdf: bytes) -> list[str]:
    # pypdf may break lines or put odd spacing between words: compare with whitespace collapsed.
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def test_output_is_a_pdf():
    assert render_pdf(_package(), _content(), READER, PRINTED_AT).startswith(b"%PDF")


def test_every_page_names_the_reader_and_the_print_time(caplog):
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = render_pdf(_package(), _content([_item(n) for n in range(40)]), READER, PRINTED_AT)
    pages = _pages(pdf)
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert READER in text and PRINTED in text, f"page {number}"
        assert "OFFICIAL-SENSITIVE" in text and f"Page {number} of {len(pages)}" in text
    # Nothing fetched, no CSS ignored. (WeasyPrint also warns when the system lacks HarfBuzz-Subset:
    # that is about the machine, not this document.)
    assert [r.getMessage() for r in caplog.records if "HarfBuzz" not in r.getMessage()] == []


def test_shows_the_items_cover_note_and_readable_dates():
    text = " ".join(_pages(render_pdf(_package(), _content([_item(1)]), READER, PRINTED_AT)))
    assert "Note number 1. Attendance has fallen" in text
    assert "Passed on for the strategy discussion." in text and "Please call the MASH first." in text
    assert "4 May 2016" in text and "15 January 2025" in text and "MASH-2025-0007" in text
    assert "PREVIEW" not in text


def test_only_included_fields_are_labelled():
    text = " ".join(_pages(render_pdf(_package(), _content(upn="A123456789012"), READER, PRINTED_AT)))
    assert "Unique pupil number" in text
    assert "NHS number" not in text and not re.search(r"\bAddress\b", text)  # "Addressed to" is a fact


def test_no_items_and_draft_preview():
    text = " ".join(_pages(render_pdf(_package(status="draft"), _content([]), READER, PRINTED_AT)))
    assert "PREVIEW – NOT SENT" in text
    assert "No agency information is included." in text


def test_hostile_reader_name_is_shown_not_obeyed():
    name = 'Rowan "Ro" Exampleton\\ </style><h1>Injected</h1>'
    text = " ".join(_pages(render_pdf(_package(), _content(), name, PRINTED_AT)))
    assert 'Rowan "Ro" Exampleton\\ </style><h1>Injected</h1>' in text


@pytest.mark.parametrize("raw, expected", [
    ("Rowan Exampleton", '"Rowan Exampleton"'),
    ('Ro "the" Ex', r'"Ro \"the\" Ex"'),
    ("back\\slash", r'"back\\slash"'),
    ("a</style>b", r'"a\3c /style\3e b"'),
    ("line\nbreak\r\ttab\x00", '"line break  tab "'),
])
def test_css_string(raw, expected):
    assert _css_string(raw) == expected
