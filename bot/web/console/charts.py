"""Charts as SVG markup, drawn on the server: pure functions from numbers to markup.

The console's Content-Security-Policy allows no inline script and no ``style=`` attribute, so
the charts are plain SVG: shapes placed with presentation attributes, coloured by classes of the
console's stylesheet (``.chart …``). Every chart is an ``<svg role="img">`` named by its
``<title>`` and described by a ``<desc>`` that lists its figures in text; every shape has a
``<title>`` of its own (the browser shows it on hover). Every text is escaped. A chart without
a value above zero says ``empty`` instead of drawing axes.

>>> svg = bar_chart("visits", [("Mon", 3), ("Tue", 1)], title="Visits", empty="No visits")
>>> svg.count('class="bar"'), "<desc id=\\"visits-desc\\">Mon: 3; Tue: 1</desc>" in svg
(2, True)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 240
# Room for the y axis' labels on the left and the x axis' labels below.
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 28, 36
# At most this many labels on the x axis: a month of days would overlap.
MAX_X_LABELS = 10
# Horizontal bars: one row each, their labels in the left column.
ROW_HEIGHT = 28
LABEL_WIDTH = 200
MAX_LABEL_CHARS = 28

_NAME = re.compile(r"[a-z][a-z0-9-]{0,40}")

ValueText = Callable[[float], str]


def number_text(value: float) -> str:
    """``3`` for 3.0, ``2.5`` for 2.5: what the axes and the hover texts show by default."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


@dataclass(frozen=True)
class Line:
    """One line of a :func:`line_chart`: its name (in the legend) and a value per label
    (``None``: no value there, the line breaks)."""

    name: str
    values: Sequence[float | None]


def _checked(name: str, values: Sequence[float | None]) -> None:
    if not _NAME.fullmatch(name):
        raise ValueError(f"a chart's name is lower-case letters, digits and '-': {name!r}")
    for value in values:
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ValueError(f"chart values are finite and not negative: {value!r}")


def nice_top(highest: float) -> float:
    """The top of an axis reaching ``highest``: 1, 2, 2.5 or 5 times a power of ten.

    >>> nice_top(7), nice_top(0.37), nice_top(10), nice_top(0)
    (10, 0.5, 10, 1)
    """
    if highest <= 0:
        return 1
    power = 10.0 ** math.floor(math.log10(highest))
    for step in (1, 2, 2.5, 5, 10):
        if highest <= step * power + 1e-12:
            top = step * power
            return int(top) if float(top).is_integer() else top
    return 10 * power  # pragma: no cover (the loop ends at 10)


def _svg(name: str, title: str, description: str, body: str, height: int) -> Markup:
    return Markup(
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{name}-title {name}-desc">'
        f'<title id="{name}-title">{escape(title)}</title>'
        f'<desc id="{name}-desc">{escape(description)}</desc>{body}</svg>'
    )


def _empty(name: str, title: str, empty: str) -> Markup:
    body = (
        f'<text class="empty" x="{WIDTH / 2:g}" y="{HEIGHT / 2:g}" '
        f'text-anchor="middle">{escape(empty)}</text>'
    )
    return _svg(name, title, empty, body, HEIGHT)


def _y_axis(top: float, value_text: ValueText, ticks: int = 4) -> str:
    """The y axis from 0 to ``top``: a grid line and a label for each tick."""
    parts = []
    plot = HEIGHT - TOP - BOTTOM
    for i in range(ticks + 1):
        y = HEIGHT - BOTTOM - plot * i / ticks
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(value_text(top * i / ticks))}</text>"
        )
    return "".join(parts)


def _x_labels(labels: Sequence[str], centres: Sequence[float]) -> str:
    every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    return "".join(
        f'<text class="axis" x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
        f"{escape(label)}</text>"
        for i, (label, x) in enumerate(zip(labels, centres, strict=True))
        if i % every == 0
    )


def _figures_text(points: Sequence[tuple[str, float | None]], value_text: ValueText) -> str:
    return "; ".join(
        f"{label}: {'–' if value is None else value_text(value)}" for label, value in points
    )


