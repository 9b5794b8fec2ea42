"""Geometry of the Gantt chart: where each bar, diamond, float tail, tick and the data date line go.

Pure functions over plain values (no Flask, no database); the template draws what they return.
The time scale spans the whole project, so every window of rows of a big project lines up with the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

ZOOMS = ("days", "weeks", "months")
PIXELS_PER_DAY = {"days": 28.0, "weeks": 7.0, "months": 2.2}
ROW_HEIGHT = 22
HEADER_HEIGHT = 40
LABEL_WIDTH = 0  # labels are in the table beside the chart
MIN_BAR = 2.0
# The scale reaches at least this wide in every zoom, so its ticks and grid fill the chart's box on any screen
# (a short project in months would otherwise end in a strip of blank space).
MIN_WIDTH = 1600.0


@dataclass(frozen=True)
class Scale:
    """Maps a date and time to an x coordinate: ``start`` at 0, ``px_per_day`` pixels per calendar day."""

    start: datetime
    end: datetime
    px_per_day: float

    def x(self, when: datetime) -> float:
        return round((when - self.start).total_seconds() / 86400 * self.px_per_day, 2)

    @property
    def width(self) -> float:
        return self.x(self.end)


def make_scale(first: datetime, last: datetime, zoom: str, *, min_width: float = MIN_WIDTH) -> Scale:
    """A scale from ``first`` to ``last``, widened to whole weeks or months and a little margin, and on to the
    right until it is at least ``min_width`` pixels wide."""
    zoom = zoom if zoom in ZOOMS else "weeks"
    start = datetime.combine(first.date(), time())
    end = datetime.combine(last.date(), time()) + timedelta(days=1)
    end = max(end, start + timedelta(days=math.ceil(min_width / PIXELS_PER_DAY[zoom])))
    if zoom == "months":
        start = start.replace(day=1)
        end = _next_month(end) if end.day != 1 else end
    elif zoom == "weeks":
        start -= timedelta(days=start.weekday())
        end += timedelta(days=(7 - end.weekday()) % 7)
    else:
        start -= timedelta(days=1)
        end += timedelta(days=1)
    return Scale(start=start, end=end, px_per_day=PIXELS_PER_DAY[zoom])


def _next_month(when: datetime) -> datetime:
    return (when.replace(day=1) + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class Tick:
    x: float
    label: str
    major: bool = False


def ticks(scale: Scale, zoom: str, *, month_label, day_label) -> list[Tick]:
    """Grid lines with labels: days (months major), Mondays (months major) or months (years major)."""
    result = []
    if zoom == "months":
        current = scale.start.replace(day=1)
        while current < scale.end:
            if current >= scale.start:
                result.append(Tick(scale.x(current), month_label(current), major=current.month == 1))
            current = _next_month(current)
    elif zoom == "weeks":
        current = scale.start + timedelta(days=(7 - scale.start.weekday()) % 7)
        while current < scale.end:
            result.append(Tick(scale.x(current), day_label(current), major=current.day <= 7))
            current += timedelta(days=7)
    else:
        current = scale.start
        while current < scale.end:
            result.append(Tick(scale.x(current), str(current.day), major=current.day == 1))
            current += timedelta(days=1)
    return result


@dataclass(frozen=True)
class Bar:
    x: float
    width: float


@dataclass(frozen=True)
class RowShape:
    """One row of the chart: a WBS heading or an activity with its shapes."""

    y: float
    kind: str  # "wbs" or "activity"
    label: str
    level: int = 0
    bar: Bar | None = None
    done: Bar | None = None  # the part already complete
    float_bar: Bar | None = None
    baseline: Bar | None = None
    other_baselines: tuple = ()  # the bars (or None) of the other baselines shown, in the order shown
    milestone_x: float | None = None
    critical: bool = False
    title: str = ""
    activity_id: int | None = None
    element_id: int | None = None  # a WBS heading's element
    start: datetime | None = None  # the dates the columns beside the chart show
    finish: datetime | None = None
    total_float_days: float | None = None
    percent_complete: float | None = None
    code: str = ""
    duration_days: float | None = None
    summary: Bar | None = None  # a WBS heading's span over all its activities
    folded: bool = False  # a WBS heading whose rows are hidden

    @property
    def css_class(self) -> str:
        return "critical" if self.critical else "normal"


@dataclass(frozen=True)
class ActivityInput:
    """What the chart needs of one activity (dates already chosen: actual or early)."""

    id: int
    label: str
    start: datetime | None
    finish: datetime | None
    milestone: bool = False
    critical: bool = False
    percent_complete: float = 0.0
    total_float_end: datetime | None = None  # where the float tail ends (late finish)
    baseline_start: datetime | None = None
    baseline_finish: datetime | None = None
    other_baselines: tuple = ()  # (start, finish) kept by each other baseline shown (secondary, tertiary)
    title: str = ""
    code: str = ""
    total_float_days: float | None = None
    duration_days: float | None = None  # original duration in days of the activity's calendar


@dataclass(frozen=True)
class WbsInput:
    """What the chart needs of one WBS heading: its label and the span of all its activities (None: no dates)."""

    id: int
    label: str
    start: datetime | None = None
    finish: datetime | None = None
    folded: bool = False


@dataclass(frozen=True)
class Link:
    """A relationship line: an elbow from the predecessor's end to the successor's, as an SVG path."""

    path: str
    critical: bool
    title: str


@dataclass
class Chart:
    scale: Scale
    rows: list[RowShape] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    data_date_x: float | None = None
    width: float = 0
    height: float = 0
    row_height: int = ROW_HEIGHT
    header_height: int = HEADER_HEIGHT
    links: list[Link] = field(default_factory=list)


def bar(scale: Scale, start: datetime, finish: datetime) -> Bar:
    """The bar from ``start`` to ``finish``, at least ``MIN_BAR`` wide so a short activity stays visible."""
    x = scale.x(start)
    return Bar(x=x, width=max(round(scale.x(finish) - x, 2), MIN_BAR))


def activity_row(scale: Scale, item: ActivityInput, y: float, level: int) -> RowShape:
    """The shapes of one activity's row."""
    shape = dict(y=y, kind="activity", label=item.label, level=level, critical=item.critical, title=item.title,
                 activity_id=item.id, code=item.code, start=item.start, finish=item.finish,
                 total_float_days=item.total_float_days, percent_complete=item.percent_complete,
                 duration_days=item.duration_days)
    if item.start is None or item.finish is None:
        return RowShape(**shape)
    if item.milestone:
        shape["milestone_x"] = scale.x(item.start if item.finish is None else item.finish)
    else:
        main = bar(scale, item.start, item.finish)
        shape["bar"] = main
        if item.percent_complete > 0:
            shape["done"] = Bar(x=main.x, width=round(main.width * min(item.percent_complete, 100) / 100, 2))
    if item.total_float_end is not None and item.total_float_end > item.finish:
        end_x = scale.x(item.finish)
        shape["float_bar"] = Bar(x=end_x, width=round(scale.x(item.total_float_end) - end_x, 2))
    if item.baseline_start is not None and item.baseline_finish is not None:
        shape["baseline"] = bar(scale, item.baseline_start, item.baseline_finish)
    shape["other_baselines"] = tuple(bar(scale, start, finish) if start is not None and finish is not None else None
                                     for start, finish in item.other_baselines)
    return RowShape(**shape)


