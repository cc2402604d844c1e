"""Dead letters in the console: the events ingestion set aside (see :mod:`bot.workers.deadletters`),
for admins to see and discard.

- ``GET /console/dead-letters`` (a page) and ``GET /api/dead-letters`` (JSON) list them newest
  first, in pages (``limit``, default 50, at most 200, and ``cursor``, as the queue does): when,
  the source, the conversation it came from when known, the reason and a preview of the
  payload, contacts masked (:func:`bot.domain.redaction.redact`) and cut to :data:`PREVIEW_CHARS`;
- ``POST /console/dead-letters/{id}/discard`` (the page's form, ``csrf_token``) and
  ``POST /api/dead-letters/{id}/discard`` (``X-CSRF-Token``) delete one an admin dealt with.

Admins only: other agents get 403. Payloads are customers' text, so hostile: the page escapes
them (Jinja2 autoescape) and the API sends them as JSON strings.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from yarl import URL

from bot.domain.redaction import redact
from bot.store.models import DeadLetter
from bot.web.console.errors import NotFound
from bot.web.console.nav import navigation
from bot.web.console.security import admin_only, current_agent
from bot.web.console.views import Cursor, page_request
from bot.web.inputs import BadInput, parse_id
from bot.web.keys import SESSIONS
from bot.workers.deadletters import count_dead_letters, discard_dead_letter, newest_dead_letters

log = logging.getLogger(__name__)

PAGE_PATH = "/console/dead-letters"
PREVIEW_CHARS = 200
REASON_CHARS = 300


@dataclass
class DeadLetterPage:
    letters: list[dict[str, Any]]
    next_cursor: str | None
    total: int


def preview(text: str | None, limit: int = PREVIEW_CHARS) -> str:
    """``text`` as an admin sees it in a list: contacts masked, each run of white space one
    space, at most ``limit`` characters (the last one "…" when cut).

    >>> preview('{"text": "mail me: li@example.com\\n\\nthanks"}', 30)
    '{"text": "mail me: [email] th…'
    """
    shown = " ".join((redact(text) or "").split())
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def summary(letter: DeadLetter) -> dict[str, Any]:
    """One dead letter, as the page and the API show it."""
    return {
        "id": letter.id,
        "created_at": letter.created_at.isoformat(),
        "source": letter.source,
        "conversation": letter.sender_id,
        "reason": preview(letter.reason, REASON_CHARS),
        "preview": preview(letter.data),
    }


async def dead_letter_page(request: web.Request) -> DeadLetterPage:
    """The page of dead letters the query asks for; :class:`BadInput` for a bad query."""
    limit, after = page_request(request.query)
    position = (after.created_at, after.row_id) if after else None
    async with request.config_dict[SESSIONS]() as session:
        rows = await newest_dead_letters(session, limit + 1, position)
        total = await count_dead_letters(session)
    letters = [summary(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = Cursor(last.created_at, last.id).encode()
    return DeadLetterPage(letters, next_cursor, total)


@admin_only
@aiohttp_jinja2.template("dead_letters.html")
async def page(request: web.Request) -> dict[str, Any]:
    """GET /console/dead-letters: a page of dead letters, with their discard buttons."""
    try:
        found = await dead_letter_page(request)
    except BadInput as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    here = request.rel_url
    return {
        **await navigation(request),
        "letters": found.letters,
        "total": found.total,
        "cursor": request.query.get("cursor", ""),
        "older": str(here.update_query(cursor=found.next_cursor)) if found.next_cursor else None,
        "newest": str(here.without_query_params("cursor")) if "cursor" in request.query else None,
    }


async def _discard(request: web.Request) -> int:
    """Delete the dead letter the URL names; its id. :class:`NotFound` when there is none."""
    letter_id = parse_id(request.match_info["letter_id"], "dead letter id")
    async with request.config_dict[SESSIONS]() as session, session.begin():
        if not await discard_dead_letter(session, letter_id):
            raise NotFound(f"no dead letter {letter_id}")
    log.info("dead letter %d discarded by %s", letter_id, current_agent(request).username)
    return letter_id


@admin_only
async def discard_form(request: web.Request) -> web.Response:
    """POST /console/dead-letters/{id}/discard: back to the same page of the list (303)."""
    try:
        await _discard(request)
    except (BadInput, NotFound):
        raise web.HTTPNotFound(text="no such dead letter") from None
    back = URL(PAGE_PATH)
    cursor = (await request.post()).get("cursor")
    if isinstance(cursor, str) and cursor:
        with contextlib.suppress(BadInput):  # a bad one: the first page, then
            back = back.with_query(cursor=Cursor.decode(cursor).encode())
    raise web.HTTPSeeOther(str(back))


@admin_only
async def list_api(request: web.Request) -> web.Response:
    """GET /api/dead-letters: a page of dead letters, the next page's URL and the total."""
    found = await dead_letter_page(request)
    following = None
    if found.next_cursor:
        following = str(request.rel_url.update_query(cursor=found.next_cursor))
    return web.json_response(
        {
            "dead_letters": found.letters,
            "next_cursor": found.next_cursor,
            "next": following,
            "total": found.total,
        }
    )


@admin_only
async def discard_api(request: web.Request) -> web.Response:
    """POST /api/dead-letters/{id}/discard: ``{"discarded": id}``; 404 when there is none."""
    return web.json_response({"discarded": await _discard(request)})
