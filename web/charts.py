"""SVG charts drawn on the server: pure functions from numbers to shapes, rendered by ``macros/charts.html``.

The geometry is computed here (testable without a browser); the templates
only place the shapes, so a chart is readable without JavaScript and prints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["Bar", "BarChart", "Funnel", "FunnelStep", "HeatMap", "LineChart", "Series", "bar_chart", "funnel",
           "heat_map", "line_chart", "nice_ceiling", "stacked_bar"]


@dataclass(frozen=True)
class Series:
    """One set of values across the categories, drawn in one CSS class (its colour)."""

    name: str
    values: Sequence[Decimal | float | int]
    css_class: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css_class: str
    value: Decimal | float | int
    title: str = ""


@dataclass
class BarChart:
    """Shapes of a grouped bar chart in a ``width`` × ``height`` view box."""

    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    labels: list[tuple[float, str]] = field(default_factory=list)  # x of the group centre, text
    ticks: list[tuple[float, Decimal]] = field(default_factory=list)  # y, value
    series: list[Series] = field(default_factory=list)
    plot_left: float = 0
    plot_bottom: float = 0
    plot_right: float = 0


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above ``value`` (axis maximum).

    >>> nice_ceiling(7_300_000)
    10000000.0
    >>> nice_ceiling(1_200_000)
    2000000.0
    """
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def bar_chart(labels: Sequence[str], series: Sequence[Series], *, width: int = 720, height: int = 220,
              left: int = 64, bottom: int = 28, top: int = 10, right: int = 8, ticks: int = 4,
              titles: Sequence[Sequence[str]] | None = None) -> BarChart:
    """Bars of every series side by side in each category; negative values are drawn as zero."""
    chart = BarChart(width=width, height=height, series=list(series), plot_left=left,
                     plot_bottom=height - bottom, plot_right=width - right)
    count = len(labels)
    if count == 0 or not series:
        return chart
    peak = max((float(v) for s in series for v in s.values), default=0.0)
    top_value = nice_ceiling(peak)
    plot_height = height - bottom - top
    group_width = (width - left - right) / count
    gap = min(group_width * 0.2, 12)
    bar_width = (group_width - gap) / len(series)
    for i, label in enumerate(labels):
        group_x = left + i * group_width + gap / 2
        chart.labels.append((left + (i + 0.5) * group_width, label))
        for j, one in enumerate(series):
            value = one.values[i]
            bar_height = max(float(value), 0.0) / top_value * plot_height
            title = titles[j][i] if titles else f"{one.name}: {value}"
            chart.bars.append(Bar(x=round(group_x + j * bar_width, 2), y=round(top + plot_height - bar_height, 2),
                                  width=round(max(bar_width - 1, 1), 2), height=round(bar_height, 2),
                                  css_class=one.css_class, value=value, title=title))
    for k in range(ticks + 1):
        value = top_value * k / ticks
        chart.ticks.append((round(top + plot_height - plot_height * k / ticks, 2), Decimal(str(value))))
    return chart


def stacked_bar(parts: Sequence[tuple[str, Decimal, str]], *, total: Decimal | None = None,
                width: int = 400) -> list[dict]:
    """Segments of one horizontal bar: (label, value, css class) → x and width, scaled to ``total``."""
    values = [max(Decimal(value), Decimal(0)) for _label, value, _css in parts]
    whole = total if total is not None and total > 0 else sum(values, Decimal(0))
    segments, x = [], 0.0
    for (label, value, css), shown in zip(parts, values):
        w = float(shown / whole * width) if whole > 0 else 0.0
        w = min(w, width - x)
        segments.append({"label": label, "value": value, "css_class": css, "x": round(x, 2), "width": round(w, 2)})
        x += w
    return segments


@dataclass(frozen=True)
class FunnelStep:
    """One stage of a funnel: a bar centred on the axis, as wide as its share of the first stage."""

    x: float
    y: float
    width: float
    height: float
    label: str
    count: int
    value: Decimal
    css_class: str


@dataclass
class Funnel:
    """Shapes of a funnel chart in a ``width`` × ``height`` view box; ``conversions`` sit between the steps."""

    width: int
    height: int
    label_x: float
    figure_x: float
    steps: list[FunnelStep] = field(default_factory=list)
    conversions: list[tuple[float, float, float | None]] = field(default_factory=list)  # x, y, rate


def funnel(steps: Sequence[tuple[str, int, Decimal, str]], rates: Sequence[float | None], *, width: int = 600,
           label_width: int = 130, figure_width: int = 140, step_height: int = 30, gap: int = 20) -> Funnel:
    """Bars for (label, count, value, css class) steps, widths ∝ count (the widest is the first's scale).

    ``rates`` are the conversions from each step to the next (None where nothing
    reached the earlier step); a step with no deals keeps a sliver, so the stage
    stays visible.

    >>> shape = funnel([("A", 10, Decimal(0), "s"), ("B", 5, Decimal(0), "s")], [0.5])
    >>> [step.width for step in shape.steps], shape.conversions[0][2]
    ([330.0, 165.0], 0.5)
    """
    plot = width - label_width - figure_width
    centre = label_width + plot / 2
    peak = max((count for _label, count, _value, _css in steps), default=0)
    chart = Funnel(width=width, height=max(len(steps) * (step_height + gap) - gap, step_height), label_x=label_width - 10,
                   figure_x=label_width + plot + 10)
    for index, (label, count, value, css) in enumerate(steps):
        bar = plot * count / peak if peak else 0.0
        bar = max(bar, 3.0)
        y = index * (step_height + gap)
        chart.steps.append(FunnelStep(x=round(centre - bar / 2, 2), y=y, width=round(bar, 2), height=step_height,
                                      label=label, count=count, value=value, css_class=css))
        if index < len(rates) and index + 1 < len(steps):
            chart.conversions.append((centre, y + step_height + gap / 2 + 4, rates[index]))
    return chart


