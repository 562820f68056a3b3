"""Training refreshers: recording completions, each user's status, and importing a learning system's export.

The period a completion lasts is `MASH_TRAINING_VALID_MONTHS` (12): completed on 10 March 2026, it is
current up to and including 10 March 2027 and has lapsed from 11 March 2027.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mash.accounts.models import Role, User
from mash.audit import services as audit
from mash.audit.models import Kind as AuditKind
from mash.core.errors import PermissionDenied, ValidationFailed

from .models import TrainingRecord

# Who must keep the refresher current: the staff who can reach case data or the audit log.
REQUIRED_ROLES = frozenset({Role.MASH_MANAGER, Role.MASH_WORKER, Role.DPO, Role.AUDITOR})
# Who records completions for others.
RECORDERS = frozenset({Role.MASH_MANAGER, Role.SYSADMIN})
IMPORT_COLUMNS = ("username", "course", "completed_on", "evidence_reference")


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later; the last day of the month where that month is shorter."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expires_on(completed_on: dt.date) -> dt.date:
    """The last day a completion is current."""
    return add_months(completed_on, settings.MASH_TRAINING_VALID_MONTHS)


@dataclass(frozen=True)
class Status:
    required: bool
    latest: TrainingRecord | None
    expires_on: dt.date | None
    today: dt.date

    @property
    def current(self) -> bool:
        return not self.required or (self.expires_on is not None and self.today <= self.expires_on)

    @property
    def days_left(self) -> int | None:
        return (self.expires_on - self.today).days if self.expires_on else None

    @property
    def state(self) -> str:
        """not_required, never, lapsed, expiring (within 30 days) or current."""
        if not self.required:
            return "not_required"
        if self.latest is None:
            return "never"
        if not self.current:
            return "lapsed"
        return "expiring" if self.days_left <= 30 else "current"


def status(user, today: dt.date | None = None) -> Status:
    today = today or timezone.localdate()
    latest = TrainingRecord.objects.filter(user=user).order_by("-completed_on", "-id").first()
    return Status(required=user.role in REQUIRED_ROLES, latest=latest,
                  expires_on=expires_on(latest.completed_on) if latest else None, today=today)


def current_status(user) -> Status:
    """Today's status, loaded once per user object: the gate asks many times in one request, and
    each request (session or API token) loads its user afresh."""
    today = timezone.localdate()
    cached = getattr(user, "_training_status", None)
    if cached is None or cached.today != today:
        cached = status(user, today)
        user._training_status = cached
    return cached


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def gate(user) -> str | None:
    """The access gate's check (registered in TrainingConfig.ready): why this user may not reach case
    data, or None while their refresher is current or not required."""
    found = current_status(user)
    if found.current:
        return None
    if found.latest is None:
        return "no training refresher is recorded for you"
    return f"your training refresher lapsed on {long_date(found.expires_on + dt.timedelta(days=1))}"


GATE_ADVICE = ("Complete the refresher course in handling confidential information, then send the certificate "
               "(evidence reference) to your MASH manager or system administrator to record. You can reach case "
               "data again as soon as it is recorded.")


def _row_errors(username, course, completed_on, evidence_reference, today) -> tuple[list[str], User | None, dt.date | None]:
    errors, user, day = [], None, None
    if not (username or "").strip():
        errors.append("username is empty")
    else:
        user = User.objects.filter(username=username.strip()).first()
        if user is None:
            errors.append(f"no user '{username.strip()}'")
    if not (course or "").strip():
        errors.append("course is empty")
    try:
        day = dt.date.fromisoformat((completed_on or "").strip())
    except ValueError:
        errors.append(f"completed_on '{completed_on}' is not a date (YYYY-MM-DD)")
    else:
        if day > today:
            errors.append(f"completed_on {day} is in the future")
    if not (evidence_reference or "").strip():
        errors.append("evidence_reference is empty")
    return errors, user, day


def record_completion(*, by: User, username: str, course: str, completed_on, evidence_reference: str) -> TrainingRecord:
    """A manager or system administrator records a completion for a user."""
    if by.role not in RECORDERS:
        raise PermissionDenied("Only a MASH manager or a system administrator records training")
    errors, user, day = _row_errors(username, course, str(completed_on or ""), evidence_reference,
                                    timezone.localdate())
    if errors:
        raise ValidationFailed({"__all__": errors})
    with transaction.atomic():
        record = TrainingRecord.objects.create(user=user, course=course.strip(), completed_on=day,
                                               evidence_reference=evidence_reference.strip(), recorded_by=by)
        audit.record(AuditKind.ADMIN, "training.record", actor=by, object_type="user", object_ref=user.username,
                     detail=f"completed {day}")
    return record


class ImportFailed(Exception):
    """The file has errors; `errors` lists each with its line number. Nothing was applied."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


def import_csv(text: str, *, source: str) -> list[TrainingRecord]:
    """Completions exported from a learning system (columns: username, course, completed_on,
    evidence_reference). Every row is checked first; if any is wrong nothing is applied."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in IMPORT_COLUMNS if c not in header]
    if missing:
        raise ImportFailed([f"line 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                            f"(expected {', '.join(IMPORT_COLUMNS)})"])
    reader.fieldnames = header
    today, errors, rows, seen = timezone.localdate(), [], [], {}
    for row in reader:
        line = reader.line_num
        problems, user, day = _row_errors(row.get("username"), row.get("course"), row.get("completed_on"),
                                          row.get("evidence_reference"), today)
        key = ((row.get("username") or "").strip(), (row.get("evidence_reference") or "").strip())
        if key in seen and all(key):
            problems.append(f"repeats line {seen[key]}")
        seen.setdefault(key, line)
        if problems:
            errors.extend(f"line {line}: {p}" for p in problems)
        else:
            rows.append((line, user, row["course"].strip(), day, row["evidence_reference"].strip()))
    if not rows and not errors:
        errors.append("the file has no rows")
    if errors:
        raise ImportFailed(errors)
    with transaction.atomic():
        made = [TrainingRecord.objects.create(user=user, course=course, completed_on=day,
                                              evidence_reference=evidence, source=f"{source}:{line}"[:300])
                for line, user, course, day, evidence in rows]
        audit.record(AuditKind.ADMIN, "training.import", object_type="file", object_ref=source,
                     detail=f"{len(made)} completions")
    return made
