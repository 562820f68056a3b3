"""Damaged data is contained, reported, and never a blank 500 (docs/encryption.md).

A stored ciphertext that does not open (altered, or copied from another row, column or person)
reads as `Unreadable`: a str whose text is MESSAGE, so a page shows "This item cannot be shown..."
where the value would be and renders the rest of the case. A JSON column's value reads as a dict
(`UnreadableData`) or list (`UnreadableList`) holding that text, so code expecting the structure
does not fail; `unreadable(value)` recognises all three, for the pages that show the whole value
(a package, a SAR pack) to say it cannot be shown. Each one met:

- is recorded in the audit log at once (a read that failed: action "integrity check failed", the
  table, column and row, never content);
- alerts the administrators by email (settings.ADMINS and every active system administrator with an
  email address, whom the accounts app names through `alert_also`), once an hour per value;
- is taken out of the request's read event (`withheld_middleware`): the part it belongs to is
  recorded as "<part>, except what failed an integrity check (<table>.<column>#<row>)";
- in the JSON API becomes null, with the body's `integrity_errors` listing where (`redact_for_api`);
- can never be written back or copied into another row: saving it unchanged keeps the damaged
  ciphertext as it is, and sealing it anywhere else raises DamagedData.

A destroyed key (DataShredded) and a missing master key (KeyringError) are not damage and still raise.
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass
from typing import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail

log = logging.getLogger(__name__)

MESSAGE = "This item cannot be shown: it failed an integrity check and has been reported"
ALERT_EVERY_SECONDS = 3600

# The part of the case (mash.access.rules.FIELDS, and the gate's other read names) each table's
# encrypted columns belong to, for the read event.
PARTS = {
    "cases_contact": {"concern": "concern", "consent_notes": "consent", "reporter_name": "reporter",
                      "reporter_phone": "reporter", "reporter_email": "reporter"},
    "cases_enquiryevent": "history",
    "cases_ragratingrecord": "ratings",
    "cases_decision": "decision",
    "sharing_informationrequest": "requests",
    "sharing_contribution": "contributions",
    "sharing_contributionitem": "contributions",
    "consent_consentrecord": "consent",
    "consent_consentoverride": "consent",
    "disclosure_disclosurepackage": "package",
    "attachments_attachment": "attachments",
}


@dataclass(frozen=True)
class Damaged:
    """Where a value failed its integrity check: never what it held."""

    table: str
    column: str
    row: int | None
    person_id: int | None

    @property
    def place(self) -> str:
        return f"{self.table}.{self.column}#{self.row}"

    @property
    def part(self) -> str:
        parts = PARTS.get(self.table, self.column)
        return parts.get(self.column, self.column) if isinstance(parts, dict) else parts


class Unreadable(str):
    """A stored value that failed its integrity check. It reads as MESSAGE, and is never written back."""

    damaged: Damaged

    def __new__(cls, damaged: Damaged):
        value = super().__new__(cls, MESSAGE)
        value.damaged = damaged
        return value


class UnreadableData(dict):
    """The stand-in for a damaged JSON value where a dict is expected (a package's or a pack's content, a SAR
    item's fields): {"Information": Unreadable}. It is still a dict, so code that reads it does not fail,
    and `unreadable()` recognises it: the package page, PDF and pack say the content cannot be shown
    rather than render an empty structure. In the API it is answered as {"Information": null} with the
    path in `integrity_errors`."""

    unreadable = True  # for templates: {% if content.unreadable %}
    LABEL = "Information"

    def __init__(self, text: Unreadable):
        super().__init__({self.LABEL: text})
        self.damaged = text.damaged


class UnreadableList(list):
    """The stand-in for a damaged JSON value where a list is expected (a SAR item's redactions): [Unreadable]."""

    unreadable = True

    def __init__(self, text: Unreadable):
        super().__init__([text])
        self.damaged = text.damaged


def stand_in(field, text: Unreadable):
    """What a damaged value of `field` reads as: the text for a text column; for a JSON column, a dict or a
    list holding it, as the column's default says its values are (a dict unless the default is a list)."""
    from django.db import models

    if not isinstance(field, models.JSONField):
        return text
    default = field.default() if callable(field.default) else field.default
    return UnreadableList(text) if isinstance(default, list) else UnreadableData(text)


def unreadable(value) -> bool:
    """Whether a value read from an encrypted column is the stand-in for one that failed its check."""
    return isinstance(value, (Unreadable, UnreadableData, UnreadableList))


def holds_unreadable(value) -> bool:
    if unreadable(value):
        return True
    if isinstance(value, dict):
        return any(holds_unreadable(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(holds_unreadable(v) for v in value)
    return False


# What this request (or command) met ------------------------------------------------------------

_met: contextvars.ContextVar[list | None] = contextvars.ContextVar("mash_integrity", default=None)


def begin() -> contextvars.Token:
    return _met.set([])


def end(token: contextvars.Token) -> None:
    _met.reset(token)


def met() -> list[Damaged]:
    return list(_met.get() or ())


def report(instance, field, exc: Exception) -> Unreadable:
    """A value of `instance` did not decrypt: record it, alert, and return what stands in for it."""
    from mash.audit import services as audit
    from mash.audit.models import Kind, Result

    try:
        person_id = field.person_id(instance)
    except Exception:  # noqa: BLE001 - the person cannot be found either; the place is still known
        person_id = None
    damaged = Damaged(instance._meta.db_table, field.column, instance.pk, person_id)
    seen = _met.get()
    if seen is not None:
        if damaged in seen:
            return Unreadable(damaged)
        seen.append(damaged)
    log.error("integrity: %s did not decrypt (%s); not shown, reported", damaged.place, exc)
    audit.record(Kind.READ, "integrity check failed", result=Result.FAILED, object_type=damaged.table,
                 object_ref=damaged.place, people=[person_id] if person_id else [], fields=[damaged.part],
                 detail="a stored value failed its integrity check (altered, or copied from another row, column "
                        "or person); it was not shown, and the administrators were alerted")
    _alert(damaged)
    return Unreadable(damaged)


# Who else is alerted, besides settings.ADMINS: each source returns email addresses. The accounts app adds
# every active system administrator's at start-up (AccountsConfig.ready); keys knows nothing of accounts.
_alert_sources: list[Callable[[], Iterable[str]]] = []


def alert_also(source: Callable[[], Iterable[str]]) -> None:
    """Add a source of email addresses to alert about damaged data (once per source)."""
    if source not in _alert_sources:
        _alert_sources.append(source)


def _recipients() -> list[str]:
    emails = [email for _, email in getattr(settings, "ADMINS", ())]
    for source in _alert_sources:
        emails += list(source())
    return sorted(set(emails))


def _alert(damaged: Damaged) -> None:
    """Email the administrators, once an hour per damaged value (every read is in the audit log)."""
    from mash.audit import services as audit

    if not cache.add(f"mash-integrity-alert:{damaged.place}", 1, ALERT_EVERY_SECONDS):
        return
    ctx = audit.current()
    request = getattr(ctx, "request", None)
    user = getattr(request, "user", None)
    who = user.get_username() if getattr(user, "is_authenticated", False) else "a command"
    body = (
        "A value stored in MASH Hub failed its integrity check when it was read, so it was not shown.\n\n"
        f"Where: table {damaged.table}, column {damaged.column}, row {damaged.row}\n"
        f"Read by: {who}" + (f", at {request.path}" if request is not None else "") + "\n\n"
        "The ciphertext was altered in the database, or copied from another row, column or person. The rest "
        "of the record is shown. Find out how it changed (the audit log has an 'integrity check failed' "
        "event for each read), and restore the value from a backup if it was damaged. See docs/encryption.md.\n"
    )
    recipients = _recipients()
    if not recipients:
        log.error("integrity: no administrator has an email address to alert about %s", damaged.place)
        return
    try:
        send_mail("MASH Hub: stored data failed an integrity check", body, None, recipients)
    except Exception:  # noqa: BLE001 - the page still renders; the audit event and the log have it
        log.exception("integrity: could not email the administrators about %s", damaged.place)


# Read events record what was actually shown ------------------------------------------------------

def withheld_middleware(get_response):
    """Sits inside the audit middleware: before the request's reads are written as one event, each part
    that held a value which failed its integrity check is recorded as not fully shown."""

    def middleware(request):
        token = begin()
        try:
            response = get_response(request)
            _adjust_reads(met())
            return response
        finally:
            end(token)

    return middleware


def _adjust_reads(damaged: list[Damaged]) -> None:
    from mash.audit import services as audit

    ctx = audit.current()
    if not damaged or ctx is None:
        return
    by_part: dict[str, list[str]] = {}
    for d in damaged:
        by_part.setdefault(d.part, []).append(d.place)
    for part, places in by_part.items():
        note = f"{part}, except what failed an integrity check ({', '.join(sorted(places))})"
        people = {d.person_id for d in damaged if d.part == part}
        entries = [fields for _, (_, fields) in ctx.reads.items() if part in fields]
        entries = entries or [fields for _, (who, fields) in ctx.reads.items() if who & people]
        for fields in entries:
            fields.discard(part)
            fields.add(note)


# The JSON API --------------------------------------------------------------------------------------

def redact_for_api(data):
    """In a request that met damaged values: each one in `data` becomes null, and a dict body lists them in
    `integrity_errors` (path and message). Returns (data, errors)."""
    if not met():
        return data, []
    errors: list[dict] = []

    def walk(value, path):
        if isinstance(value, str) and value == MESSAGE:
            errors.append({"field": path or "(body)", "detail": MESSAGE})
            return None
        if isinstance(value, dict):
            return {k: walk(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    data = walk(data, "")
    if errors and isinstance(data, dict):
        data["integrity_errors"] = errors
    return data, errors
