"""What the log keeps of text a person typed. The log is append-only and kept for years, longer than
retention keeps anyone's data, so typed text is kept only where it names something the application
made: an account's username (a password typed into the username box, or a child's name, is not), or
a reference or id shaped as the application makes them."""

import re

from django.urls import Resolver404, resolve

NOT_AN_ACCOUNT = "(no such user: not kept)"


def username_if_account(username) -> str:
    """The username typed, if it is someone's; otherwise a placeholder (nothing typed: empty)."""
    from django.contrib.auth import get_user_model

    username = str(username or "")
    if not username or get_user_model()._default_manager.filter(username=username).exists():
        return username
    return NOT_AN_ACCOUNT


# What the log keeps of an object asked for: an id, or a reference shaped as the application makes them
# (MASH-2026-000001, SAR-2026-0001/12). Anything else was typed (a name in a reference box or a URL) and
# is not kept: the audit log is append-only and outlives retention (docs/audit.md).
_LOGGABLE_REF = re.compile(r"(?:[A-Za-z]{1,10}-\d{4}-\d{1,10}|\d{1,9})(?:/\d{1,19})?|[*]|search|open|all|")
NOT_KEPT = "(typed text, not kept)"


def loggable_ref(ref) -> str:
    if isinstance(ref, int):
        return str(ref)
    text = str(ref or "")
    return text if _LOGGABLE_REF.fullmatch(text) else NOT_KEPT


def loggable_path(path: str) -> str:
    """A URL for the log, with whatever was typed where a reference goes left out."""
    try:
        match = resolve(path)
    except Resolver404:
        return f"(no such page: {NOT_KEPT})"
    for value in match.kwargs.values():
        if loggable_ref(value) == NOT_KEPT:
            path = path.replace(str(value), NOT_KEPT)
    return path

