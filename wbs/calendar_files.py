"""Production calendars read from files: the days off and the shortened days to add to a work calendar.

Two formats:

- iCalendar (RFC 5545, ``.ics``), read with the ``icalendar`` library: an all-day event (``DTSTART;VALUE=DATE``)
  makes every day from its start up to its end (exclusive, as RFC 5545 says; one day without DTEND) a day off;
  an event with times (a shortened pre-holiday day, ``08:00–15:00``) makes its day a working day of that span,
  cut by the breaks of the calendar's usual day.
- CSV of ``date, hours`` (``2026-01-01,0`` or ``31.12.2026;7``), as the Russian production calendar is
  published: 0 hours is a day off; other hours a working day that long, the usual day's periods cut to them.
  A first line that is not a date (a header) is skipped.

The result maps days to periods ([start, end] minutes after midnight), what ``wbs.services`` takes as
exceptions. Errors are :class:`crmpm.errors.Invalid` naming the line or event.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

from crmpm.errors import Invalid

MAX_DAYS = 3660  # ten years of days in one file
STANDARD_DAY = [[480, 720], [780, 1020]]  # 08:00–12:00, 13:00–17:00 when the calendar has no usual day to cut


def usual_day(week: list, day: date) -> list[list[int]]:
    """The periods ``day`` would have by the weekly pattern; for a day off (a working Saturday), the first working
    weekday's."""
    periods = week[day.weekday()] if week else []
    if not periods:
        periods = next((p for p in week if p), STANDARD_DAY) if week else STANDARD_DAY
    return [list(p) for p in periods]


def cut(periods: list[list[int]], minutes: int) -> list[list[int]]:
    """The first ``minutes`` of work in ``periods``; past their end, the last period runs on (to midnight at most)."""
    result, left = [], minutes
    for start, end in periods:
        if left <= 0:
            break
        take = min(end - start, left)
        result.append([start, start + take])
        left -= take
    if left > 0:
        if result:
            result[-1][1] = min(result[-1][1] + left, 1440)
        else:
            result.append([480, min(480 + left, 1440)])
    return result


def _within(periods: list[list[int]], start: int, end: int) -> list[list[int]]:
    """``periods`` cut to the span ``start``–``end`` (breaks stay breaks); the span itself when none overlap."""
    result = [[max(s, start), min(e, end)] for s, e in periods if min(e, end) > max(s, start)]
    return result or [[start, end]]


def read_ics(data: bytes, week: list) -> dict[date, list]:
    """Days off and shortened days from an iCalendar file."""
    import icalendar  # imported here: only this import needs it

    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise Invalid("the file is not an iCalendar file: {reason}", reason=str(exc)[:200],
                      errors={"file": ["not iCalendar"]}) from None
    days: dict[date, list] = {}
    for number, event in enumerate(calendar.walk("VEVENT"), start=1):
        summary = str(event.get("SUMMARY", "")) or str(number)
        start = event.decoded("DTSTART", None)
        if start is None:
            raise Invalid("event {event!r} has no start", event=summary, errors={"file": ["DTSTART"]})
        end = event.decoded("DTEND", None)
        if isinstance(start, datetime):
            if not isinstance(end, datetime) or end.date() != start.date() or end <= start:
                raise Invalid("event {event!r} must end later on the day it starts", event=summary,
                              errors={"file": ["DTEND"]})
            begin, finish = start.hour * 60 + start.minute, end.hour * 60 + end.minute
            days[start.date()] = _within(usual_day(week, start.date()), begin, finish)
            continue
        last = (end - timedelta(days=1)) if isinstance(end, date) else start
        if last < start:
            raise Invalid("event {event!r} ends before it starts", event=summary, errors={"file": ["DTEND"]})
        day = start
        while day <= last:
            days[day] = []
            day += timedelta(days=1)
        if len(days) > MAX_DAYS:
            raise Invalid("the file has more than {count} days", count=MAX_DAYS, errors={"file": ["too many days"]})
    return days


def _date(text: str) -> date | None:
    text = text.strip()
    for form in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def read_csv(data: bytes, week: list) -> dict[date, list]:
    """Days off and shortened days from ``date, hours`` lines."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1251")
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    days: dict[date, list] = {}
    for line_number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        if not row or not "".join(row).strip():
            continue
        day = _date(row[0])
        if day is None:
            if line_number == 1:
                continue  # a header
            raise Invalid("line {line}: {value!r} is not a date", line=line_number, value=row[0][:40],
                          errors={"file": [f"line {line_number}"]})
        hours_text = (row[1] if len(row) > 1 else "").strip().replace(",", ".") or "0"
        try:
            hours = float(hours_text)
        except ValueError:
            hours = -1.0
        if not 0 <= hours <= 24:
            raise Invalid("line {line}: hours must be a number from 0 to 24", line=line_number,
                          errors={"file": [f"line {line_number}"]})
        days[day] = [] if hours == 0 else cut(usual_day(week, day), round(hours * 60))
        if len(days) > MAX_DAYS:
            raise Invalid("the file has more than {count} days", count=MAX_DAYS, errors={"file": ["too many days"]})
    return days


def read_days(data: bytes, filename: str, week: list) -> dict[date, list]:
    """The days of a production calendar file, by its name's extension (or its first line)."""
    name = (filename or "").lower()
    if name.endswith((".ics", ".ical", ".ifb")) or data.lstrip().startswith(b"BEGIN:VCALENDAR"):
        days = read_ics(data, week)
    elif name.endswith((".csv", ".txt")):
        days = read_csv(data, week)
    else:
        raise Invalid("choose an iCalendar (.ics) or CSV (.csv) file", errors={"file": ["format"]})
    if not days:
        raise Invalid("the file has no days in it", errors={"file": ["empty"]})
    return days
