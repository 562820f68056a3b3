"""What a response says, and the POST bodies of web forms."""

import io
import re

from pypdf import PdfReader


def text(response) -> str:
    return response.content.decode()


def pdf_text(body: bytes) -> str:
    """A PDF's text, every run of white space one space."""
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages))


def answer_form(kind, decision_reason, lawful_basis="", confidential_reason="", items=(), **extra):
    """The POST body of an agency's answer form, items numbered as the form numbers them."""
    data = {"kind": kind, "decision_reason": decision_reason, "lawful_basis": lawful_basis,
            "confidential_reason": confidential_reason, **extra}
    for i, item in enumerate(items):
        for key, value in item.items():
            data[f"item-{i}-{key}"] = value
    return data
