"""``GET /api/insights``: the insights report as JSON, behind the console's sign-in.

Query: ``from`` and ``to`` (``YYYY-MM-DD``, inclusive, in ``BUSINESS_TIMEZONE``; required),
``group`` (``day``, the default, or ``week``), ``channel`` (``widget``, ``wechat``, ``other``),
``language`` (``en``, ``zh``, ``zh-TW``, ``zh-HK``) and ``agent`` (an agent's id: their ticket
figures only). The answer is :func:`bot.domain.insights.report.insights`'s document, whose
figures are defined in :mod:`bot.domain.insights`.

Who sees what: every signed-in agent sees the team's figures (the bot's work, the tickets,
satisfaction); admins also see every agent's row under ``agents`` and may filter by any agent,
an agent only their own row and only themselves (another agent's id: 403). Without a session:
401 (:mod:`bot.web.console.security`); bad input: 400, ``{"error": "..."}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.domain.auth import SignedIn
from bot.domain.insights import InsightsError, InsightsFilter, insights, parse_filter
from bot.web.console.security import current_agent
from bot.web.inputs import MAX_ID, BadInput, int_parameter, text_parameter
from bot.web.keys import SESSIONS, SETTINGS

DEFAULT_GROUP = "day"


def requested_filter(query: Mapping[str, str], agent: SignedIn) -> InsightsFilter:
    """The report ``query`` asks for, checked, and allowed to ``agent``.

    Raises:
        BadInput: a missing or malformed parameter (the message says which).
        PermissionError: an agent who is not an admin asks for another agent's figures.
    """
    agent_id = int_parameter(query, "agent", 1, MAX_ID)
    if agent_id is not None and not agent.is_admin and agent_id != agent.agent_id:
        raise PermissionError("an agent sees their own figures only; admins see every agent's")
    try:
        return parse_filter(
            text_parameter(query, "from"),
            text_parameter(query, "to"),
            text_parameter(query, "group") or DEFAULT_GROUP,
            text_parameter(query, "channel"),
            text_parameter(query, "language"),
            agent_id,
        )
    except InsightsError as exc:
        raise BadInput(str(exc)) from None


def visible_to(document: dict[str, Any], agent: SignedIn) -> dict[str, Any]:
    """``document`` with only the agent rows ``agent`` may see (every row for an admin)."""
    if not agent.is_admin:
        document["agents"] = [row for row in document["agents"] if row["id"] == agent.agent_id]
    return document


async def api(request: web.Request) -> web.Response:
    """GET /api/insights: the figures of a range, by day or week (see the module's docstring)."""
    agent = current_agent(request)
    flt = requested_filter(request.query, agent)
    async with request.config_dict[SESSIONS]() as session:
        document = await insights(session, flt, request.config_dict[SETTINGS].handoff.hours)
    return web.json_response(visible_to(document, agent))
