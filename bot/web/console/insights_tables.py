"""The insights report's tables as rows of cells, for :mod:`bot.web.console.exports`.

Each function takes the report (:func:`bot.domain.insights.report.insights`'s document) and
gives a header and rows. Nested figures become columns of their own, and every row has a column
for every ticket reason, whichever reasons its period saw, so that the rows of one file line up:

>>> document = {"conversations_with_questions": 4, "handoffs_by_reason": {"complaint": 1},
...             "tickets_by_reason": {"complaint": 2}}
>>> header, rows = handoff_reasons_table(document)
>>> header, rows[0]
(['reason', 'handed_over', 'handoff_rate', 'tickets'], ['clarification_refused', 0, 0.0, 0])
>>> rows[1]
['complaint', 1, 0.25, 2]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.insights.conversation_rows import ConversationRow
from bot.domain.insights.conversations import share
from bot.domain.insights.report import ticket_part
from bot.domain.insights.tickets import TicketFigures
from bot.web.console.csv_cells import Cell
from faq_index import FaqEntry
from vocabulary import EscalationReason

CONVERSATION_COLUMNS = tuple(field.name for field in dataclasses.fields(ConversationRow))
FAQ_ENTRY_COLUMNS = (
    "entry_id",
    "category",
    "question_zh",
    "question_en",
    "answered",
    "clarification_choices",
    "helpful",
    "not_helpful",
    "handoffs_after",
)
Table = tuple[list[str], list[list[Cell]]]


def _flat(row: Mapping[str, Any], prefix: str = "") -> dict[str, Cell]:
    """Nested figures as columns of their own: ``{"a": {"b": 1}}`` is ``{"a_b": 1}``."""
    found: dict[str, Cell] = {}
    for key, value in row.items():
        if isinstance(value, Mapping):
            found.update(_flat(value, f"{prefix}{key}_"))
        else:
            found[f"{prefix}{key}"] = value
    return found


def _reasons(document: Mapping[str, Any]) -> list[str]:
    """Every reason a ticket can have, and any other one the range's tickets have."""
    known = {reason.value for reason in EscalationReason}
    return sorted(known | set(document["tickets_by_reason"]) | set(document["handoffs_by_reason"]))


def _every_reason(row: Mapping[str, Any], reasons: list[str]) -> dict[str, Any]:
    """``row`` with a count (and rate) for each of ``reasons``, so that every row has the same
    columns whichever reasons its period saw."""
    filled = dict(row)
    filled["tickets_by_reason"] = {r: row["tickets_by_reason"].get(r, 0) for r in reasons}
    if "handoffs_by_reason" in row:
        handed = {r: row["handoffs_by_reason"].get(r, 0) for r in reasons}
        asked = row["conversations_with_questions"]
        filled["handoffs_by_reason"] = handed
        filled["handoff_rate_by_reason"] = {r: share(handed[r], asked) for r in reasons}
    return filled


def _table(rows: list[Mapping[str, Any]], reasons: list[str], like: Mapping[str, Any]) -> Table:
    """``rows`` flattened, under the header of a row ``like`` them (there even without rows)."""
    header = list(_flat(_every_reason(like, reasons)))
    flat = [_flat(_every_reason(row, reasons)) for row in rows]
    return header, [[row[name] for name in header] for row in flat]


def series_table(document: Mapping[str, Any]) -> Table:
    """One row per period: the report is grouped by day unless it says otherwise."""
    return _table(document["series"], _reasons(document), document["series"][0])


def agents_table(document: Mapping[str, Any]) -> Table:
    like = {"id": 0, "username": "", "name": "", **ticket_part(TicketFigures())}
    return _table(document["agents"], _reasons(document), like)


def handoff_reasons_table(document: Mapping[str, Any]) -> Table:
    header = ["reason", "handed_over", "handoff_rate", "tickets"]
    asked = document["conversations_with_questions"]
    rows: list[list[Cell]] = []
    for reason in _reasons(document):
        handed = document["handoffs_by_reason"].get(reason, 0)
        tickets = document["tickets_by_reason"].get(reason, 0)
        rows.append([reason, handed, share(handed, asked), tickets])
    return header, rows


def faq_entries_table(document: Mapping[str, Any], entries: Mapping[str, FaqEntry]) -> Table:
    """The report's FAQ entries, each with its category and first questions from ``entries``
    (the FAQ as the bot knows it now; an entry no longer in it has them empty)."""
    rows: list[list[Cell]] = []
    for figures in document["faq_entries"]:
        entry = entries.get(figures["entry_id"])
        texts = entry.texts if entry else {}
        questions = [texts[lang].questions[0] if lang in texts else None for lang in ("zh", "en")]
        category = entry.category if entry else None
        counts = [figures[name] for name in FAQ_ENTRY_COLUMNS[4:]]
        rows.append([figures["entry_id"], category, *questions, *counts])
    return list(FAQ_ENTRY_COLUMNS), rows


def _local(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def conversation_cells(row: ConversationRow, zone: ZoneInfo) -> list[Cell]:
    """``row`` in :data:`CONVERSATION_COLUMNS` order, its times on the business clock."""
    values = (getattr(row, name) for name in CONVERSATION_COLUMNS)
    return [_local(value, zone) if isinstance(value, datetime) else value for value in values]
