"""PDFs (WeasyPrint) that load nothing from anywhere, and the CSS-string escaping their running
headers need. Used by disclosure packages and subject access response packs."""

import unicodedata

from weasyprint import HTML


def css_string(text) -> str:
    """`text` as a double-quoted CSS string literal, safe inside a <style> element.

    The stylesheet is raw text to the HTML parser (HTML escaping would show literally), so the CSS
    escaping must do it all: `\\` and `"` can't end the string, `<` `>` `&` become hex escapes so
    `</style>` can't close the element, and control characters (newlines included) become spaces.
    """
    out = []
    for ch in str(text):
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch in "<>&":
            out.append(f"\\{ord(ch):x} ")  # the space ends the hex escape and is not shown
        elif unicodedata.category(ch) == "Cc":
            out.append(" ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def html_to_pdf(html: str) -> bytes:
    return HTML(string=html, base_url=None, url_fetcher=_fetch_nothing).write_pdf()


def _fetch_nothing(url, *args, **kwargs):
    """A PDF loads nothing from anywhere: whatever a text asked for, the answer is no."""
    raise ValueError(f"the PDF fetches no resources ({url[:60]})")
