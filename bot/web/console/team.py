"""The team: who is online or away, how many tickets each holds; an agent's own status; for
admins, the switch of automatic assignment (:mod:`bot.domain.assignment`).

Pages (under ``/console``; forms carry ``csrf_token``):

- ``GET /console/team``: every active agent with their status, whether their console is open,
  their unresolved tickets and when they were last seen; the signed-in agent's status switch;
  for admins, the automatic-assignment switch;
- ``POST /console/team/status`` (``status``: ``online`` or ``away``) and, admins only,
  ``POST /console/team/auto-assign`` (``enabled``: ``on`` or ``off``), which come back to the page.

API (under ``/api``; ``X-CSRF-Token`` on every POST; errors as in :mod:`.errors`):

- ``GET /api/me/status`` → ``{"status": "online"}``; ``POST /api/me/status``
  ``{"status": "away"}`` → ``{"status": "away"}`` (400 for any other status, nothing changed);
- ``GET /api/team`` → ``{"agents": [...], "auto_assign": true, "ticket_limit": 5}``;
- ``GET /api/options/auto-assign`` → ``{"enabled": true}``; ``POST /api/options/auto-assign``
  ``{"enabled": false}``, admins only (403 for other agents, nothing changed).

A status change is published on the bus (``agent``: ``{"id", "status"}``) for open pages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.console_options import auto_assign_enabled, set_auto_assign
from bot.domain.presence import UnknownStatus, get_status, parse_status, set_status
from bot.settings import HandoffSettings
from bot.store.models import Agent, AgentStatus, Ticket, TicketStatus
from bot.web.console.errors import Handler, json_errors
from bot.web.console.nav import navigation
from bot.web.console.security import admin_only, current_agent
from bot.web.inputs import BadInput, read_json_body
from bot.web.keys import BUS, SESSIONS, SETTINGS

PAGE_PATH = "/console/team"
SWITCH_VALUES = {"on": True, "off": False}


def _readable(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


async def team_rows(
    session: AsyncSession, handoff: HandoffSettings, me: int
) -> list[dict[str, Any]]:
    """Every active agent, by name: status, console open, unresolved tickets, last seen."""
    unresolved = (Ticket.assigned_agent_id == Agent.id) & (
        Ticket.status != TicketStatus.RESOLVED.value
    )
    rows = await session.execute(
        select(Agent, func.count(Ticket.id))
        .outerjoin(Ticket, unresolved)
        .where(Agent.active.is_(True))
        .group_by(Agent.id)
        .order_by(Agent.display_name, Agent.id)
    )
    since = datetime.now(UTC) - timedelta(seconds=handoff.agent_online_seconds)
    team = []
    for agent, tickets in rows.tuples():
        console_open = agent.last_seen_at is not None and agent.last_seen_at >= since
        team.append(
            {
                "id": agent.id,
                "name": agent.display_name,
                "role": agent.role,
                "status": agent.status,
                "console_open": console_open,
                "online": console_open and agent.status == AgentStatus.ONLINE.value,
                "open_tickets": tickets,
                "last_seen_at": agent.last_seen_at.isoformat() if agent.last_seen_at else None,
                "last_seen_text": _readable(agent.last_seen_at),
                "me": agent.id == me,
            }
        )
    return team


async def _team(request: web.Request) -> dict[str, Any]:
    handoff = request.config_dict[SETTINGS].handoff
    async with request.config_dict[SESSIONS]() as session:
        return {
            "agents": await team_rows(session, handoff, current_agent(request).agent_id),
            "auto_assign": await auto_assign_enabled(session, handoff.auto_assign),
            "ticket_limit": handoff.agent_ticket_limit,
        }


async def _set_my_status(request: web.Request, value: object) -> AgentStatus:
    try:
        status = parse_status(value)
    except UnknownStatus as exc:
        raise BadInput(str(exc)) from None
    agent_id = current_agent(request).agent_id
    async with request.config_dict[SESSIONS]() as session, session.begin():
        await set_status(session, agent_id, status)
    request.config_dict[BUS].publish("agent", {"id": agent_id, "status": status.value})
    return status


async def _store_auto_assign(request: web.Request, enabled: bool) -> bool:
    async with request.config_dict[SESSIONS]() as session, session.begin():
        return await set_auto_assign(session, enabled, current_agent(request).agent_id)


async def _switch_auto_assign(request: web.Request, enabled: bool) -> bool:
    try:
        return await _store_auto_assign(request, enabled)
    except IntegrityError:  # another admin stored the switch's first row a moment ago
        return await _store_auto_assign(request, enabled)


# --- pages ---------------------------------------------------------------------------------


@aiohttp_jinja2.template("team.html")
async def page(request: web.Request) -> dict[str, Any]:
    return {**await navigation(request), **await _team(request)}


async def status_form(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await _set_my_status(request, form.get("status"))
    except BadInput as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    raise web.HTTPSeeOther(PAGE_PATH)


@admin_only
async def auto_assign_form(request: web.Request) -> web.Response:
    form = await request.post()
    enabled = SWITCH_VALUES.get(str(form.get("enabled")))
    if enabled is None:
        raise web.HTTPBadRequest(text="enabled is on or off")
    await _switch_auto_assign(request, enabled)
    raise web.HTTPSeeOther(PAGE_PATH)


# --- API -----------------------------------------------------------------------------------


async def my_status_api(request: web.Request) -> web.Response:
    async with request.config_dict[SESSIONS]() as session:
        status = await get_status(session, current_agent(request).agent_id)
    return web.json_response({"status": status.value})


async def set_my_status_api(request: web.Request) -> web.Response:
    body = await read_json_body(request)
    status = await _set_my_status(request, body.get("status"))
    return web.json_response({"status": status.value})


async def team_api(request: web.Request) -> web.Response:
    return web.json_response(await _team(request))


async def auto_assign_api(request: web.Request) -> web.Response:
    async with request.config_dict[SESSIONS]() as session:
        enabled = await auto_assign_enabled(
            session, request.config_dict[SETTINGS].handoff.auto_assign
        )
    return web.json_response({"enabled": enabled})


@admin_only
async def set_auto_assign_api(request: web.Request) -> web.Response:
    body = await read_json_body(request)
    enabled = body.get("enabled")
    if not isinstance(enabled, bool):
        raise BadInput("enabled must be true or false")
    return web.json_response({"enabled": await _switch_auto_assign(request, enabled)})


API_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/me/status", my_status_api),
    ("POST", "/me/status", set_my_status_api),
    ("GET", "/team", team_api),
    ("GET", "/options/auto-assign", auto_assign_api),
    ("POST", "/options/auto-assign", set_auto_assign_api),
]


def add_api_routes(app: web.Application) -> None:
    """The JSON routes on ``app``, the API's sub-application (mounted at ``/api``)."""
    for method, path, handler in API_ROUTES:
        app.router.add_route(method, path, json_errors(handler))


def add_page_routes(app: web.Application) -> None:
    """The page and its forms on ``app``, the console's sub-application (at ``/console``)."""
    app.router.add_get("/team", page)
    app.router.add_post("/team/status", status_form)
    app.router.add_post("/team/auto-assign", auto_assign_form)
