"""The dashboard's charts (drawn by :mod:`bot.web.console.charts`), each with its figures as a
table: per period of the report's series (:func:`series_charts`), and the handoff reasons and
satisfaction ratings of the whole range (:func:`mix_charts`).

>>> period_label({"from": "2026-03-02", "to": "2026-03-08"})
'03-02–03-08'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from bot.web.console import charts
from bot.web.console.dashboard_cards import percent
from bot.web.console.dashboard_text import Translate
from vocabulary import EscalationReason

REASONS = {
    EscalationReason.REQUESTED.value: "Asked for a person",
    EscalationReason.NOT_FOUND.value: "Not found",
    EscalationReason.NOT_HELPFUL.value: "Did not help",
    EscalationReason.COMPLAINT.value: "Complaint",
    EscalationReason.CLARIFICATION_REFUSED.value: "Refused the suggestions",
}


@dataclass(frozen=True)
class Chart:
    """A chart and its figures as a table (the accessible fallback)."""

    key: str
    title: str
    svg: Markup
    headers: list[str]
    rows: list[list[str]]


def period_label(row: Mapping[str, Any]) -> str:
    """``03-02`` for a day, ``03-02–03-08`` for a week."""
    first, last = row["from"][5:], row["to"][5:]
    return first if first == last else f"{first}–{last}"


def series_charts(series: list[Mapping[str, Any]], _: Translate) -> list[Chart]:
    labels = [period_label(row) for row in series]
    no_data = _("No conversations in these days")
    conversations = charts.bar_chart(
        "chart-conversations",
        [(label, row["conversations"]) for label, row in zip(labels, series, strict=True)],
        title=_("Conversations"),
        empty=no_data,
    )
    rates = charts.line_chart(
        "chart-rates",
        labels,
        [
            charts.Line(_("Bot resolution rate"), [row["bot_resolution_rate"] for row in series]),
            charts.Line(_("Handoff rate"), [row["handoff_rate"] for row in series]),
        ],
        title=_("Bot resolution and handoff rates"),
        empty=no_data,
        top=1,
        value_text=lambda share: f"{share * 100:.0f}%",
    )

    def rate(value: float | None) -> str:
        return "–" if value is None else percent(value)

    headers = [
        _("Period"),
        _("Conversations"),
        _("With questions"),
        _("Bot resolved"),
        _("Handed over"),
        _("Bot resolution rate"),
        _("Handoff rate"),
    ]
    rows = [
        [
            f"{row['from']} – {row['to']}" if row["from"] != row["to"] else row["from"],
            str(row["conversations"]),
            str(row["conversations_with_questions"]),
            str(row["bot_resolved"]),
            str(row["handed_over"]),
            rate(row["bot_resolution_rate"]),
            rate(row["handoff_rate"]),
        ]
        for row in series
    ]
    return [
        Chart(
            "conversations", _("Conversations"), conversations, headers[:3], [r[:3] for r in rows]
        ),
        Chart("rates", _("Bot resolution and handoff rates"), rates, headers, rows),
    ]


def mix_charts(report: Mapping[str, Any], _: Translate) -> list[Chart]:
    reasons = sorted(report["handoffs_by_reason"].items(), key=lambda item: (-item[1], item[0]))
    named = [(_(REASONS.get(reason, reason)), count) for reason, count in reasons]
    handed_over = report["handed_over"]
    reason_chart = charts.horizontal_bar_chart(
        "chart-reasons",
        named,
        title=_("Handoffs by reason"),
        empty=_("No handoffs in these days"),
    )
    stars = [(str(n), report["satisfaction_distribution"][str(n)]) for n in range(1, 6)]
    satisfaction = charts.bar_chart(
        "chart-satisfaction",
        stars,
        title=_("Satisfaction ratings"),
        empty=_("No ratings in these days"),
    )
    return [
        Chart(
            "reasons",
            _("Handoffs by reason"),
            reason_chart,
            [_("Reason"), _("Handoffs"), _("Share")],
            [[name, str(n), percent(n / handed_over)] for name, n in named],
        ),
        Chart(
            "satisfaction",
            _("Satisfaction ratings"),
            satisfaction,
            [_("Rating"), _("Ratings")],
            [[stars_given, str(n)] for stars_given, n in stars],
        ),
    ]