def layout(scale: Scale, rows: list[tuple[str, object, int]], *, data_date: datetime | None, zoom: str,
           month_label=lambda d: d.strftime("%b %Y"), day_label=lambda d: d.strftime("%d.%m")) -> Chart:
    """The chart of ``rows``: ("wbs", WbsInput or label, level) headings and ("activity", ActivityInput, level) rows,
    in order; a heading with a span gets a summary bar over it."""
    chart = Chart(scale=scale)
    y = HEADER_HEIGHT
    for kind, item, level in rows:
        if kind == "wbs":
            item = item if isinstance(item, WbsInput) else WbsInput(id=0, label=str(item))
            summary = bar(scale, item.start, item.finish) if item.start and item.finish else None
            chart.rows.append(RowShape(y=y, kind="wbs", label=item.label, level=level, element_id=item.id or None,
                                       summary=summary, start=item.start, finish=item.finish, folded=item.folded))
        else:
            chart.rows.append(activity_row(scale, item, y, level))
        y += ROW_HEIGHT
    chart.ticks = ticks(scale, zoom, month_label=month_label, day_label=day_label)
    if data_date is not None and scale.start <= data_date <= scale.end:
        chart.data_date_x = scale.x(data_date)
    chart.width = scale.width
    chart.height = y
    return chart


