"""Geometry of the Gantt chart, computed without Flask or a database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from web import gantt


def _scale(zoom="days"):
    # Monday 2 March 2026 to Friday 13 March, 28 px a day in the day zoom.
    return gantt.make_scale(datetime(2026, 3, 2, 8), datetime(2026, 3, 13, 17), zoom, min_width=0)


def test_scales_widen_to_whole_days_weeks_and_months():
    days = _scale("days")
    assert (days.start, days.end, days.px_per_day) == (datetime(2026, 3, 1), datetime(2026, 3, 15), 28.0)
    weeks = gantt.make_scale(datetime(2026, 3, 4, 8), datetime(2026, 3, 13, 17), "weeks", min_width=0)
    assert (weeks.start, weeks.end) == (datetime(2026, 3, 2), datetime(2026, 3, 16))  # Monday to Monday
    months = gantt.make_scale(datetime(2026, 3, 4, 8), datetime(2026, 4, 13, 17), "months", min_width=0)
    assert (months.start, months.end) == (datetime(2026, 3, 1), datetime(2026, 5, 1))
    assert gantt.make_scale(datetime(2026, 3, 4), datetime(2026, 3, 5), "bogus", min_width=0).px_per_day == 7.0


def test_bar_x_and_width_for_known_dates():
    scale = _scale()
    # Monday 08:00 is one day and a third after the scale's start (Sunday 00:00); Friday 17:00 is 5 days 9 hours on.
    bar = gantt.bar(scale, datetime(2026, 3, 2, 8), datetime(2026, 3, 6, 17))
    assert bar.x == round(28 * (1 + 8 / 24), 2) == 37.33
    assert bar.width == round(28 * (4 + 9 / 24), 2) == 122.5
    assert gantt.bar(scale, datetime(2026, 3, 2, 8), datetime(2026, 3, 2, 8)).width == gantt.MIN_BAR


def _row(**fields):
    base = dict(id=1, label="A Work", start=datetime(2026, 3, 2, 8), finish=datetime(2026, 3, 6, 17))
    return gantt.ActivityInput(**{**base, **fields})


def test_rows_critical_class_float_tail_progress_and_baseline():
    scale = _scale()
    critical = gantt.activity_row(scale, _row(critical=True, percent_complete=50), y=40, level=1)
    assert critical.css_class == "critical" and critical.float_bar is None
    assert critical.done.width == 61.25 and critical.done.x == critical.bar.x
    floating = gantt.activity_row(scale, _row(total_float_end=datetime(2026, 3, 9, 17),
                                              baseline_start=datetime(2026, 3, 3, 8),
                                              baseline_finish=datetime(2026, 3, 3, 17)), y=62, level=1)
    assert floating.css_class == "normal"
    assert floating.float_bar.x == round(floating.bar.x + floating.bar.width, 2) == 159.83
    assert floating.float_bar.width == 84.0  # three calendar days to the late finish
    assert floating.baseline.x == round(28 * (2 + 8 / 24), 2) and floating.baseline.width == round(28 * 9 / 24, 2)
    milestone = gantt.activity_row(scale, _row(milestone=True, finish=datetime(2026, 3, 2, 8)), y=84, level=0)
    assert milestone.bar is None and milestone.milestone_x == 37.33
    unscheduled = gantt.activity_row(scale, _row(start=None, finish=None), y=0, level=0)
    assert unscheduled.bar is None and unscheduled.milestone_x is None


def test_layout_places_rows_and_the_data_date_line():
    scale = _scale()
    chart = gantt.layout(scale, [("wbs", "W1 · Design", 0), ("activity", _row(), 1), ("activity", _row(id=2), 1)],
                         data_date=datetime(2026, 3, 4, 12), zoom="days")
    assert [row.y for row in chart.rows] == [40, 62, 84] and chart.height == 106
    assert [row.kind for row in chart.rows] == ["wbs", "activity", "activity"]
    assert chart.data_date_x == round(28 * (3 + 12 / 24), 2) == 98.0
    assert chart.width == 14 * 28
    assert len(chart.ticks) == 14 and chart.ticks[1].x == 28 and chart.ticks[1].label == "2"
    outside = gantt.layout(scale, [], data_date=datetime(2027, 1, 1), zoom="days")
    assert outside.data_date_x is None


def test_week_and_month_ticks():
    weeks = gantt.make_scale(datetime(2026, 3, 4), datetime(2026, 3, 20), "weeks", min_width=0)
    ticks = gantt.ticks(weeks, "weeks", month_label=str, day_label=lambda d: d.strftime("%d.%m"))
    assert [t.label for t in ticks] == ["02.03", "09.03", "16.03"] and ticks[0].x == 0 and ticks[0].major
    months = gantt.make_scale(datetime(2026, 11, 4), datetime(2027, 2, 2), "months", min_width=0)
    ticks = gantt.ticks(months, "months", month_label=lambda d: d.strftime("%m/%y"), day_label=str)
    assert [t.label for t in ticks] == ["11/26", "12/26", "01/27", "02/27"]
    assert [t.major for t in ticks] == [False, False, True, False]


def test_span_of_dates_or_a_fallback():
    first, last = gantt.span([None, datetime(2026, 3, 5), datetime(2026, 3, 1)], fallback=datetime(2026, 1, 1))
    assert (first, last) == (datetime(2026, 3, 1), datetime(2026, 3, 5))
    first, last = gantt.span([None], fallback=datetime(2026, 1, 10))
    assert first < datetime(2026, 1, 10) < last


def test_relationship_lines_join_the_right_ends():
    scale = _scale()
    rows = [("activity", _row(id=1, critical=True), 0),
            ("activity", _row(id=2, start=datetime(2026, 3, 9, 8), finish=datetime(2026, 3, 10, 17), critical=True), 0),
            ("activity", _row(id=3, milestone=True, start=datetime(2026, 3, 11, 17), finish=datetime(2026, 3, 11, 17)), 0)]
    chart = gantt.layout(scale, rows, data_date=None, zoom="days")
    a, b, m = chart.rows
    links = gantt.link_lines(chart, [(1, 2, "FS", "A → B"), (1, 2, "SS", ""), (2, 3, "FF", ""), (1, 99, "FS", "")])
    assert len(links) == 3  # the link to an activity off this page is left out
    fs, ss, ff = links
    a_end, b_start, middle = a.bar.x + a.bar.width, b.bar.x, chart.row_height / 2
    assert fs.path == f"M {a_end:g} {a.y + middle:g} H {round(a_end + 6, 2):g} V {b.y + middle:g} H {b_start:g}"
    assert fs.critical and fs.title == "A → B"
    assert ss.path.startswith(f"M {a.bar.x:g} ") and ss.path.endswith(f"H {b_start:g}")
    assert ff.path.endswith(f"H {m.milestone_x:g}") and not ff.critical


# The scale fills the chart's width in every zoom


TICK_DAYS = {"days": 1, "weeks": 7, "months": 31}


@pytest.mark.parametrize("zoom", gantt.ZOOMS)
@pytest.mark.parametrize("first, last", [(datetime(2026, 3, 4, 8), datetime(2026, 3, 6, 17)),  # three days
                                         (datetime(2026, 1, 5, 8), datetime(2026, 6, 30, 17)),  # half a year
                                         (datetime(2025, 1, 6, 8), datetime(2029, 12, 28, 17))])  # five years
def test_the_scale_and_its_grid_cover_the_whole_width_at_every_zoom(zoom, first, last):
    scale = gantt.make_scale(first, last, zoom)
    chart = gantt.layout(scale, [("activity", _row(start=first, finish=last), 0)], data_date=None, zoom=zoom)
    per_day = gantt.PIXELS_PER_DAY[zoom]
    # At least the minimum width (whatever the zoom), and never narrower than the project itself.
    assert chart.width >= gantt.MIN_WIDTH
    assert chart.width == round((scale.end - scale.start).total_seconds() / 86400 * per_day, 2)
    assert scale.start <= first and scale.end >= last
    # Ticks from the left edge to the right one: no gap wider than one tick's interval anywhere.
    xs = [0.0] + [tick.x for tick in chart.ticks] + [chart.width]
    assert max(b - a for a, b in zip(xs, xs[1:])) <= TICK_DAYS[zoom] * per_day + 0.01
    assert all(0 <= tick.x < chart.width for tick in chart.ticks)
    # Whole units: weeks run Monday to Monday, months from a first to a first.
    if zoom == "weeks":
        assert scale.start.weekday() == 0 and scale.end.weekday() == 0
    if zoom == "months":
        assert scale.start.day == 1 and scale.end.day == 1
    # A long project is not stretched: its scale ends within one unit (and the margin) of its last day.
    if (last - first).days * per_day > gantt.MIN_WIDTH:
        assert scale.end - last <= timedelta(days=TICK_DAYS[zoom] + 2)


def test_a_short_project_is_widened_by_days_on_the_right():
    scale = gantt.make_scale(datetime(2026, 3, 2, 8), datetime(2026, 3, 3, 17), "months")
    assert scale.start == datetime(2026, 3, 1)
    # 1600 px at 2.2 px a day is 728 days, rounded up to the first of a month.
    assert scale.end == datetime(2028, 3, 1)


# WBS summary bars


def _spans_by_hand(own, parent_of):
    """Each element's span over the activities of the element and everything below it, by listing descendants."""
    children = {}
    for element, parent in parent_of.items():
        children.setdefault(parent, []).append(element)

    def below(element):
        found = [element]
        for child in children.get(element, []):
            found.extend(below(child))
        return found

    result = {}
    for element in parent_of:
        dates = [own[e] for e in below(element) if e in own]
        if dates:
            result[element] = (min(s for s, _f in dates), max(f for _s, f in dates))
    return result


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_summary_spans_cover_every_activity_below(data):
    size = data.draw(st.integers(min_value=1, max_value=25))
    parent_of = {1: None}
    for element in range(2, size + 1):
        parent_of[element] = data.draw(st.one_of(st.none(), st.integers(min_value=1, max_value=element - 1)))
    own = {}
    for element in data.draw(st.sets(st.integers(min_value=1, max_value=size))):
        first = datetime(2026, 1, 1) + timedelta(hours=data.draw(st.integers(0, 5000)))
        own[element] = (first, first + timedelta(hours=data.draw(st.integers(0, 2000))))
    assert gantt.roll_up_spans(own, parent_of) == _spans_by_hand(own, parent_of)


