"""Training refreshers: recording completions, each user's status, and importing a learning system's export.

The period a completion lasts is `MASH_TRAINING_VALID_MONTHS` (12): completed on 10 March 2026, it is
current up to and including 10 March 2027 and has lapsed from 11 March 2027.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from mash.accounts.models import Role, User
from mash.audit import services as audit
from mash.audit.models import Kind as AuditKind
from mash.audit.models import Result as AuditResult
from mash.audit.typed import username_if_account
from mash.core.dates import add_months, long_date
from mash.core.errors import PermissionDenied, ValidationFailed

from .models import TrainingRecord, TrainingReminder

# Who must keep the refresher current: the staff who can reach case data or the audit log.
REQUIRED_ROLES = frozenset({Role.MASH_MANAGER, Role.MASH_WORKER, Role.DPO, Role.AUDITOR})
# Who records completions for others.
RECORDERS = frozenset({Role.MASH_MANAGER, Role.SYSADMIN})
IMPORT_COLUMNS = ("username", "course", "completed_on", "evidence_reference")


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
        if self.expires_on is None:
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


@dataclass(frozen=True)
class Problem:
    field: str
    in_file: str   # as the import prints it, naming the column
    in_form: str   # as a person filling in the form reads it


def _row_errors(username, course, completed_on, evidence_reference,
                today) -> tuple[list[Problem], User | None, dt.date | None]:
    """Each problem with one completion, and the user and date when they are good."""
    errors, user, day = [], None, None
    if not (username or "").strip():
        errors.append(Problem("username", "username is empty", "Choose who completed the training"))
    else:
        user = User.objects.filter(username=username.strip()).first()
        if user is None:
            errors.append(Problem("username", f"no user '{username.strip()}'",
                                  f"There is no user '{username.strip()}'"))
    if not (course or "").strip():
        errors.append(Problem("course", "course is empty", "Enter the course"))
    try:
        day = dt.date.fromisoformat((completed_on or "").strip())
    except ValueError:
        errors.append(Problem("completed_on", f"completed_on '{completed_on}' is not a date (YYYY-MM-DD)",
                              "Enter the date completed as YYYY-MM-DD"))
    else:
        if day > today:
            errors.append(Problem("completed_on", f"completed_on {day} is in the future",
                                  "The date completed must be today or in the past"))
    if not (evidence_reference or "").strip():
        errors.append(Problem("evidence_reference", "evidence_reference is empty", "Enter the evidence reference"))
    return errors, user, day


def _require_recorder(by: User, action: str, ref: str = "") -> None:
    if by.role not in RECORDERS:
        audit.record(AuditKind.DENIAL, action, actor=by, result=AuditResult.REFUSED, object_type="training",
                     object_ref=ref, detail="only a MASH manager or a system administrator")
        raise PermissionDenied("Only a MASH manager or a system administrator may do this")


def record_completion(*, by: User, username: str, course: str, completed_on, evidence_reference: str) -> TrainingRecord:
    """A manager or system administrator records a completion for someone else."""
    # The username typed is kept in the log only if it is an account's (mash.audit.typed).
    _require_recorder(by, "training.record", username_if_account(username))
    errors, user, day = _row_errors(username, course, str(completed_on or ""), evidence_reference,
                                    timezone.localdate())
    if user is not None and user.pk == by.pk:
        own = "You cannot record your own training: another manager or a system administrator records it"
        errors.append(Problem("username", own, own))
    if errors:
        found: dict[str, list[str]] = {}
        for problem in errors:
            found.setdefault(problem.field, []).append(problem.in_form)
        raise ValidationFailed(found)
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
            errors.extend(f"line {line}: {p if isinstance(p, str) else p.in_file}" for p in problems)
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


# --- Each user's own training, and who may be recorded ---------------------------------------------

def own_records(user) -> list[TrainingRecord]:
    return list(TrainingRecord.objects.filter(user=user).select_related("recorded_by"))


@dataclass(frozen=True)
class OwnTraining:
    """A user's own refresher: their status today and every completion recorded for them."""

    status: Status
    completions: list[TrainingRecord]


def own_training(user) -> OwnTraining:
    return OwnTraining(current_status(user), own_records(user))


def recordable_users(by: User):
    """The staff whose completions `by` may record: everyone who must keep a refresher, but themselves."""
    _require_recorder(by, "training.record")
    return (User.objects.filter(is_active=True, role__in=REQUIRED_ROLES).exclude(pk=by.pk)
            .select_related("partner").order_by("last_name", "first_name", "username"))


# --- Compliance by agency ----------------------------------------------------------------------------

NO_AGENCY = "Not in a partner agency (managers, the DPO, auditors)"


@dataclass(frozen=True)
class StaffStatus:
    user: User
    state: str
    completed_on: dt.date | None
    expires_on: dt.date | None
    days_left: int | None


@dataclass
class AgencyCompliance:
    name: str
    slug: str
    current: list[StaffStatus]
    expiring: list[StaffStatus]
    lapsed: list[StaffStatus]
    never: list[StaffStatus]

    @property
    def total(self) -> int:
        return len(self.current) + len(self.expiring) + len(self.lapsed) + len(self.never)

    @property
    def needing_action(self) -> list[StaffStatus]:
        return self.lapsed + self.never + self.expiring