def roll_up_spans(own: dict[int, tuple[datetime | None, datetime | None]],
                  parent_of: dict[int, int | None]) -> dict[int, tuple[datetime, datetime]]:
    """Each WBS element's span over its own activities and those of every element below it: the earliest start
    and the latest finish. ``own`` holds each element's span over its own activities, ``parent_of`` the tree."""
    spans: dict[int, list] = {}
    for element_id, (first, last) in own.items():
        seen = set()
        current = element_id
        while current is not None and current not in seen:  # up to the root (a broken loop stops)
            seen.add(current)
            span_ = spans.setdefault(current, [None, None])
            if first is not None and (span_[0] is None or first < span_[0]):
                span_[0] = first
            if last is not None and (span_[1] is None or last > span_[1]):
                span_[1] = last
            current = parent_of.get(current)
    return {key: (first, last) for key, (first, last) in spans.items() if first is not None and last is not None}


def span(dates: list[datetime | None], fallback: datetime | date) -> tuple[datetime, datetime]:
    """The first and last of ``dates`` (ignoring None); ``fallback`` ± a month when there are none."""
    present = [d for d in dates if d is not None]
    if not present:
        base = fallback if isinstance(fallback, datetime) else datetime.combine(fallback, time())
        return base - timedelta(days=7), base + timedelta(days=30)
    return min(present), max(present)


def _ends(row: RowShape) -> tuple[float, float] | None:
    """Where a row's activity starts and finishes on the x axis (None when it has no dates)."""
    if row.bar is not None:
        return row.bar.x, row.bar.x + row.bar.width
    if row.milestone_x is not None:
        return row.milestone_x, row.milestone_x
    return None


def link_lines(chart: Chart, links: list[tuple[int, int, str, str]]) -> list[Link]:
    """Lines for (predecessor id, successor id, type, title) whose two activities are both in ``chart``.

    FS runs from the predecessor's finish to the successor's start, SS start to start, FF finish
    to finish, SF start to finish; the line leaves to the right, drops to the successor's row and
    ends in the successor's bar.
    """
    rows = {row.activity_id: row for row in chart.rows if row.kind == "activity"}
    middle = chart.row_height / 2
    lines = []
    for predecessor, successor, kind, title in links:
        before, after = rows.get(predecessor), rows.get(successor)
        if before is None or after is None or _ends(before) is None or _ends(after) is None:
            continue
        (from_start, from_finish), (to_start, to_finish) = _ends(before), _ends(after)
        x1 = from_start if kind in ("SS", "SF") else from_finish
        x2 = to_finish if kind in ("FF", "SF") else to_start
        y1, y2 = before.y + middle, after.y + middle
        elbow = round(x1 + 6 if kind in ("FS", "FF") else x1 - 6, 2)
        path = f"M {x1:g} {y1:g} H {elbow:g} V {y2:g} H {x2:g}"
        lines.append(Link(path=path, critical=before.critical and after.critical, title=title))
    return lines
