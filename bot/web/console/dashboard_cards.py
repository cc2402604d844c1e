"""The dashboard's number cards: a report's figures, written, each with its change against the
previous period's (:func:`cards`), in the page's language (``_``: see
:mod:`bot.web.console.dashboard_text`).

>>> percent(0.25), duration(90, lambda message: message)
('25.0%', '2 min')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.web.console.dashboard_text import Translate


def percent(share: float) -> str:
    """A share as the cards write it.

    >>> percent(0.2857)
    '28.6%'
    """
    return f"{share * 100:.1f}%"


def duration(seconds: float, _: Translate) -> str:
    """A wait in the largest two units that matter.

    >>> duration(29700, lambda message: message)
    '8 h 15 min'
    """
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(m)d min") % {"m": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours}


@dataclass(frozen=True)
class Card:
    """A number card. ``trend``: ``up``, ``down``, ``same`` or ``none`` (nothing to compare);
    ``quality``: ``better``, ``worse`` or ``neutral``, for the change's colour."""

    key: str
    label: str
    value: str
    change: str
    trend: str
    quality: str
    note: str = ""


def _quality(delta: float, higher_is_better: bool | None) -> str:
    if delta == 0 or higher_is_better is None:
        return "neutral"
    return "better" if (delta > 0) == higher_is_better else "worse"


def _trend(delta: float) -> str:
    return "up" if delta > 0 else "down" if delta < 0 else "same"


def _signed(text: str, delta: float) -> str:
    return f"+{text}" if delta > 0 else f"−{text}" if delta < 0 else "±0"


def count_card(
    key: str, label: str, now: int, before: int | None, _: Translate, note: str = ""
) -> Card:
    """A count and its change, also relative when there was any before (``+3 (+50%)``)."""
    if before is None:
        return Card(key, label, str(now), _("nothing to compare"), "none", "neutral", note)
    delta = now - before
    change = _signed(str(abs(delta)), delta)
    if before and delta:
        change += f" ({_signed(f'{abs(delta) / before * 100:.0f}%', delta)})"
    return Card(key, label, str(now), change, _trend(delta), "neutral", note)


def measure_card(
    key: str,
    label: str,
    now: float | None,
    before: float | None,
    write: Any,
    higher_is_better: bool,
    _: Translate,
    note: str = "",
    write_change: Any = None,
) -> Card:
    """A rate, a time or an average (``None``: no figure) and its change, written by ``write``
    (the change by ``write_change``, default ``write``). A change too small to show in writing
    is none (no "−0.0" in red).

    >>> measure_card("s", "S", 3.02, 3.04, lambda v: f"{v:.1f}", True, str).change
    '±0'
    """
    write_change = write_change or write
    value = _("none") if now is None else write(now)
    if now is None or before is None:
        return Card(key, label, value, _("nothing to compare"), "none", "neutral", note)
    delta = now - before
    if write_change(abs(delta)) == write_change(0):
        delta = 0
    change = _signed(write_change(abs(delta)), delta) if delta else "±0"
    return Card(key, label, value, change, _trend(delta), _quality(delta, higher_is_better), note)


def cards(now: Mapping[str, Any], earlier: Mapping[str, Any] | None, _: Translate) -> list[Card]:
    """The number cards of a report ``now`` against the previous period's (``None``: the
    calendar has no previous period)."""
    before: Mapping[str, Any] = earlier or {"first_response_seconds": {}}

    def counted(key: str, label: str, figure: str) -> Card:
        return count_card(key, label, now[figure], before.get(figure), _)

    def points(delta: float) -> str:
        return _("%(n).1f pts") % {"n": delta * 100}

    def waited(seconds: float | None) -> str:
        return _("none") if seconds is None else duration(seconds, _)

    of_questions = _("of %(n)d conversations with questions") % {
        "n": now["conversations_with_questions"]
    }
    first_response = now["first_response_seconds"]
    replied = _("%(n)d tickets replied; in business hours: %(business)s") % {
        "n": first_response["count"],
        "business": waited(now["first_response_business_seconds"]["median"]),
    }
    rated = _("%(ratings)d ratings of %(asked)d asked") % {
        "ratings": now["ratings"],
        "asked": now["ratings_asked"],
    }
    waiting = now["waiting_now"]
    return [
        counted("conversations", _("Conversations"), "conversations"),
        counted("new-customers", _("New customers"), "new_customers"),
        counted("returning-customers", _("Returning customers"), "returning_customers"),
        measure_card(
            "bot-resolution",
            _("Bot resolution rate"),
            now["bot_resolution_rate"],
            before.get("bot_resolution_rate"),
            percent,
            True,
            _,
            f"{now['bot_resolved']} {of_questions}",
            points,
        ),
        measure_card(
            "handoff",
            _("Handoff rate"),
            now["handoff_rate"],
            before.get("handoff_rate"),
            percent,
            False,
            _,
            f"{now['handed_over']} {of_questions}",
            points,
        ),
        measure_card(
            "first-response",
            _("First response time (median)"),
            first_response["median"],
            before["first_response_seconds"].get("median"),
            waited,
            False,
            _,
            replied,
        ),
        measure_card(
            "satisfaction",
            _("Satisfaction (1–5)"),
            now["satisfaction_average"],
            before.get("satisfaction_average"),
            lambda average: f"{average:.1f}",
            True,
            _,
            rated,
        ),
        # What waits now has no previous period.
        Card(
            "waiting",
            _("Tickets waiting now"),
            str(waiting["tickets"]),
            _("now"),
            "none",
            "neutral",
        ),
        Card(
            "longest-wait",
            _("Longest wait now"),
            waited(waiting["longest_wait_seconds"]),
            _("now"),
            "none",
            "neutral",
        ),
    ]
