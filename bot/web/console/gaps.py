"""Knowledge gaps in the console: what customers asked that the FAQ did not answer, grouped by
meaning (:mod:`bot.domain.knowledge_gaps`), for agents to teach the bot.

- ``GET /console/gaps?from=&to=`` (a page) and ``GET /api/gaps?from=&to=`` (JSON): the groups of
  the days ``from`` to ``to`` (ISO dates, both included; by default the last
  :data:`DEFAULT_DAYS` days), biggest first, with examples, counts, languages and the nearest FAQ
  entries;
- ``POST /console/gaps/action`` (the page's forms, ``csrf_token``) and ``POST /api/gaps/variants``,
  ``/api/gaps/entry``, ``/api/gaps/dismiss`` (JSON, ``X-CSRF-Token``), each naming the group by
  its ``key`` and range: the group's questions become questions of the entry ``entry_id``, or a
  new entry ``entry_id`` with the agent's ``answer`` (both as "Add to FAQ" does: admins only
  unless ``AGENTS_MAY_PUBLISH_FAQ``; the index is rebuilt), or the group is dismissed. Either
  way it is not shown again.

Questions are customers' text, so hostile: the page escapes them (Jinja2 autoescape) and the
API sends them as JSON strings.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from yarl import URL

from bot.domain.knowledge import KnowledgeError, rebuild_index
from bot.domain.knowledge_gaps import GapGroup, accept, dismiss, knowledge_gaps
from bot.web.console.errors import Handler, NotFound
from bot.web.console.nav import navigation
from bot.web.console.security import current_agent, may_publish_faq
from bot.web.inputs import BadInput, read_json_body, text_field
from bot.web.keys import FAQ, SESSIONS, SETTINGS
from faq_index import FaqIndexError
from faq_index.sources import MAX_TEXT_CHARS

log = logging.getLogger(__name__)

PAGE_PATH = "/console/gaps"
DEFAULT_DAYS = 30
MAX_DAYS = 366
MAX_KEY_CHARS = 500
MAX_FAQ_ID_CHARS = 128
MAX_CATEGORY_CHARS = 100
ACTIONS = ("variants", "entry", "dismiss")


def _day(value: object, name: str, default: date) -> date:
    if value is None or value == "":
        return default
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{name} is a date, YYYY-MM-DD") from None


def date_range(query: Mapping[str, Any]) -> tuple[date, date]:
    """The days ``from`` to ``to`` a request asks for; :class:`BadInput` for bad ones."""
    today = datetime.now(UTC).date()
    last = _day(query.get("to"), "to", today)
    first = _day(query.get("from"), "from", last - timedelta(days=DEFAULT_DAYS - 1))
    if first > last:
        raise BadInput("from is after to")
    if (last - first).days >= MAX_DAYS:
        raise BadInput(f"the range is at most {MAX_DAYS} days")
    return first, last


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(first, time(), UTC),
        datetime.combine(last + timedelta(days=1), time(), UTC),
    )


async def _groups(request: web.Request, first: date, last: date) -> list[GapGroup]:
    async with request.config_dict[SESSIONS]() as session:
        return await knowledge_gaps(session, request.config_dict[FAQ], *_bounds(first, last))


async def _group(request: web.Request, fields: Mapping[str, Any]) -> GapGroup:
    first, last = date_range(fields)
    key = text_field(fields, "key", MAX_KEY_CHARS)
    for found in await _groups(request, first, last):
        if found.key == key:
            return found
    raise NotFound("no such group in that range (dealt with already?)")


def _may_publish(request: web.Request) -> None:
    if not may_publish_faq(
        current_agent(request), request.config_dict[SETTINGS].web.agents_may_publish_faq
    ):
        raise PermissionError("only an admin may add to the FAQ")


async def act(request: web.Request, action: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Do ``action`` (one of :data:`ACTIONS`) to the group ``fields`` name; what was done.

    Raises:
        BadInput, NotFound, PermissionError, KnowledgeError, FaqIndexError.
    """
    if action not in ACTIONS:
        raise BadInput(f"action is one of {', '.join(ACTIONS)}")
    agent = current_agent(request)
    if action != "dismiss":
        _may_publish(request)
    found = await _group(request, fields)
    if action == "dismiss":
        async with request.config_dict[SESSIONS]() as session, session.begin():
            await dismiss(session, found.key, found.central.text, agent.agent_id)
        log.info("knowledge gap dismissed by %s", agent.username)
        return {"key": found.key, "dismissed": True}
    entry_id = (text_field(fields, "entry_id", MAX_FAQ_ID_CHARS) or "").strip()
    answer = None
    category = None
    if action == "entry":
        answer = text_field(fields, "answer", MAX_TEXT_CHARS) or ""
        if not answer.strip():
            raise KnowledgeError("a new entry needs an answer")
        category = (text_field(fields, "category", MAX_CATEGORY_CHARS, False) or "").strip()
    sources = [request.config_dict[SETTINGS].web.faq_sources]
    async with request.config_dict[SESSIONS]() as session, session.begin():
        added = await accept(
            session, sources, found, entry_id, agent.agent_id, answer, category or None
        )
    result = await rebuild_index(request.config_dict[SESSIONS], sources)
    return {
        "key": found.key,
        "entry_id": entry_id,
        "added": [row.question for row in added],
        "version": result.version,
    }


@aiohttp_jinja2.template("gaps.html")
async def page(request: web.Request) -> dict[str, Any]:
    """GET /console/gaps: the groups of the range, with their actions."""
    try:
        first, last = date_range(request.query)
    except BadInput as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    try:
        groups = [found.summary() for found in await _groups(request, first, last)]
        unavailable = None
    except FaqIndexError as exc:
        groups, unavailable = [], str(exc)
    agent = current_agent(request)
    return {
        **await navigation(request),
        "groups": groups,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "unavailable": unavailable,
        "may_publish_faq": may_publish_faq(
            agent, request.config_dict[SETTINGS].web.agents_may_publish_faq
        ),
    }


async def action_form(request: web.Request) -> web.Response:
    """POST /console/gaps/action: do it, then back to the page of the same range (303)."""
    form = await request.post()
    fields = {name: value for name, value in form.items() if isinstance(value, str)}
    try:
        await act(request, fields.get("action", ""), fields)
    except (BadInput, KnowledgeError) as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    except NotFound as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    except PermissionError as exc:
        raise web.HTTPForbidden(text=str(exc)) from None
    except FaqIndexError as exc:
        raise web.HTTPServiceUnavailable(text=f"the FAQ index is not available: {exc}") from None
    back = URL(PAGE_PATH).with_query({"from": fields.get("from", ""), "to": fields.get("to", "")})
    raise web.HTTPSeeOther(str(back))


async def list_api(request: web.Request) -> web.Response:
    """GET /api/gaps: ``{"from", "to", "groups": [...]}``, biggest group first."""
    first, last = date_range(request.query)
    groups = await _groups(request, first, last)
    return web.json_response(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "groups": [found.summary() for found in groups],
        }
    )


def _api(action: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        body = await read_json_body(request)
        done = await act(request, action, body)
        return web.json_response(done, status=200 if action == "dismiss" else 201)

    handler.__name__ = f"gaps_{action}"
    handler.__doc__ = f"POST /api/gaps/{action}: see :func:`act`."
    return handler


variants_api = _api("variants")
entry_api = _api("entry")
dismiss_api = _api("dismiss")
