"""Saved replies in the console (:mod:`bot.domain.saved_replies`): every agent reads them, in
the reply box by typing ``/`` and a code (``static/saved_replies.js``); admins write them.

Page (under ``/console``; forms carry ``csrf_token``; admins only for the forms):

- ``GET /console/saved-replies``: the list, a box to try them, and for admins forms to add, edit
  and delete (``POST /console/saved-replies``, ``POST /console/saved-replies/{id}``,
  ``POST /console/saved-replies/{id}/delete``); a refused form shows the page again with the
  reason (400), nothing changed.

API (under ``/api``; ``X-CSRF-Token`` on every change; errors as in :mod:`.errors`):

- ``GET /api/saved-replies[?language=zh]`` → ``{"saved_replies": [{"id", "code", "language",
  "text", "updated_at", "updated_by"}, ...]}`` by code, then language;
- ``POST /api/saved-replies`` ``{"code", "language", "text"}`` → 201 and the reply;
  ``PUT /api/saved-replies/{id}`` (the same fields) → the reply;
  ``DELETE /api/saved-replies/{id}`` → ``{"deleted": id}``. Admins only (403 for other agents);
  400 for a bad code (1-32 of ``a-z 0-9 _ -``), language (``vocabulary.LOCALES``) or text
  (1-4000 characters), or a code already used in that language; 404 for an unknown id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.saved_replies import (
    MAX_CODE_CHARS,
    MAX_TEXT_CHARS,
    Draft,
    InvalidSavedReply,
    SavedReplyError,
    SavedReplyNotFound,
    as_json,
    check_draft,
    check_language,
    create_saved_reply,
    delete_saved_reply,
    list_saved_replies,
    update_saved_reply,
)
from bot.web.console.errors import Handler, NotFound, json_errors
from bot.web.console.nav import navigation
from bot.web.console.security import admin_only, current_agent
from bot.web.inputs import BadInput, parse_id, read_json_body, text_parameter
from bot.web.keys import SESSIONS
from vocabulary import LOCALES

PAGE_PATH = "/console/saved-replies"

Change = Callable[[AsyncSession, int], Awaitable[Any]]


async def _run(request: web.Request, change: Change) -> Any:
    """``change(session, agent id)`` in one transaction; the domain's refusals as BadInput or
    NotFound, so that the caller's error handling answers them."""
    try:
        async with request.config_dict[SESSIONS]() as session, session.begin():
            return await change(session, current_agent(request).agent_id)
    except SavedReplyNotFound as exc:
        raise NotFound(str(exc)) from None
    except SavedReplyError as exc:
        raise BadInput(str(exc)) from None
    except IntegrityError:  # another admin stored the same code and language a moment ago
        raise BadInput("this code already has a text in this language") from None


def _draft(fields: Mapping[str, Any]) -> Draft:
    try:
        return check_draft(fields.get("code"), fields.get("language"), fields.get("text"))
    except InvalidSavedReply as exc:
        raise BadInput(str(exc)) from None


async def _replies(request: web.Request, language: str | None = None) -> list[dict[str, Any]]:
    async with request.config_dict[SESSIONS]() as session:
        return [as_json(reply) for reply in await list_saved_replies(session, language)]


# --- API -----------------------------------------------------------------------------------


async def list_api(request: web.Request) -> web.Response:
    language = text_parameter(request.query, "language")
    if language is not None:
        try:
            check_language(language)
        except InvalidSavedReply as exc:
            raise BadInput(str(exc)) from None
    return web.json_response({"saved_replies": await _replies(request, language)})


@admin_only
async def create_api(request: web.Request) -> web.Response:
    draft = _draft(await read_json_body(request))
    reply = await _run(request, lambda session, me: create_saved_reply(session, draft, me))
    return web.json_response(as_json(reply), status=201)


@admin_only
async def update_api(request: web.Request) -> web.Response:
    reply_id = parse_id(request.match_info["reply_id"], "saved reply id")
    draft = _draft(await read_json_body(request))
    reply = await _run(
        request, lambda session, me: update_saved_reply(session, reply_id, draft, me)
    )
    return web.json_response(as_json(reply))


@admin_only
async def delete_api(request: web.Request) -> web.Response:
    reply_id = parse_id(request.match_info["reply_id"], "saved reply id")
    await _run(request, lambda session, _me: delete_saved_reply(session, reply_id))
    return web.json_response({"deleted": reply_id})


# --- page ----------------------------------------------------------------------------------


async def _page(
    request: web.Request, error: str | None = None, status: int = 200, **form: Any
) -> web.Response:
    context = {
        **await navigation(request),
        "replies": await _replies(request),
        "locales": LOCALES,
        "max_code": MAX_CODE_CHARS,
        "max_text": MAX_TEXT_CHARS,
        "error": error,
        "form": form,
    }
    return aiohttp_jinja2.render_template("saved_replies.html", request, context, status=status)


async def page(request: web.Request) -> web.Response:
    return await _page(request)


def _form_fields(form: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(form.get(name) or "") for name in ("code", "language", "text")}


async def _form_change(
    request: web.Request, change: Change, fields: dict[str, str] | None = None
) -> web.Response:
    try:
        await _run(request, change)
    except BadInput as exc:
        return await _page(request, str(exc), 400, **(fields or {}))
    except NotFound as exc:
        return await _page(request, str(exc), 404)
    raise web.HTTPSeeOther(PAGE_PATH)


def _form_reply_id(request: web.Request) -> int:
    try:
        return parse_id(request.match_info["reply_id"], "saved reply id")
    except BadInput:
        raise web.HTTPNotFound() from None


@admin_only
async def create_form(request: web.Request) -> web.Response:
    fields = _form_fields(await request.post())
    try:
        draft = _draft(fields)
    except BadInput as exc:
        return await _page(request, str(exc), 400, **fields)
    return await _form_change(
        request, lambda session, me: create_saved_reply(session, draft, me), fields
    )


@admin_only
async def update_form(request: web.Request) -> web.Response:
    reply_id = _form_reply_id(request)
    fields = _form_fields(await request.post())
    try:
        draft = _draft(fields)
    except BadInput as exc:
        return await _page(request, str(exc), 400)
    return await _form_change(
        request, lambda session, me: update_saved_reply(session, reply_id, draft, me)
    )


@admin_only
async def delete_form(request: web.Request) -> web.Response:
    reply_id = _form_reply_id(request)
    return await _form_change(request, lambda session, _me: delete_saved_reply(session, reply_id))


API_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/saved-replies", list_api),
    ("POST", "/saved-replies", create_api),
    ("PUT", "/saved-replies/{reply_id}", update_api),
    ("DELETE", "/saved-replies/{reply_id}", delete_api),
]


def add_api_routes(app: web.Application) -> None:
    """The JSON routes on ``app``, the API's sub-application (mounted at ``/api``)."""
    for method, path, handler in API_ROUTES:
        app.router.add_route(method, path, json_errors(handler))


def add_page_routes(app: web.Application) -> None:
    """The page and its forms on ``app``, the console's sub-application (at ``/console``)."""
    app.router.add_get("/saved-replies", page)
    app.router.add_post("/saved-replies", create_form)
    app.router.add_post("/saved-replies/{reply_id}", update_form)
    app.router.add_post("/saved-replies/{reply_id}/delete", delete_form)
