"""What the audit pages and CSV show of an event's references.

Events are append-only and hash-chained, so what was recorded before these rules cannot be changed:
person searches recorded the text typed (names, NHS numbers), and refusals whatever was typed where a
reference goes. Such text is no longer recorded (the search is recorded by the people it found, a
refusal by ids and references only; docs/audit.md) and, in events recorded before, is not shown.
"""

from __future__ import annotations

from .models import Kind
from .typed import loggable_path, loggable_ref

PERSON_SEARCH = "person search"
# What a person search records since the text stopped being kept (mash.sar.selectors.sar_people).
SEARCH_REFS = frozenset({"search by name", "search by NHS number", "search by date of birth"})
SEARCH_TEXT_NOT_SHOWN = "search text not shown"


def object_ref(event) -> str:
    """The event's references as the pages and CSV show them."""
    ref = event.object_ref or ""
    if event.kind == Kind.DENIAL:
        return loggable_path(ref) if event.object_type == "url" else loggable_ref(ref)
    types = (event.object_type or "").split("+")
    if PERSON_SEARCH not in types:
        return ref
    # A request's reads are recorded as "type: refs; type: refs" in the order of `object_type`.
    index = types.index(PERSON_SEARCH)
    start = ref.find(f"{PERSON_SEARCH}: ")
    if start < 0:
        return ref
    later = [ref.rfind(f"; {t}: ") for t in types[index + 1:]]
    end = min([i for i in later if i > start], default=len(ref))
    searched = ref[start + len(PERSON_SEARCH) + 2:end]
    if all(part in SEARCH_REFS for part in searched.split(", ")):
        return ref
    return f"{ref[:start]}{PERSON_SEARCH}: {SEARCH_TEXT_NOT_SHOWN}{ref[end:]}"