def bar_chart(
    name: str,
    points: Sequence[tuple[str, float]],
    *,
    title: str,
    empty: str,
    value_text: ValueText = number_text,
) -> Markup:
    """Vertical bars, one per ``(label, value)``, heights proportional to the values, on an
    axis from 0 to :func:`nice_top` of the highest.

    Args:
        name: the chart's id on its page (lower case, digits, '-'), for ``aria-labelledby``.
        points: the bars, left to right; values not negative.
        title: the chart's accessible name.
        empty: what the chart says when no value is above zero.
        value_text: how a value is written (axis, hover, description).
    """
    _checked(name, [value for _, value in points])
    if not any(value > 0 for _, value in points):
        return _empty(name, title, empty)
    top = nice_top(max(value for _, value in points))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / len(points)
    bar_width = max(1.0, slot * 0.7)
    bars, centres = [], []
    for i, (label, value) in enumerate(points):
        height = plot_height * value / top
        x = LEFT + slot * i + (slot - bar_width) / 2
        centres.append(x + bar_width / 2)
        bars.append(
            f'<rect class="bar" x="{x:.2f}" y="{HEIGHT - BOTTOM - height:.2f}" '
            f'width="{bar_width:.2f}" height="{height:.2f}">'
            f"<title>{escape(label)}: {escape(value_text(value))}</title></rect>"
        )
    body = _y_axis(top, value_text) + "".join(bars) + _x_labels([p[0] for p in points], centres)
    return _svg(name, title, _figures_text(points, value_text), body, HEIGHT)


def line_chart(
    name: str,
    labels: Sequence[str],
    lines: Sequence[Line],
    *,
    title: str,
    empty: str,
    top: float | None = None,
    value_text: ValueText = number_text,
) -> Markup:
    """Lines over the same ``labels``, a dot at each value, with a legend (classes ``line-0``,
    ``line-1``… colour them). A ``None`` value breaks its line.

    Args:
        top: the axis' top (1 for shares), else :func:`nice_top` of the highest value.
        (the others as in :func:`bar_chart`)
    """
    for line in lines:
        _checked(name, line.values)
        if len(line.values) != len(labels):
            raise ValueError(f"line {line.name!r} has {len(line.values)} values for {len(labels)}")
    values = [v for line in lines for v in line.values if v is not None]
    if not any(value > 0 for value in values):
        return _empty(name, title, empty)
    top = top or nice_top(max(values))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / len(labels)
    centres = [LEFT + slot * (i + 0.5) for i in range(len(labels))]
    parts = [_y_axis(top, value_text)]
    for n, line in enumerate(lines):
        run: list[str] = []
        segments: list[list[str]] = [run]
        for i, value in enumerate(line.values):
            if value is None:
                run = []
                segments.append(run)
                continue
            x, y = centres[i], HEIGHT - BOTTOM - plot_height * min(value, top) / top
            run.append(f"{x:.2f},{y:.2f}")
            parts.append(
                f'<circle class="dot line-{n}" cx="{x:.2f}" cy="{y:.2f}" r="3.5">'
                f"<title>{escape(line.name)}, {escape(labels[i])}: "
                f"{escape(value_text(value))}</title></circle>"
            )
        parts.extend(
            f'<polyline class="line line-{n}" points="{" ".join(points)}"/>'
            for points in segments
            if len(points) > 1
        )
        legend_x = LEFT + n * 200
        parts.append(
            f'<rect class="key line-{n}" x="{legend_x}" y="6" width="14" height="10"/>'
            f'<text class="legend" x="{legend_x + 20}" y="15">{escape(line.name)}</text>'
        )
    parts.append(_x_labels(labels, centres))
    description = " | ".join(
        f"{line.name}: {_figures_text(list(zip(labels, line.values, strict=True)), value_text)}"
        for line in lines
    )
    return _svg(name, title, description, "".join(parts), HEIGHT)


def _shortened(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def horizontal_bar_chart(
    name: str,
    points: Sequence[tuple[str, float]],
    *,
    title: str,
    empty: str,
    value_text: ValueText = number_text,
) -> Markup:
    """Horizontal bars, one row per ``(label, value)``, top to bottom, lengths proportional to
    the values (the highest spans the width); each labelled on the left (long labels cut, whole
    in the hover text) and its value written after it. Arguments as in :func:`bar_chart`."""
    _checked(name, [value for _, value in points])
    if not any(value > 0 for _, value in points):
        return _empty(name, title, empty)
    highest = max(value for _, value in points)
    room = WIDTH - LABEL_WIDTH - RIGHT - 60  # the value's text after the longest bar
    height = TOP + ROW_HEIGHT * len(points) + 8
    rows = []
    for i, (label, value) in enumerate(points):
        y = TOP + ROW_HEIGHT * i
        length = room * value / highest
        shown = escape(value_text(value))
        rows.append(
            f'<text class="axis" x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end">'
            f"{escape(_shortened(label))}</text>"
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y + 4}" width="{length:.2f}" '
            f'height="{ROW_HEIGHT - 8}"><title>{escape(label)}: {shown}</title></rect>'
            f'<text class="value" x="{LABEL_WIDTH + length + 6:.2f}" y="{y + 17}">{shown}</text>'
        )
    return _svg(name, title, _figures_text(points, value_text), "".join(rows), height)
