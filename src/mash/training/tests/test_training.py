"""Training refreshers: expiry boundaries, who must be trained, and the all-or-nothing import."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mash.accounts.models import Role
from mash.audit.models import AuditEvent
from mash.core.errors import PermissionDenied, ValidationFailed
from mash.training import services
from mash.training.models import TrainingRecord

D = dt.date


@pytest.mark.parametrize("completed, expires", [
    (D(2026, 3, 10), D(2027, 3, 10)),
    (D(2024, 2, 29), D(2025, 2, 28)),   # no 29 February next year: the last day of February
    (D(2025, 1, 31), D(2026, 1, 31)),
    (D(2025, 12, 31), D(2026, 12, 31)),
])
def test_a_completion_lasts_a_year(completed, expires):
    """Expiry is the same day a year later, or the last day of the month when there is none."""
    assert services.expires_on(completed) == expires


def test_the_period_is_configurable(settings):
    """MASH_TRAINING_VALID_MONTHS sets the period."""
    settings.MASH_TRAINING_VALID_MONTHS = 6
    assert services.expires_on(D(2026, 8, 31)) == D(2027, 2, 28)


@pytest.mark.django_db
def test_status_at_the_boundaries(make_user, manager):
    """Current up to and including the expiry date; lapsed the day after; expiring within 30 days."""
    worker = make_user(Role.MASH_WORKER, "essex-police", trained=False)
    assert services.status(worker).state == "never"
    services.record_completion(by=manager, username=worker.username, course="Refresher",
                               completed_on="2025-06-15", evidence_reference="CERT-1")
    expiry = D(2026, 6, 15)
    assert services.status(worker, today=expiry).state == "expiring"
    assert services.status(worker, today=expiry).current
    assert services.status(worker, today=expiry + dt.timedelta(days=1)).state == "lapsed"
    assert services.status(worker, today=expiry - dt.timedelta(days=30)).state == "expiring"
    assert services.status(worker, today=expiry - dt.timedelta(days=31)).state == "current"
    # A later completion counts from its own date.
    services.record_completion(by=manager, username=worker.username, course="Refresher",
                               completed_on="2026-06-01", evidence_reference="CERT-2")
    assert services.status(worker, today=expiry + dt.timedelta(days=1)).state == "current"


@pytest.mark.django_db
def test_only_staff_who_reach_case_data_need_it(make_user):
    """Receiving professionals and system administrators are not MASH staff: no refresher is required."""
    for role in (Role.RECEIVING_PROFESSIONAL, Role.SYSADMIN):
        assert services.status(make_user(role)).state == "not_required"
    for role in (Role.MASH_MANAGER, Role.DPO, Role.AUDITOR):
        assert services.status(make_user(role, trained=False)).state == "never"


@pytest.mark.django_db
def test_recording_needs_a_manager_or_an_administrator_and_valid_input(make_user, manager):
    worker = make_user(Role.MASH_WORKER, "education", trained=False)
    with pytest.raises(PermissionDenied):
        services.record_completion(by=worker, username=worker.username, course="Refresher",
                                   completed_on="2026-01-01", evidence_reference="X")
    with pytest.raises(ValidationFailed) as exc:
        services.record_completion(by=manager, username="nobody", course="", completed_on="2999-01-01",
                                   evidence_reference="")
    assert exc.value.errors == {"username": ["There is no user 'nobody'"], "course": ["Enter the course"],
                                "completed_on": ["The date completed must be today or in the past"],
                                "evidence_reference": ["Enter the evidence reference"]}
    record = services.record_completion(by=make_user(Role.SYSADMIN), username=worker.username, course="Refresher",
                                        completed_on="2026-01-01", evidence_reference="LMS-77")
    assert record.recorded_by.role == Role.SYSADMIN
    assert AuditEvent.objects.filter(action="training.record", object_ref=worker.username).exists()


def _write(tmp_path, text):
    path = tmp_path / "completions.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.django_db
def test_import_applies_every_row(tmp_path, make_user, capsys):
    """A clean file is imported whole, each record naming the file and line it came from."""
    a, b = make_user(Role.MASH_WORKER, "essex-police", trained=False), make_user(Role.MASH_MANAGER, trained=False)
    path = _write(tmp_path, "username,course,completed_on,evidence_reference\n"
                            f"{a.username},Refresher,2026-02-01,LMS-1\n{b.username},Refresher,2026-03-01,LMS-2\n")
    call_command("training", "import", str(path))
    assert "Imported 2" in capsys.readouterr().out
    assert sorted(TrainingRecord.objects.values_list("source", flat=True)) == ["completions.csv:2",
                                                                                "completions.csv:3"]


@pytest.mark.django_db
def test_import_applies_nothing_if_any_row_is_wrong(tmp_path, make_user, capsys):
    """One bad row and nothing is imported; every error is printed with its line number."""
    a = make_user(Role.MASH_WORKER, "essex-police", trained=False)
    path = _write(tmp_path, "username,course,completed_on,evidence_reference\n"
                            f"{a.username},Refresher,2026-02-01,LMS-1\n"
                            "ghost,Refresher,2026-02-01,LMS-2\n"
                            f"{a.username},Refresher,01/02/2026,LMS-3\n"
                            f"{a.username},,2026-02-01,\n"
                            f"{a.username},Refresher,2026-02-01,LMS-1\n")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("training", "import", str(path))
    err = capsys.readouterr().err
    assert "line 3: no user 'ghost'" in err
    assert "line 4: completed_on '01/02/2026' is not a date" in err
    assert "line 5: course is empty" in err and "line 5: evidence_reference is empty" in err
    assert "line 6: repeats line 2" in err
    assert TrainingRecord.objects.count() == 0


@pytest.mark.django_db
def test_import_refuses_a_file_without_the_columns(tmp_path, capsys):
    path = _write(tmp_path, "user,date\nsomeone,2026-01-01\n")
    with pytest.raises(CommandError):
        call_command("training", "import", str(path))
    assert "line 1: missing columns username, course, completed_on, evidence_reference" in capsys.readouterr().err


@pytest.mark.django_db
def test_the_gate_opens_through_the_expiry_day_and_closes_the_day_after(make_user):
    from unittest import mock

    from django.utils import timezone

    from mash.access import gate

    worker = make_user(Role.MASH_WORKER, "essex-police", trained=D(2025, 6, 15))
    tz = timezone.get_current_timezone()
    for moment, refused in ((dt.datetime(2026, 6, 15, 23, 59, tzinfo=tz), None),
                            (dt.datetime(2026, 6, 16, 0, 1, tzinfo=tz), "your training refresher lapsed on 16 June 2026")):
        with mock.patch("django.utils.timezone.now", return_value=moment):
            assert gate.refusal(worker) == refused
    never = make_user(Role.DPO, trained=False)
    assert gate.refusal(never) == "no training refresher is recorded for you"
    assert gate.refusal(make_user(Role.RECEIVING_PROFESSIONAL, trained=False)) is None


@pytest.mark.django_db
def test_a_refused_recording_keeps_the_username_only_if_it_is_an_accounts(make_user):
    """The log is append-only: a name typed where a username goes must not outlive retention in it."""
    worker = make_user(Role.MASH_WORKER, "education", trained=False)
    for typed in ("Tommy Fictional 9434765919", worker.username):
        with pytest.raises(PermissionDenied):
            services.record_completion(by=worker, username=typed, course="Refresher",
                                       completed_on="2026-01-01", evidence_reference="X")
    refs = list(AuditEvent.objects.filter(action="training.record", kind="denial").order_by("id")
                .values_list("object_ref", flat=True))
    assert refs == ["(no such user: not kept)", worker.username]
