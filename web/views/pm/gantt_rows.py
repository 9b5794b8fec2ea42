"""The Gantt chart's rows written out: the label column and the SVG shapes, 200 rows a page.

In Jinja each of the two dozen values of a row went through a lookup, a call and an escape, which made the
rows most of the page's rendering time; written with f-strings, only the texts escaped (numbers cannot hold
markup), the same markup costs a fraction of it. ``_gantt_chart.html`` draws everything else and says where
these go; the shapes are the geometry of ``web/gantt.py``, the texts come from the view (translated once).
"""

from __future__ import annotations

from markupsafe import Markup, escape

from web.gantt import Chart, RowShape

__all__ = ["labels", "shapes"]


def labels(chart: Chart, *, fmt, texts: dict) -> Markup:
    """The column beside the chart: a WBS heading (with its fold link) or an activity's name, dates, float, %."""
    parts = []
    add = parts.append
    for row in chart.rows:
        add("\n      ")
        if row.kind == "wbs":
            add(f'<div class="pm-gantt-label pm-wbs-label pm-gantt-cols" style="--level: {row.level}">'
                f'<span class="pm-col-name">')
            if row.element_id:
                text = (texts["show"] if row.folded else texts["hide"]) % {"label": row.label}
                add(f'<a class="pm-fold" href="{escape(texts["fold_url"](row.element_id))}" aria-expanded="'
                    f'{"false" if row.folded else "true"}" title="{text}" aria-label="{text}">'
                    f'<span aria-hidden="true">{"▸" if row.folded else "▾"}</span></a> ')
            add(f'{escape(row.label)}</span><span class="pm-col-date">{escape(fmt.short(row.start))}</span>'
                f'<span class="pm-col-date">{escape(fmt.short(row.finish))}</span><span class="pm-col-num"></span>'
                f'<span class="pm-col-num"></span></div>\n      ')
        else:
            url = texts["activity_url"].replace(texts["id"], str(row.activity_id))
            add(f'<div class="pm-gantt-label pm-gantt-cols {row.css_class}" style="--level: {row.level}" '
                f'data-activity="{row.activity_id}"><span class="pm-col-name"><a href="{escape(url)}">'
                f'{escape(row.label)}</a></span><span class="pm-col-date" data-col="start">'
                f'{escape(fmt.short(row.start))}</span><span class="pm-col-date" data-col="finish">'
                f'{escape(fmt.short(row.finish))}</span><span class="pm-col-num" data-col="float">'
                f'{escape(fmt.number(row.total_float_days))}</span><span class="pm-col-num" data-col="percent">'
                f'{escape(fmt.percent(row.percent_complete))}</span></div>')
        add("\n    ")
    return Markup("".join(parts))


def shapes(chart: Chart, *, fmt, texts: dict, can_edit: bool, show_baseline: bool) -> Markup:
    """Each row's shapes: a heading's band and summary bar; an activity's bar (or diamond), float tail, progress,
    baselines, and for an editor its resize edge and link handles; a bar with dates can take the focus."""
    parts = []
    add = parts.append
    width, height = chart.width, chart.row_height
    for row in chart.rows:
        add("\n        ")
        if row.kind == "wbs":
            add(f'\n        <g class="pm-wbs-row" data-element="{row.element_id or ""}">\n'
                f'          <rect class="pm-wbs-band" x="0" y="{row.y}" width="{width}" height="{height}"></rect>'
                f'\n          ')
            if row.summary:
                add(f'<path class="pm-summary" d="M {row.summary.x} {row.y + 5} h {row.summary.width} v 9 l -4 -4 '
                    f'H {row.summary.x + 4} l -4 4 z"><title>{escape(row.label)}: {escape(fmt.short(row.start))}'
                    f' – {escape(fmt.short(row.finish))}</title></path>')
            add("\n        </g>\n        ")
        else:
            add(_activity(row, texts, width, height, can_edit, show_baseline))
        add("\n      ")
    return Markup("".join(parts))


def _activity(row: RowShape, texts: dict, width: float, height: int, can_edit: bool, show_baseline: bool) -> str:
    bar, y, css = row.bar, row.y, row.css_class
    milestone = row.milestone_x is not None
    dated = bool(bar) or milestone
    parts = [f'\n        <g class="pm-row {css}" data-activity="{row.activity_id}" data-code="{escape(row.code)}"']
    add = parts.append
    if dated:
        add(f' tabindex="0" role="button" aria-roledescription="{escape(texts["bar"])}" aria-describedby="pm-gantt-help" '
            f'data-start="{row.start.strftime("%Y-%m-%dT%H:%M")}" data-finish="{row.finish.strftime("%Y-%m-%dT%H:%M")}"')
    if milestone:
        add(" data-milestone")
    days = "%g" % row.duration_days if row.duration_days is not None else ""
    add(f' data-days="{days}">\n          <title>{escape(row.title)}</title>'
        f'<rect class="pm-hit" x="0" y="{y}" width="{width}" height="{height}"></rect>')
    if show_baseline:
        # With the secondary (and tertiary) baselines shown, each bar is thinner, one under the other (P6's three
        # baseline bars); ``pm-bl2``/``pm-bl3`` colour them as the legend does.
        others = row.other_baselines
        if row.baseline:
            add(f'<rect class="baseline" x="{row.baseline.x}" y="{y + 15}" width="{row.baseline.width}" '
                f'height="{3 if others else 4}"></rect>')
        for place, other in enumerate(others):
            if other:
                add(f'<rect class="pm-bl{place + 2}" x="{other.x}" y="{y + 18 + 2 * place}" width="{other.width}" '
                    f'height="2"></rect>')
    if row.float_bar:
        add(f'<rect class="float" x="{row.float_bar.x}" y="{y + 9}" width="{row.float_bar.width}" height="3"></rect>')
    if bar:
        add(f'<rect class="bar {css}" x="{bar.x}" y="{y + 4}" width="{bar.width}" height="11" rx="2"></rect>')
    if row.done:
        add(f'<rect class="done" x="{row.done.x}" y="{y + 8}" width="{row.done.width}" height="3"></rect>')
    if milestone:
        add(f'<path class="milestone {css}" d="M {row.milestone_x} {y + 3} l 6 6.5 l -6 6.5 l -6 -6.5 z"></path>')
    if can_edit and dated:
        x1 = bar.x if bar else row.milestone_x - 6
        x2 = bar.x + bar.width if bar else row.milestone_x + 6
        if bar:
            add(f'<rect class="pm-resize" x="{x2 - 5}" y="{y + 2}" width="8" height="15"></rect>')
        add(f'<circle class="pm-link-handle" data-end="start" cx="{x1 - 6}" cy="{y + 9.5}" r="4"></circle>'
            f'<circle class="pm-link-handle" data-end="finish" cx="{x2 + 8}" cy="{y + 9.5}" r="4"></circle>')
    if dated:
        add(f'<rect class="pm-focus" x="{(bar.x if bar else row.milestone_x - 7) - 3}" y="{y + 1}" '
            f'width="{(bar.width if bar else 14) + 6}" height="{height - 2}" rx="3"></rect>')
    add("\n        </g>\n        ")
    return "".join(parts)
