"""Charts as data for the SVG templates: pure functions from rows to the geometry of a chart
(coordinates in SVG user units, ticks, labels), which `templates/_charts.html.j2` draws inline in
the pages. Drawing a chart this way takes about a millisecond, scales to any screen, and each
point carries its values as a tooltip.

    >>> nice_ticks(-0.013, 0.021)
    [-0.02, -0.01, 0.0, 0.01, 0.02, 0.03]
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

# Colours of the companies of a story (Tableau 10), in the order of the reaction table.
PALETTE = (
    "#4e79a7",
    "#e15759",
    "#59a14f",
    "#f28e2b",
    "#b07aa1",
    "#76b7b2",
    "#9c755f",
    "#edc948",
    "#ff9da7",
    "#bab0ac",
)
DAYS = tuple(range(-5, 6))  # the relative days of the CAR and CAAR charts
WIDTH, HEIGHT = 720, 340  # SVG user units; the page scales the chart to its column
MARGIN = {"left": 66, "right": 14, "top": 14, "bottom": 44}


@dataclass(frozen=True)
class Series:
    """One line of a chart: its label and colour, the SVG points of the line and of its band,
    and per day (x, y, tooltip) for the markers."""

    label: str
    color: str
    line: str
    band: str
    markers: tuple[tuple[float, float, str], ...]


@dataclass(frozen=True)
class LineChart:
    """A chart of values (fractions, shown in percent) by relative day, with a band per line."""

    width: int
    height: int
    plot: tuple[float, float, float, float]  # left, top, right, bottom
    x_ticks: tuple[tuple[float, str], ...]
    y_ticks: tuple[tuple[float, str], ...]
    zero_y: float
    day0_x: float
    series: tuple[Series, ...]
    x_label: str
    y_label: str
    title: str


@dataclass(frozen=True)
class Bar:
    """One bar of a bar chart: its label, colour, value text and geometry."""

    label: str
    color: str
    text: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars (e.g. day-0 abnormal volume per company) around a zero line."""

    width: int
    height: int
    zero_x: float
    x_ticks: tuple[tuple[float, str], ...]
    bars: tuple[Bar, ...]
    title: str
    label_width: float


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round tick values covering [low, high]: a step of 1, 2, 2.5 or 5 times a power of ten
    that gives about `count` ticks, from a multiple of it at or below `low`."""
    if high <= low:
        low, high = low - 0.01, high + 0.01
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def percent(value: float, digits: int = 1) -> str:
    """0.0123 -> '+1.2%' (sign always shown; '0%' for zero); for axes and tooltips."""
    if abs(value) < 1e-12:
        return "0%"
    return f"{value * 100:+.{digits}f}%".replace("-", "−")


@dataclass(frozen=True)
class Line:
    """What a line chart draws for one line: label, colour and per day (day, value, low, high),
    values as fractions (None where missing)."""

    label: str
    color: str
    points: Sequence[tuple[int, float | None, float | None, float | None]]


def line_chart(
    lines: Sequence[Line],
    *,
    title: str = "",
    y_label: str = "cumulative abnormal return",
    value_range: tuple[float, float] | None = None,
) -> LineChart:
    """A chart of `lines` in percent, days -5..+5 on the x axis, each line with its band.
    `value_range` fixes the y axis (to compare small multiples); by default it covers the
    lines and bands."""
    left = MARGIN["left"]
    top = MARGIN["top"]
    right = WIDTH - MARGIN["right"]
    bottom = HEIGHT - MARGIN["bottom"]
    low, high = value_range or _value_range(lines)
    ticks = nice_ticks(min(low, 0.0), max(high, 0.0))
    y_low, y_high = ticks[0], ticks[-1]

    def x_of(day: float) -> float:
        return left + (day - DAYS[0]) / (DAYS[-1] - DAYS[0]) * (right - left)

    def y_of(value: float) -> float:
        return bottom - (value - y_low) / (y_high - y_low) * (bottom - top)

    series = []
    for line in lines:
        drawn = sorted(p for p in line.points if _number(p[1]))
        banded = [(d, lo, hi) for d, _, lo, hi in drawn if _number(lo) and _number(hi)]
        band = " ".join(
            [f"{x_of(d):.1f},{y_of(hi):.1f}" for d, _, hi in banded]
            + [f"{x_of(d):.1f},{y_of(lo):.1f}" for d, lo, _ in reversed(banded)]
        )
        series.append(
            Series(
                label=line.label,
                color=line.color,
                line=" ".join(f"{x_of(d):.1f},{y_of(v):.1f}" for d, v, _, _ in drawn),
                band=band,
                markers=tuple(
                    (round(x_of(d), 1), round(y_of(v), 1), _tooltip(line.label, d, v, lo, hi))
                    for d, v, lo, hi in drawn
                ),
            )
        )
    return LineChart(
        width=WIDTH,
        height=HEIGHT,
        plot=(left, top, right, bottom),
        x_ticks=tuple((round(x_of(d), 1), f"{d:+d}" if d else "0") for d in DAYS),
        y_ticks=tuple((round(y_of(t), 1), percent(t, _digits(ticks))) for t in ticks),
        zero_y=round(y_of(0.0), 1),
        day0_x=round(x_of(0), 1),
        series=tuple(series),
        x_label="trading days relative to day 0 (the session the story could first move)",
        y_label=f"{y_label} (%)",
        title=title,
    )


def car_chart(paths: Sequence[dict], labels: dict[str, str], colors: dict[str, str]) -> LineChart:
    """The CAR chart of one story: `paths` are its rows of `tables.car_path_table` (event_id,
    day, car, car_low, car_high; one path per event, in order), with each event's label and
    colour."""
    points: dict[str, list] = {}
    for row in paths:
        points.setdefault(row["event_id"], []).append(
            (row["day"], row["car"], row["car_low"], row["car_high"])
        )
    return line_chart([Line(labels[e], colors[e], p) for e, p in points.items()])


def caar_charts(paths: pl.DataFrame, buckets: Sequence[str]) -> dict[str, LineChart]:
    """One CAAR chart per bucket of `paths` (from `tables.caar_paths`), on a shared y axis so
    that the charts compare; "all" and then `buckets` in order, those with events only."""
    lines = {
        bucket: Line(bucket, PALETTE[0], rows.select("day", "caar", "caar_low", "caar_high").rows())
        for (bucket,), rows in paths.partition_by("bucket", as_dict=True).items()
    }
    shared = _value_range(lines.values())
    return {
        bucket: line_chart(
            [lines[bucket]],
            title=bucket,
            y_label="cumulative average abnormal return",
            value_range=shared,
        )
        for bucket in ("all", *buckets)
        if bucket in lines
    }


def volume_chart(labels: Sequence[str], colors: Sequence[str], z: Sequence[float]) -> BarChart:
    """Day-0 abnormal volume (a z-score per company) as horizontal bars around zero."""
    label_width, bar_height, gap, width = 150.0, 18.0, 8.0, 340
    ticks = nice_ticks(min(0.0, *z), max(0.0, *z), count=4)
    low, high = ticks[0], ticks[-1]
    left, right = label_width, width - 12

    def x_of(value: float) -> float:
        return left + (value - low) / (high - low) * (right - left)

    bars = tuple(
        Bar(
            label=label,
            color=color,
            text=f"{value:+.1f}".replace("-", "−"),
            x=round(min(x_of(0), x_of(value)), 1),
            y=round(8 + i * (bar_height + gap), 1),
            width=round(abs(x_of(value) - x_of(0)), 1),
            height=bar_height,
        )
        for i, (label, color, value) in enumerate(zip(labels, colors, z, strict=True))
    )
    return BarChart(
        width=width,
        height=int(8 + len(bars) * (bar_height + gap) + 30),
        zero_x=round(x_of(0), 1),
        x_ticks=tuple((round(x_of(t), 1), f"{t:g}".replace("-", "−")) for t in ticks),
        bars=bars,
        title="abnormal volume on day 0 (z-score)",
        label_width=label_width,
    )


def _value_range(lines) -> tuple[float, float]:
    """The lowest and highest value or band edge of `lines`."""
    values = [v for line in lines for point in line.points for v in point[1:] if _number(v)]
    return (min(values), max(values)) if values else (-0.01, 0.01)


def _number(value) -> bool:
    return value is not None and not math.isnan(value)


def _digits(ticks: Sequence[float]) -> int:
    """Decimals a percent label needs for these ticks to differ (0.5% steps need one)."""
    step = round(abs(ticks[1] - ticks[0]) * 100, 9) if len(ticks) > 1 else 1.0
    return 0 if step.is_integer() else (1 if step >= 0.1 else 2)


def _tooltip(label: str, day: int, value: float, low: float | None, high: float | None) -> str:
    band = (
        ""
        if low is None or high is None
        else f" (95% band {percent(low, 2)} to {percent(high, 2)})"
    )
    return f"{label}, day {day:+d}: {percent(value, 2)}{band}"
