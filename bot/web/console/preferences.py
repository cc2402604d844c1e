"""An agent's console preferences: the interface language and the time zone.

The language is the agent's choice (``Agent.language``, set in the header); before they choose,
the browser's ``Accept-Language`` when they signed in (:func:`remember_browser_language`), and
for an agent who has neither, the browser's of each request. The time zone is the agent's
(``Agent.timezone``) or the shop's (``BUSINESS_TIMEZONE``).

The API, under ``/api`` (signed-in agents, CSRF on changes like every console API):

- ``GET /api/me/preferences``: ``{"language", "timezone", "effective_timezone"}``;
- ``POST /api/me/preferences`` with ``language`` (``"en"``, ``"zh"``) and/or ``timezone`` (an IANA
  name such as ``"Asia/Shanghai"``, or ``null`` for the shop's): the preferences after the
  change. A value it does not know is refused (400) and nothing changes;
- ``GET /api/me/counts``: the tickets per status (``open``, ``assigned``, ``resolved``) and the
  unresolved ones assigned to the agent (``mine``), for the navigation's counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Agent, AgentStatus, Ticket
from bot.web.console.errors import Handler
from bot.web.console.i18n import LANGUAGES
from bot.web.console.locales import console_language
from bot.web.console.security import current_agent
from bot.web.inputs import BadInput, read_json_body
from bot.web.keys import SESSIONS, SETTINGS

MAX_ZONE_CHARS = 64
_UNSET = object()


@dataclass(frozen=True)
class Preferences:
    """What the console reads of an agent on every page."""

    language: str  # the interface's: one of LANGUAGES
    chosen_language: str | None  # what the agent (or their browser at sign-in) chose
    timezone: str | None  # the agent's zone, None: the shop's
    status: str  # AgentStatus


async def preferences(
    session: AsyncSession, agent_id: int, accept_language: str | None
) -> Preferences:
    """``agent_id``'s preferences, the browser's language (``accept_language``) standing in
    for a language they never chose."""
    row = (
        await session.execute(
            select(Agent.language, Agent.timezone, Agent.status).where(Agent.id == agent_id)
        )
    ).first()
    chosen, zone_name, status = row if row is not None else (None, None, None)
    language = chosen if chosen in LANGUAGES else console_language(accept_language)
    return Preferences(language, chosen, zone_name, status or AgentStatus.ONLINE.value)


async def remember_browser_language(
    session: AsyncSession, agent_id: int, accept_language: str | None
) -> None:
    """At sign-in: the browser's language becomes the agent's while they have chosen none."""
    agent = await session.get(Agent, agent_id)
    if agent is not None and agent.language is None:
        agent.language = console_language(accept_language)


def valid_zone(name: str) -> str:
    """``name`` when it is a time zone this system knows; :class:`BadInput` otherwise.

    >>> valid_zone("Europe/Berlin")
    'Europe/Berlin'
    """
    if len(name) > MAX_ZONE_CHARS or name not in available_timezones():
        raise BadInput("timezone is not a time zone name such as Asia/Shanghai")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput("timezone is not a time zone name such as Asia/Shanghai") from None
    return name


def _changes(body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    language = body.get("language", _UNSET)
    if language is not _UNSET:
        if language not in LANGUAGES:
            raise BadInput(f"language is one of {', '.join(LANGUAGES)}")
        changes["language"] = language
    zone_name = body.get("timezone", _UNSET)
    if zone_name is not _UNSET:
        if zone_name is not None and not isinstance(zone_name, str):
            raise BadInput("timezone must be a string or null")
        changes["timezone"] = valid_zone(zone_name) if zone_name else None
    unknown = set(body) - {"language", "timezone"}
    if unknown:
        raise BadInput(f"unknown field: {sorted(unknown)[0]}")
    if not changes:
        raise BadInput("give language or timezone")
    return changes


def _document(request: web.Request, prefs: Preferences) -> dict[str, Any]:
    shop_zone = request.config_dict[SETTINGS].handoff.business_timezone
    return {
        "language": prefs.language,
        "timezone": prefs.timezone,
        "effective_timezone": prefs.timezone or shop_zone,
    }


async def get_preferences(request: web.Request) -> web.Response:
    agent = current_agent(request)
    async with request.config_dict[SESSIONS]() as session:
        prefs = await preferences(session, agent.agent_id, request.headers.get("Accept-Language"))
    return web.json_response(_document(request, prefs))


async def set_preferences(request: web.Request) -> web.Response:
    changes = _changes(await read_json_body(request))
    agent = current_agent(request)
    async with request.config_dict[SESSIONS]() as session:
        async with session.begin():
            row = await session.get(Agent, agent.agent_id)
            if row is None:
                raise PermissionError("no such agent")
            for name, value in changes.items():
                setattr(row, name, value)
        prefs = await preferences(session, agent.agent_id, request.headers.get("Accept-Language"))
    return web.json_response(_document(request, prefs))


async def counts(session: AsyncSession, agent_id: int) -> dict[str, int]:
    """Tickets per status, and ``mine``: the unresolved ones assigned to ``agent_id``."""
    per_status = dict(
        (await session.execute(select(Ticket.status, func.count()).group_by(Ticket.status))).all()
    )
    mine = await session.scalar(
        select(func.count()).where(
            Ticket.assigned_agent_id == agent_id, Ticket.status != "resolved"
        )
    )
    return {
        "open": per_status.get("open", 0),
        "assigned": per_status.get("assigned", 0),
        "resolved": per_status.get("resolved", 0),
        "mine": mine or 0,
    }


async def get_counts(request: web.Request) -> web.Response:
    async with request.config_dict[SESSIONS]() as session:
        return web.json_response(await counts(session, current_agent(request).agent_id))


ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/me/preferences", get_preferences),
    ("POST", "/me/preferences", set_preferences),
    ("GET", "/me/counts", get_counts),
]
