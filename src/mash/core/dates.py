"""Calendar arithmetic the MASH's rules share (training expiry, subject access deadlines)."""

import calendar
import datetime as dt


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later; the last day of the month where that month is shorter
    (31 January + 1 month = 28 February, or 29 in a leap year)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def long_date(day: dt.date) -> str:
    """4 May 2016 (`%-d` is not portable)."""
    return f"{day.day} {day:%B %Y}"
