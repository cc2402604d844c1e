"""The insights report as a table for a terminal (``python -m bot report`` without ``--json``).

>>> print(duration(None), duration(59.4), duration(3725))
- 59s 1h 02m 05s
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SERIES_COLUMNS = (
    ("conversations", "conv"),
    ("conversations_with_questions", "w/ q"),
    ("bot_resolved", "bot"),
    ("handed_over", "handed"),
    ("answered", "answ"),
    ("clarified", "clar"),
    ("not_found", "n/f"),
    ("tickets", "tickets"),
    ("ratings", "ratings"),
)


def duration(seconds: float | None) -> str:
    """``seconds`` as ``1h 02m 05s``; ``-`` for none."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _line(label: str, value: object, note: str = "") -> str:
    return f"  {label:<34}{value!s:>10}  {note}".rstrip()


def _times(report: Mapping[str, Any], name: str, label: str) -> list[str]:
    wall, business = report[f"{name}_seconds"], report[f"{name}_business_seconds"]
    return [
        _line(
            label,
            wall["count"],
            f"median {duration(wall['median'])}, "
            f"mean {duration(wall['mean'])}, p90 {duration(wall['p90'])}",
        ),
        _line(
            "    in business hours",
            "",
            f"median {duration(business['median'])}, "
            f"mean {duration(business['mean'])}, p90 {duration(business['p90'])}",
        ),
    ]


def _bot_lines(r: Mapping[str, Any]) -> list[str]:
    return [
        _line("conversations", r["conversations"]),
        _line("  with questions", r["conversations_with_questions"]),
        _line("  bot resolved", r["bot_resolved"], _percent(r["bot_resolution_rate"])),
        _line("  handed over", r["handed_over"], _percent(r["handoff_rate"])),
        *(
            _line(f"    {reason}", count, _percent(r["handoff_rate_by_reason"][reason]))
            for reason, count in r["handoffs_by_reason"].items()
        ),
        _line("  neither", r["unresolved"]),
        _line(
            "customers",
            r["customers"],
            f"{r['new_customers']} new, {r['returning_customers']} returning",
        ),
        _line("customer messages", r["customer_messages"]),
        _line("questions", r["questions"]),
        _line(
            "  answered", r["answered"], f"{r['clarification_choices']} chosen in a did-you-mean"
        ),
        _line("  clarified", r["clarified"]),
        _line("  not found", r["not_found"]),
        _line(
            "answers with feedback",
            r["answered_with_feedback"],
            f"{r['helpful']} helpful ({_percent(r['helpful_share'])}), "
            f"{r['not_helpful']} not helpful",
        ),
    ]


def _ticket_lines(r: Mapping[str, Any]) -> list[str]:
    return [
        _line(
            "tickets",
            r["tickets"],
            ", ".join(f"{reason} {count}" for reason, count in r["tickets_by_reason"].items()),
        ),
        _line(
            "  replied / resolved",
            f"{r['tickets_replied']} / {r['tickets_resolved']}",
            f"{r['tickets_resolved_without_reply']} resolved without reply, "
            f"{r['tickets_reopened']} reopened, {r['tickets_active']} still active",
        ),
        *_times(r, "first_response", "  first response"),
        *_times(r, "resolution", "  resolution"),
        _line(
            "ratings / asked",
            f"{r['ratings']} / {r['ratings_asked']}",
            f"average {r['satisfaction_average'] if r['ratings'] else '-'}, "
            + " ".join(f"{k}★{v}" for k, v in r["satisfaction_distribution"].items()),
        ),
    ]


def _series(rows: list[Mapping[str, Any]]) -> list[str]:
    header = f"  {'from':<10} {'to':<10} " + " ".join(f"{t:>7}" for _, t in SERIES_COLUMNS)
    body = [
        f"  {row['from']:<10} {row['to']:<10} "
        + " ".join(f"{row[key]:>7}" for key, _ in SERIES_COLUMNS)
        for row in rows
    ]
    return ["", "by period:", header, *body]


def _agents(rows: list[Mapping[str, Any]]) -> list[str]:
    lines = ["", "by agent:"]
    for row in rows:
        lines.append(
            f"  {row['name']} ({row['username']}): {row['tickets']} tickets, "
            f"{row['tickets_resolved']} resolved, first response median "
            f"{duration(row['first_response_seconds']['median'])}, ratings {row['ratings']}"
            f" (average {row['satisfaction_average'] if row['ratings'] else '-'})"
        )
    return lines


def _entries(rows: list[Mapping[str, Any]], limit: int = 20) -> list[str]:
    lines = ["", "FAQ entries (answered, chosen, helpful, not helpful, handoffs after):"]
    for row in rows[:limit]:
        lines.append(
            f"  {row['entry_id']:<32} {row['answered']:>6} {row['clarification_choices']:>6}"
            f" {row['helpful']:>6} {row['not_helpful']:>6} {row['handoffs_after']:>6}"
        )
    if len(rows) > limit:
        lines.append(f"  ... {len(rows) - limit} more (--json lists them all)")
    return lines


def render_text(report: Mapping[str, Any]) -> str:
    """``report`` (from :func:`bot.domain.insights.report.insights`) as readable lines."""
    scope = ", ".join(
        f"{name} {report[name]}" for name in ("channel", "language", "agent") if report[name]
    )
    waiting = report["waiting_now"]
    lines = [
        f"Insights {report['from']} .. {report['to']} ({report['timezone']}, business hours "
        f"{report['business_hours']}){', ' + scope if scope else ''}",
        "",
        *_bot_lines(report),
        *_ticket_lines(report),
        _line(
            "waiting for an agent now",
            waiting["tickets"],
            f"longest {duration(waiting['longest_wait_seconds'])} "
            f"({duration(waiting['longest_wait_business_seconds'])} in business hours)",
        ),
    ]
    if report["series"]:
        lines += _series(report["series"])
    if report["agents"]:
        lines += _agents(report["agents"])
    if report["faq_entries"]:
        lines += _entries(report["faq_entries"])
    return "\n".join(lines)
