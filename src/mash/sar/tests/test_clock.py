"""The statutory clock: one calendar month (the last day of a shorter month), extensions of up to two
further months, and pauses while identity or clarification is awaited."""

import datetime as dt

import pytest

from mash.sar.clock import Clock, deadline

D = dt.date


@pytest.mark.parametrize("received, due", [
    (D(2026, 3, 15), D(2026, 4, 15)),
    (D(2026, 1, 31), D(2026, 2, 28)),   # no 31 February: the last day of February
    (D(2028, 1, 31), D(2028, 2, 29)),   # a leap year
    (D(2028, 1, 30), D(2028, 2, 29)),
    (D(2027, 1, 29), D(2027, 2, 28)),
    (D(2028, 2, 29), D(2028, 3, 29)),   # received on a leap day
    (D(2026, 3, 31), D(2026, 4, 30)),
    (D(2026, 12, 31), D(2027, 1, 31)),  # over the year end
    (D(2026, 2, 28), D(2026, 3, 28)),
])
def test_one_calendar_month(received, due):
    assert deadline(received) == due


@pytest.mark.parametrize("received, months, due", [
    (D(2026, 1, 31), 2, D(2026, 4, 30)),   # counted from receipt: 31 January + 3 months
    (D(2026, 1, 31), 1, D(2026, 3, 31)),
    (D(2026, 11, 30), 2, D(2027, 2, 28)),
    (D(2027, 11, 30), 2, D(2028, 2, 29)),
    (D(2026, 5, 10), 2, D(2026, 8, 10)),
])
def test_extensions(received, months, due):
    assert deadline(received, extension_months=months) == due


def test_an_extension_is_at_most_two_months():
    with pytest.raises(ValueError):
        deadline(D(2026, 1, 1), extension_months=3)


def test_pauses_move_the_deadline_by_the_days_stopped():
    received = D(2026, 1, 31)
    clock = Clock(received, 0, ((D(2026, 2, 2), D(2026, 2, 9)),), today=D(2026, 2, 20))
    assert clock.paused_days == 7 and clock.deadline == D(2026, 3, 7) and not clock.paused
    # Two pauses add up; a pause ended the day it began stops nothing.
    clock = Clock(received, 0, ((D(2026, 2, 2), D(2026, 2, 4)), (D(2026, 2, 10), D(2026, 2, 10)),
                                (D(2026, 2, 12), D(2026, 2, 15))), today=D(2026, 3, 1))
    assert clock.paused_days == 5 and clock.deadline == D(2026, 3, 5)
    # With an extension too.
    clock = Clock(received, 2, ((D(2026, 2, 2), D(2026, 2, 9)),), today=D(2026, 2, 20))
    assert clock.deadline == D(2026, 5, 7)


def test_identity_awaited_from_the_day_of_receipt():
    """Proof of identity asked for on receipt and arriving 10 days later: the month runs from then."""
    clock = Clock(D(2026, 3, 1), 0, ((D(2026, 3, 1), D(2026, 3, 11)),), today=D(2026, 3, 20))
    assert clock.deadline == D(2026, 4, 11)


def test_an_open_pause_counts_to_today_and_is_never_overdue():
    clock = Clock(D(2026, 1, 5), 0, ((D(2026, 1, 10), None),), today=D(2026, 3, 1))
    assert clock.paused and clock.paused_days == 50
    assert clock.deadline == D(2026, 3, 27) and not clock.overdue


def test_overdue_and_days_remaining():
    running = Clock(D(2026, 1, 5), 0, (), today=D(2026, 2, 5))
    assert running.days_remaining == 0 and not running.overdue       # due today
    late = Clock(D(2026, 1, 5), 0, (), today=D(2026, 2, 8))
    assert late.overdue and late.days_overdue == 3
    answered_late = Clock(D(2026, 1, 5), 0, (), today=D(2026, 3, 1), responded_on=D(2026, 2, 6))
    assert answered_late.overdue and answered_late.days_overdue == 1
    answered = Clock(D(2026, 1, 5), 0, (), today=D(2026, 3, 1), responded_on=D(2026, 2, 5))
    assert not answered.overdue