def _staff_statuses(today: dt.date):
    """Every active user who must keep a refresher, with their status: one query."""
    staff = (User.objects.filter(is_active=True, role__in=REQUIRED_ROLES).select_related("partner")
             .annotate(last_completed=Max("training_records__completed_on"))
             .order_by("last_name", "first_name", "username"))
    for user in staff:
        last = user.last_completed
        found = Status(required=True, latest=None, expires_on=expires_on(last) if last else None, today=today)
        yield StaffStatus(user, found.state, last, found.expires_on, found.days_left)


def compliance(by: User, today: dt.date | None = None) -> list[AgencyCompliance]:
    """For managers and system administrators: by agency, who is current, expiring, lapsed, or never
    trained. Every partner agency is listed, with staff or not; staff of no agency come last."""
    from mash.partners.models import Partner

    _require_recorder(by, "training.compliance", "all")
    today = today or timezone.localdate()
    groups = {p.pk: AgencyCompliance(p.name, p.slug, [], [], [], []) for p in Partner.objects.order_by("name")}
    other = AgencyCompliance(NO_AGENCY, "", [], [], [], [])
    for row in _staff_statuses(today):
        group = groups.get(row.user.partner_id, other)
        getattr(group, row.state).append(row)
    for group in [*groups.values(), other]:
        group.expiring.sort(key=lambda r: r.days_left)
        group.lapsed.sort(key=lambda r: r.expires_on)
    audit.record(AuditKind.READ, "training.compliance", actor=by, object_type="training", object_ref="all",
                 fields=("training status",))
    return [*groups.values()] + ([other] if other.total else [])


# --- Reminders before expiry -------------------------------------------------------------------------

@dataclass(frozen=True)
class ReminderDue:
    user: User
    expires_on: dt.date
    days_before: int
    days_left: int


def reminders_due(today: dt.date | None = None) -> list[ReminderDue]:
    """Who should be reminded today. With thresholds 30, 14 and 7: a refresher with 20 days left is
    due its 30-day reminder, with 10 days left its 14-day one; each is sent once per expiry date, and a
    threshold missed (the job did not run) is not sent late once a nearer one applies."""
    today = today or timezone.localdate()
    thresholds = settings.MASH_TRAINING_REMINDER_DAYS
    if not thresholds:
        return []
    candidates = [row for row in _staff_statuses(today)
                  if row.days_left is not None and 0 <= row.days_left <= max(thresholds)]
    sent = set(TrainingReminder.objects.filter(user__in=[r.user for r in candidates])
               .values_list("user_id", "expires_on", "days_before"))
    due = []
    for row in candidates:
        threshold = min(t for t in thresholds if t >= row.days_left)
        if (row.user.pk, row.expires_on, threshold) not in sent:
            due.append(ReminderDue(row.user, row.expires_on, threshold, row.days_left))
    return due


def _reminder_text(due: ReminderDue) -> tuple[str, str]:
    when = "today" if due.days_left == 0 else f"in {due.days_left} day{'s' if due.days_left != 1 else ''}"
    subject = f"Your MASH training refresher expires on {long_date(due.expires_on)}"
    body = (f"Hello {due.user.display_name},\n\n"
            f"Your refresher in handling confidential information for MASH Hub expires {when}, on "
            f"{long_date(due.expires_on)}. After that you will not be able to reach case data until your next "
            f"completion is recorded.\n\n"
            f"Complete the refresher course, then send the certificate (its evidence reference) to your MASH "
            f"manager or system administrator to record.\n\n"
            f"Your training status: {settings.MASH_SITE_URL}/training/\n")
    return subject, body


@dataclass
class ReminderRun:
    sent: list[ReminderDue]
    no_email: list[ReminderDue]
    failed: list[tuple[ReminderDue, str]]


def send_reminders(today: dt.date | None = None, dry_run: bool = False) -> ReminderRun:
    """Email each reminder due today, once: the sent-reminder row and the email go together (if the
    email cannot be sent, the row is not kept and the next run tries again)."""
    run = ReminderRun([], [], [])
    for due in reminders_due(today):
        if not due.user.email:
            run.no_email.append(due)
            continue
        if dry_run:
            run.sent.append(due)
            continue
        subject, body = _reminder_text(due)
        try:
            with transaction.atomic():
                TrainingReminder.objects.create(user=due.user, expires_on=due.expires_on, days_before=due.days_before)
                send_mail(subject, body, None, [due.user.email])
        except IntegrityError:
            continue  # another run sent it in the meantime
        except OSError as exc:  # the mail server refused or could not be reached
            run.failed.append((due, str(exc)))
            continue
        run.sent.append(due)
    if run.sent and not dry_run:
        audit.record(AuditKind.ADMIN, "training.remind", object_type="training", object_ref="reminders",
                     detail=f"{len(run.sent)} reminder(s) sent: "
                            + ", ".join(f"{d.user.username} ({d.days_before} days)" for d in run.sent))
    return run
