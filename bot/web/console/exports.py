"""``GET /api/insights/export.csv?table=NAME&...``: the insights tables as CSV files.

The query is ``table`` and the filters of ``GET /api/insights`` (:mod:`bot.web.console.insights`:
``from``, ``to``, ``group``, ``channel``, ``language``, ``agent``), and so is who sees what: an
agent gets the team's figures and only their own agent row, an admin everything; no session:
401; a bad table or filter: 400 ``{"error": "..."}``. The tables (:data:`TABLES`; without
``table``, ``conversations``):

- ``series``: one row per day or week (``group``) with every figure of the report, nested ones
  flattened (``first_response_seconds_median``, ``tickets_by_reason_complaint``...);
- ``handoff_reasons``: per reason, the handed-over conversations, their rate and the tickets;
- ``agents``: satisfaction and the ticket figures per agent;
- ``faq_entries``: per FAQ entry, with its first question in Chinese and in English;
- ``conversations``: one row per conversation of the range
  (:mod:`bot.domain.insights.conversation_rows`), streamed as the database returns it. Times
  are written in ``BUSINESS_TIMEZONE`` as ``YYYY-MM-DD HH:MM:SS``.

Files are UTF-8 with a byte order mark, named ``insights-TABLE-FROM-TO.csv``, every text cell
safe from formula injection (:mod:`bot.web.console.csv_cells`); the tables' rows come from
:mod:`bot.web.console.insights_tables`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping

from aiohttp import web

from bot.domain.insights import InsightsFilter, insights
from bot.domain.insights.conversation_rows import ConversationRow, conversation_rows
from bot.domain.knowledge import merged_entries
from bot.web.console.csv_cells import BOM, csv_line, csv_text
from bot.web.console.errors import json_errors
from bot.web.console.insights import requested_filter, visible_to
from bot.web.console.insights_tables import (
    CONVERSATION_COLUMNS,
    agents_table,
    conversation_cells,
    faq_entries_table,
    handoff_reasons_table,
    series_table,
)
from bot.web.console.security import current_agent
from bot.web.headers import add_security_headers
from bot.web.inputs import BadInput, text_parameter
from bot.web.keys import SESSIONS, SETTINGS
from faq_index import FaqEntry, SourceError

log = logging.getLogger(__name__)

PATH = "/insights/export.csv"  # in the agent API, mounted at /api
TABLES = ("series", "handoff_reasons", "agents", "faq_entries", "conversations")
DEFAULT_TABLE = "conversations"  # what teams ask for most; the dashboard's link names none


async def _faq_entries(request: web.Request) -> dict[str, FaqEntry]:
    """The FAQ as the bot knows it now (the sources and agents' additions), by entry id."""
    sources = [request.config_dict[SETTINGS].web.faq_sources]
    try:
        async with request.config_dict[SESSIONS]() as session:
            return {entry.id: entry for entry in await merged_entries(session, sources)}
    except SourceError as exc:  # the figures are still worth having
        log.warning("FAQ export without the questions: %s", exc)
        return {}


def filename(table: str, flt: InsightsFilter) -> str:
    """
    >>> from datetime import date
    >>> filename("conversations", InsightsFilter(date(2026, 11, 1), date(2026, 11, 30)))
    'insights-conversations-2026-11-01-2026-11-30.csv'
    """
    return f"insights-{table}-{flt.start.isoformat()}-{flt.end.isoformat()}.csv"


def _headers(table: str, flt: InsightsFilter) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{filename(table, flt)}"',
        "Cache-Control": "no-store",  # customers' names and figures: not for shared caches
    }


def _requested_table(query: Mapping[str, str]) -> str:
    table = text_parameter(query, "table") or DEFAULT_TABLE
    if table not in TABLES:
        raise BadInput(f"table is one of {', '.join(TABLES)}")
    return table


async def _stream_conversations(request: web.Request, flt: InsightsFilter) -> web.StreamResponse:
    """The conversations table, written batch by batch as the database returns the rows; the
    first batch is read before anything is sent, so that a failing query is still a 500."""
    hours = request.config_dict[SETTINGS].handoff.hours
    async with (
        request.config_dict[SESSIONS]() as session,
        contextlib.aclosing(conversation_rows(session, flt, hours)) as batches,
    ):
        batch: list[ConversationRow] = await anext(batches, [])
        response = web.StreamResponse(headers=_headers("conversations", flt))
        response.content_type = "text/csv"
        response.charset = "utf-8"
        add_security_headers(response)  # the root middleware comes too late for a stream
        await response.prepare(request)
        await response.write((BOM + csv_line(CONVERSATION_COLUMNS)).encode())
        while batch:
            lines = "".join(csv_line(conversation_cells(row, hours.timezone)) for row in batch)
            await response.write(lines.encode())
            batch = await anext(batches, [])
    await response.write_eof()
    return response


async def export(request: web.Request) -> web.StreamResponse:
    """GET /api/insights/export.csv: one table of the insights as CSV (see the module)."""
    agent = current_agent(request)
    table = _requested_table(request.query)
    flt = requested_filter(request.query, agent)
    if table == "conversations":
        return await _stream_conversations(request, flt)
    settings = request.config_dict[SETTINGS]
    async with request.config_dict[SESSIONS]() as session:
        document = visible_to(await insights(session, flt, settings.handoff.hours), agent)
    if table == "series":
        header, rows = series_table(document)
    elif table == "handoff_reasons":
        header, rows = handoff_reasons_table(document)
    elif table == "agents":
        header, rows = agents_table(document)
    else:
        header, rows = faq_entries_table(document, await _faq_entries(request))
    return web.Response(
        body=csv_text(header, rows).encode(),
        content_type="text/csv",
        charset="utf-8",
        headers=_headers(table, flt),
    )


def add_routes(app: web.Application) -> None:
    """The export's route on ``app``, the agent API's sub-application."""
    app.router.add_get(PATH, json_errors(export))
