"""The dashboard's SVG charts: shapes computed from the numbers, texts escaped, no data said so."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from bot.web.console.charts import (
    HEIGHT,
    MAX_X_LABELS,
    TOP,
    Line,
    bar_chart,
    horizontal_bar_chart,
    line_chart,
    nice_top,
)

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script>&'


def parsed(markup: str) -> ET.Element:
    """The chart as XML: it must be well-formed for the browser to draw it at all."""
    return ET.fromstring(str(markup))


def bars(svg: ET.Element) -> list[ET.Element]:
    return [rect for rect in svg.iter(f"{SVG}rect") if rect.get("class") == "bar"]


def texts(svg: ET.Element) -> list[str]:
    return [element.text or "" for element in svg.iter() if element.text]


def test_one_bar_per_point_with_heights_proportional_to_the_values():
    svg = parsed(
        bar_chart("c", [("Mon", 6), ("Tue", 2), ("Wed", 0), ("Thu", 3)], title="T", empty="-")
    )
    heights = [float(rect.get("height")) for rect in bars(svg)]
    assert len(heights) == 4
    assert heights[2] == 0
    assert heights[0] / heights[1] == pytest.approx(3) and heights[0] / heights[3] == pytest.approx(
        2
    )
    # Each bar stands on the same base line, and the axis reaches the highest value.
    bases = {round(float(r.get("y")) + float(r.get("height")), 2) for r in bars(svg)}
    assert len(bases) == 1
    assert "10" in texts(svg)  # the axis' top: nice_top(6)
    assert [r.find(f"{SVG}title").text for r in bars(svg)] == [
        "Mon: 6",
        "Tue: 2",
        "Wed: 0",
        "Thu: 3",
    ]


def test_a_chart_is_named_and_described_for_screen_readers():
    svg = parsed(bar_chart("chart-x", [("a", 1.5), ("b", 3)], title="Visits", empty="-"))
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "chart-x-title chart-x-desc"
    assert svg.find(f"{SVG}title").text == "Visits"
    assert svg.find(f"{SVG}desc").text == "a: 1.5; b: 3"


@pytest.mark.parametrize("points", [[], [("Mon", 0), ("Tue", 0)]])
def test_a_chart_without_data_says_so(points):
    svg = parsed(bar_chart("c", points, title="Visits", empty="No visits in these days"))
    assert bars(svg) == []
    assert "No visits in these days" in texts(svg)
    assert svg.find(f"{SVG}desc").text == "No visits in these days"
    empty_lines = parsed(line_chart("l", ["Mon"], [Line("a", [None])], title="T", empty="Nothing"))
    assert "Nothing" in texts(empty_lines) and not list(empty_lines.iter(f"{SVG}circle"))
    assert "Nothing" in texts(parsed(horizontal_bar_chart("h", [], title="T", empty="Nothing")))


def test_every_text_is_escaped():
    markup = str(
        bar_chart("c", [(HOSTILE, 2)], title=HOSTILE, empty=HOSTILE, value_text=lambda v: HOSTILE)
    )
    assert "<script>" not in markup
    svg = parsed(markup)  # well-formed: nothing broke out of its element or attribute
    assert svg.find(f"{SVG}title").text == HOSTILE
    assert HOSTILE in texts(svg)
    for chart in (
        line_chart("l", [HOSTILE], [Line(HOSTILE, [1])], title=HOSTILE, empty=HOSTILE),
        horizontal_bar_chart("h", [(HOSTILE, 1)], title=HOSTILE, empty=HOSTILE),
        bar_chart("e", [], title="t", empty=HOSTILE),
    ):
        assert "<script>" not in str(chart)
        assert HOSTILE in texts(parsed(chart))


def test_the_chart_name_is_an_id_not_markup():
    with pytest.raises(ValueError, match="name"):
        bar_chart('x" onload="alert(1)', [("a", 1)], title="t", empty="-")


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf")])
def test_values_are_finite_and_not_negative(bad):
    with pytest.raises(ValueError, match="finite and not negative"):
        bar_chart("c", [("a", bad)], title="t", empty="-")


def test_lines_place_their_points_by_value_and_break_at_gaps():
    svg = parsed(
        line_chart(
            "rates",
            ["d1", "d2", "d3", "d4"],
            [Line("resolved", [0.5, None, 0.25, 1.0]), Line("handed over", [0, 0.5, 0.5, 0])],
            title="Rates",
            empty="-",
            top=1,
            value_text=lambda share: f"{share * 100:.0f}%",
        )
    )
    dots = [c for c in svg.iter(f"{SVG}circle") if "line-0" in c.get("class")]
    assert len(dots) == 3  # no dot where there is no value
    depths = [HEIGHT - float(d.get("cy")) for d in dots]
    assert (depths[0] - depths[1]) / (depths[2] - depths[1]) == pytest.approx(1 / 3)
    assert float(dots[2].get("cy")) == TOP  # 100% is the axis' top
    first_line = [p for p in svg.iter(f"{SVG}polyline") if "line-0" in p.get("class")]
    assert len(first_line) == 1 and len(first_line[0].get("points").split()) == 2  # d3-d4 only
    assert dots[0].find(f"{SVG}title").text == "resolved, d1: 50%"
    assert "100%" in texts(svg) and "resolved" in texts(svg) and "handed over" in texts(svg)
    with pytest.raises(ValueError, match="values for"):
        line_chart("x", ["a", "b"], [Line("short", [1])], title="t", empty="-")


def test_horizontal_bars_are_proportional_and_labelled():
    svg = parsed(
        horizontal_bar_chart(
            "reasons",
            [("Complaint", 4), ("A very long reason that is cut short", 1)],
            title="R",
            empty="-",
        )
    )
    widths = [float(r.get("width")) for r in bars(svg)]
    assert widths[0] / widths[1] == pytest.approx(4)
    assert "Complaint" in texts(svg)
    assert any(text.endswith("…") for text in texts(svg))  # the label, cut
    assert "A very long reason that is cut short: 1" in texts(svg)  # whole in the hover text


def test_a_long_series_labels_some_days_only():
    points = [(f"03-{day:02d}", day) for day in range(1, 32)]
    svg = parsed(bar_chart("month", points, title="T", empty="-"))
    assert len(bars(svg)) == 31
    day_labels = [t for t in texts(svg) if re.fullmatch(r"03-\d\d", t)]
    assert 1 < len(day_labels) <= MAX_X_LABELS and day_labels[0] == "03-01"


def test_nice_axis_tops():
    assert [nice_top(v) for v in (1, 3, 4.5, 11, 24, 60, 0.2)] == [1, 5, 5, 20, 25, 100, 0.2]