def test_summary_bars_are_drawn_over_a_wbs_headings_span():
    scale = _scale()
    heading = gantt.WbsInput(id=7, label="W1 · Design", start=datetime(2026, 3, 2, 8), finish=datetime(2026, 3, 11, 17))
    empty = gantt.WbsInput(id=8, label="W2 · Later")
    chart = gantt.layout(scale, [("wbs", heading, 0), ("wbs", empty, 0)], data_date=None, zoom="days")
    summary = chart.rows[0].summary
    assert summary.x == round(28 * (1 + 8 / 24), 2)  # Monday 08:00, a day and a third after Sunday
    assert summary.width == round(28 * (9 + 9 / 24), 2)  # to Wednesday week 17:00
    assert chart.rows[0].element_id == 7 and chart.rows[1].summary is None


class _PlainFormats:
    """Dates and figures as plain text (the page's own come from Babel)."""

    def short(self, when):
        return "" if when is None else when.strftime("%d.%m")

    def number(self, value):
        return "" if value is None else f"{value:g}"

    def percent(self, value):
        return "" if value is None else f"{value:g} %"


def test_rows_markup_escapes_texts_and_draws_the_editing_handles_only_for_an_editor():
    from markupsafe import Markup

    from web.views.pm import gantt_rows

    scale = _scale()
    chart = gantt.layout(scale, [
        ("wbs", gantt.WbsInput(id=7, label='W<1> "Odd" & co', start=datetime(2026, 3, 2, 8),
                               finish=datetime(2026, 3, 6, 17)), 0),
        ("activity", _row(label="<b>A</b> & 'B'", code="A&1", title="<script>x</script>", percent_complete=50,
                          duration_days=5.0), 1),
        ("activity", _row(id=2, label="M", code="M", milestone=True, finish=datetime(2026, 3, 2, 8)), 1),
        ("activity", _row(id=3, label="Later", code="L", start=None, finish=None), 1),
    ], data_date=None, zoom="days")
    texts = {"id": "999", "activity_url": "/projects/5/activities/999", "bar": "Gantt bar",
             "fold_url": lambda element_id: f"/projects/5/gantt?zoom=days&fold={element_id}",
             "show": Markup("Show %(label)s"), "hide": Markup("Hide %(label)s")}
    labels = gantt_rows.labels(chart, fmt=_PlainFormats(), texts=texts)
    assert isinstance(labels, Markup)
    assert "&lt;b&gt;A&lt;/b&gt; &amp; &#39;B&#39;" in labels and "<b>" not in labels
    assert 'title="Hide W&lt;1&gt; &#34;Odd&#34; &amp; co"' in labels
    assert 'href="/projects/5/gantt?zoom=days&amp;fold=7"' in labels
    assert 'href="/projects/5/activities/1"' in labels and 'data-col="percent">50 %<' in labels
    editor = gantt_rows.shapes(chart, fmt=_PlainFormats(), texts=texts, can_edit=True, show_baseline=True)
    reader = gantt_rows.shapes(chart, fmt=_PlainFormats(), texts=texts, can_edit=False, show_baseline=True)
    for markup in (editor, reader):
        assert "<script>" not in markup and "&lt;script&gt;" in markup and 'data-code="A&amp;1"' in markup
        assert markup.count('tabindex="0"') == 2  # the bar and the milestone; the undated row takes no focus
        assert 'data-days="5"' in markup and "data-milestone" in markup and markup.count('class="pm-focus"') == 2
    assert editor.count('class="pm-resize"') == 1 and editor.count('class="pm-link-handle"') == 4
    assert "pm-resize" not in reader and "pm-link-handle" not in reader
