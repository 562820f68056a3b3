"""Reminders 30, 14 and 7 days before a refresher expires: each once, the nearest one only, by email."""

import datetime as dt
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command

from mash.accounts.models import Role
from mash.training import services
from mash.training.models import TrainingReminder

COMPLETED = dt.date(2025, 12, 10)
EXPIRY = dt.date(2026, 12, 10)


def day(days_left: int) -> dt.date:
    return EXPIRY - dt.timedelta(days=days_left)


@pytest.fixture
def worker(make_user):
    return make_user(Role.MASH_WORKER, "essex-police", username="reminded-worker", email="worker@example.test",
                     trained=COMPLETED)


def sent(today) -> list[tuple[str, int]]:
    run = services.send_reminders(today=today)
    return [(d.user.username, d.days_before) for d in run.sent]


@pytest.mark.django_db
def test_each_threshold_is_sent_once(worker):
    assert sent(day(31)) == []
    assert sent(day(30)) == [("reminded-worker", 30)]
    assert sent(day(30)) == []                          # the same day again
    assert sent(day(20)) == []                          # still the 30-day reminder: already sent
    assert sent(day(14)) == [("reminded-worker", 14)]
    assert sent(day(8)) == []
    assert sent(day(7)) == [("reminded-worker", 7)]
    assert sent(day(0)) == []                           # the last reminder went at 7 days
    assert sent(day(-1)) == []                          # lapsed: the gate and the banner say so
    assert len(mail.outbox) == 3
    assert TrainingReminder.objects.filter(user=worker, expires_on=EXPIRY).count() == 3


@pytest.mark.django_db
def test_a_missed_run_sends_the_nearest_reminder_only(worker):
    """The job did not run for weeks: with 10 days left only the 14-day reminder goes, not the 30-day one."""
    assert sent(day(10)) == [("reminded-worker", 14)]
    assert sent(day(9)) == []
    assert sent(day(3)) == [("reminded-worker", 7)]


@pytest.mark.django_db
def test_the_email_says_when_and_what_to_do(worker, settings):
    settings.MASH_SITE_URL = "https://mash.example.test"
    sent(day(14))
    message = mail.outbox[0]
    assert message.to == ["worker@example.test"]
    assert message.subject == "Your MASH training refresher expires on 10 December 2026"
    assert "expires in 14 days, on 10 December 2026" in message.body
    assert "https://mash.example.test/training/" in message.body
    assert "MASH manager" in message.body


@pytest.mark.django_db
def test_a_renewed_refresher_is_reminded_again_for_its_new_expiry(worker, manager):
    sent(day(7))
    services.record_completion(by=manager, username=worker.username, course="Refresher",
                               completed_on="2026-11-20", evidence_reference="CERT-NEW")
    new_expiry = dt.date(2027, 11, 20)
    assert sent(new_expiry - dt.timedelta(days=30)) == [("reminded-worker", 30)]
    assert set(TrainingReminder.objects.values_list("expires_on", flat=True)) == {EXPIRY, new_expiry}


@pytest.mark.django_db
def test_who_is_not_reminded(make_user):
    """No email address (reported), and roles that need no refresher."""
    make_user(Role.MASH_WORKER, "education", username="no-email", trained=COMPLETED)
    make_user(Role.SYSADMIN, username="admin-x", email="admin@example.test")
    run = services.send_reminders(today=day(5))
    assert run.sent == [] and [d.user.username for d in run.no_email] == ["no-email"]
    assert mail.outbox == [] and not TrainingReminder.objects.exists()


@pytest.mark.django_db
def test_a_dry_run_sends_and_keeps_nothing(worker):
    run = services.send_reminders(today=day(14), dry_run=True)
    assert [d.days_before for d in run.sent] == [14]
    assert mail.outbox == [] and not TrainingReminder.objects.exists()


@pytest.mark.django_db
def test_an_email_that_cannot_be_sent_is_tried_again(worker):
    with mock.patch("mash.training.services.send_mail", side_effect=ConnectionRefusedError("no server")):
        run = services.send_reminders(today=day(14))
    assert run.sent == [] and len(run.failed) == 1
    assert not TrainingReminder.objects.exists()
    assert sent(day(13)) == [("reminded-worker", 14)]


@pytest.mark.django_db
def test_the_thresholds_are_configurable(worker, settings):
    settings.MASH_TRAINING_REMINDER_DAYS = (3,)
    assert sent(day(7)) == []
    assert sent(day(3)) == [("reminded-worker", 3)]


@pytest.mark.django_db
def test_the_command(worker, capsys):
    call_command("training", "remind", "--today", str(day(30)), "--dry-run")
    out = capsys.readouterr().out
    assert "would remind reminded-worker <worker@example.test>: expires 2026-12-10 (30 days left" in out
    assert mail.outbox == []
    call_command("training", "remind", "--today", str(day(30)))
    assert "1 reminder(s) sent" in capsys.readouterr().out
    assert len(mail.outbox) == 1