@dataclass
class HeatMap:
    """Shapes of a grid of shares (0-1): one cell per (row, column), its opacity the share."""

    width: int
    height: int
    label_width: float
    cells: list[dict] = field(default_factory=list)  # x, y, width, height, opacity, text, title
    row_labels: list[tuple[float, str]] = field(default_factory=list)  # y of the row's middle, text
    column_labels: list[tuple[float, str]] = field(default_factory=list)  # x of the column's middle, text


def heat_map(row_labels: Sequence[str], column_labels: Sequence[str],
             values: Sequence[Sequence[float | None]], *, titles: Sequence[Sequence[str]] | None = None,
             cell_width: int = 44, cell_height: int = 22, label_width: int = 70, top: int = 18) -> HeatMap:
    """A cohort table as a heat map: ``values[i][j]`` the share of row i in column j (None: no cell yet).

    >>> shape = heat_map(["2026-01"], ["0", "1"], [[1.0, 0.25]])
    >>> [(cell["x"], cell["opacity"], cell["text"]) for cell in shape.cells]
    [(70, 1.0, '100%'), (114, 0.31, '25%')]
    """
    chart = HeatMap(width=label_width + cell_width * max(len(column_labels), 1),
                    height=top + cell_height * max(len(row_labels), 1), label_width=label_width)
    for j, text in enumerate(column_labels):
        chart.column_labels.append((label_width + (j + 0.5) * cell_width, text))
    for i, text in enumerate(row_labels):
        y = top + i * cell_height
        chart.row_labels.append((y + cell_height / 2 + 4, text))
        for j, value in enumerate(values[i]):
            if value is None:
                continue
            share = min(max(float(value), 0.0), 1.0)
            chart.cells.append({"x": label_width + j * cell_width, "y": y, "width": cell_width - 2,
                                "height": cell_height - 2, "opacity": round(0.08 + 0.92 * share, 3) if share else 0.04,
                                "text": f"{round(share * 100)}%", "dark": share >= 0.5,
                                "title": titles[i][j] if titles else f"{text} · {column_labels[j]}: {share:.0%}"})
    return chart


@dataclass
class LineChart:
    """Shapes of a line chart of shares: each series a polyline of (x, y) points in a ``width`` × ``height`` box."""

    width: int
    height: int
    plot_left: float
    plot_bottom: float
    plot_right: float
    lines: list[dict] = field(default_factory=list)  # name, css_class, points "x,y x,y", dots [(x, y, title)]
    labels: list[tuple[float, str]] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)


def line_chart(labels: Sequence[str], series: Sequence[Series], *, width: int = 720, height: int = 220,
               left: int = 44, bottom: int = 28, top: int = 10, right: int = 12, ticks: int = 4) -> LineChart:
    """Lines of shares over the categories (0 at the bottom, at least 100% at the top); None breaks no line but is
    skipped, so a series may be shorter than the labels.

    >>> chart = line_chart(["0", "1"], [Series("all", [1.0, 0.5], "line-all")], width=144, height=138)
    >>> chart.lines[0]["points"]
    '44.0,10.0 132.0,60.0'
    """
    peak = max([1.0] + [float(v) for s in series for v in s.values if v is not None])
    top_value = nice_ceiling(peak) if peak > 1.0 else 1.0
    chart = LineChart(width=width, height=height, plot_left=left, plot_bottom=height - bottom,
                      plot_right=width - right)
    count = len(labels)
    plot_height = height - bottom - top
    step = (width - left - right) / max(count - 1, 1) if count > 1 else 0
    xs = [left + i * step if count > 1 else left + (width - left - right) / 2 for i in range(count)]
    for x, text in zip(xs, labels):
        chart.labels.append((round(x, 2), text))
    for one in series:
        points = [(i, round(xs[i], 2), round(top + plot_height - float(v) / top_value * plot_height, 2), v)
                  for i, v in enumerate(one.values[:count]) if v is not None]
        chart.lines.append({"name": one.name, "css_class": one.css_class,
                            "points": " ".join(f"{x},{y}" for _i, x, y, _v in points),
                            "dots": [(x, y, f"{one.name} · {labels[i]}: {float(v):.0%}") for i, x, y, v in points]})
    for k in range(ticks + 1):
        value = top_value * k / ticks
        chart.ticks.append((round(top + plot_height - plot_height * k / ticks, 2), f"{round(value * 100)}%"))
    return chart
