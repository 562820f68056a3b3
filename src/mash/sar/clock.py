"""The statutory clock of a subject access request (ICO guidance on the time limits).

- One calendar month from the day of receipt, to the corresponding day of the next month; where that
  month has no such day, its last day (received 31 January: 28 February, or 29 in a leap year).
- Extended by up to two further months for a complex request, with a recorded reason: counted the
  same way from the day of receipt (31 January + 3 months = 30 April).
- Paused while proof of identity or clarification is awaited: each day the clock was stopped moves
  the deadline a day later. While a pause is open the deadline is not yet fixed; it is shown as if the
  clock restarted today.

The ICO lets a deadline that falls on a weekend or bank holiday run to the next working day; MASH
Hub keeps the calendar date, the earlier and safer of the two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mash.core.dates import add_months

MAX_EXTENSION_MONTHS = 2


def deadline(received_on: dt.date, extension_months: int = 0, paused_days: int = 0) -> dt.date:
    if not 0 <= extension_months <= MAX_EXTENSION_MONTHS:
        raise ValueError(f"an extension is 0 to {MAX_EXTENSION_MONTHS} months")
    return add_months(received_on, 1 + extension_months) + dt.timedelta(days=paused_days)


@dataclass(frozen=True)
class Clock:
    received_on: dt.date
    extension_months: int
    pauses: tuple[tuple[dt.date, dt.date | None], ...]  # (started_on, ended_on or None while open)
    today: dt.date
    responded_on: dt.date | None = None

    @property
    def paused(self) -> bool:
        return any(end is None for _, end in self.pauses)

    @property
    def paused_days(self) -> int:
        """Days the clock has stopped; an open pause counts up to today."""
        return sum(((end or max(self.today, start)) - start).days for start, end in self.pauses)

    @property
    def deadline(self) -> dt.date:
        return deadline(self.received_on, self.extension_months, self.paused_days)

    @property
    def days_remaining(self) -> int:
        return (self.deadline - (self.responded_on or self.today)).days

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_remaining)

    @property
    def overdue(self) -> bool:
        """Past the deadline without a response (a paused clock is never overdue)."""
        if self.responded_on is not None:
            return self.responded_on > self.deadline
        return not self.paused and self.today > self.deadline
