"""The console's JSON API, for the console's own pages, integrations and tests.

Same sign-in as the pages (session cookie; ``X-CSRF-Token`` on every change). Errors are JSON:
``{"error": "..."}`` with 400 (bad input), 401 (not signed in), 403 (not allowed), 404, 409
(the ticket's state forbids it).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import web

from bot.auth import AuthError, TooManyAttempts, sign_in, sign_out
from bot.console.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    admin_only,
    current_agent,
)
from bot.console.views import STATUSES, active_agents, ticket_detail, ticket_list
from bot.escalations import Actor, TicketError, add_note, assign, claim, reopen, reply, resolve
from bot.keys import BUS, DELIVERY, FAQ, SESSIONS, SETTINGS
from bot.knowledge import Addition, KnowledgeError, add_to_faq, rebuild_index
from bot.models import Customer
from bot.privacy import export_customer
from bot.profiles import profile_document
from faq_index import FaqIndexError, QueryError

MAX_BODY_BYTES = 64 * 1024


def _error(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=json.dumps({"error": message}), content_type="application/json")


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        raise _error(web.HTTPRequestEntityTooLarge, "the request body is too large")
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise _error(web.HTTPBadRequest, "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise _error(web.HTTPBadRequest, "the body must be a JSON object")
    return body


def _int(value: str | None, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise _error(web.HTTPBadRequest, f"{name} must be a whole number") from None


def _actor(request: web.Request) -> Actor:
    agent = current_agent(request)
    return Actor(agent.agent_id, agent.display_name, agent.role)


def _set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str):
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="Strict",
        secure=request.app[SETTINGS].cookie_secure,
        path="/",
    )


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    _set_cookie(response, request, SESSION_COOKIE, token)


def set_login_csrf_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    """The sign-in form's CSRF token, in a cookie of its own (there is no session yet)."""
    _set_cookie(response, request, LOGIN_CSRF_COOKIE, token)


async def login_token(request: web.Request) -> web.Response:
    """GET /api/login: a CSRF token (and its cookie) for the sign-in call."""
    token = secrets.token_urlsafe(32)
    response = web.json_response({"csrf_token": token})
    set_login_csrf_cookie(response, request, token)
    return response


async def login(request: web.Request) -> web.Response:
    """POST /api/login {username, password}: a session cookie and the session's CSRF token."""
    body = await _body(request)
    try:
        async with request.app[SESSIONS]() as session:
            token, agent = await sign_in(
                session,
                str(body.get("username", "")),
                str(body.get("password", "")),
                request.remote or "unknown",
            )
    except TooManyAttempts as exc:
        raise _error(web.HTTPTooManyRequests, str(exc)) from None
    except AuthError as exc:
        raise _error(web.HTTPUnauthorized, str(exc)) from None
    response = web.json_response(
        {
            "csrf_token": agent.csrf_token,
            "agent": {"username": agent.username, "name": agent.display_name, "role": agent.role},
        }
    )
    set_session_cookie(response, request, token)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


async def logout(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session, session.begin():
        await sign_out(session, request.cookies.get(SESSION_COOKIE))
    response = web.json_response({"signed_out": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def list_tickets(request: web.Request) -> web.Response:
    query = request.query
    status = query.get("status") or None
    if status not in (None, "active", *STATUSES):
        raise _error(web.HTTPBadRequest, f"status is one of active, {', '.join(STATUSES)}")
    async with request.app[SESSIONS]() as session:
        tickets = await ticket_list(
            session,
            status=status,
            channel=query.get("channel") or None,
            reason=query.get("reason") or None,
            max_age_minutes=_int(query.get("age"), "age"),
        )
    return web.json_response({"tickets": tickets})


async def get_ticket(request: web.Request) -> web.Response:
    ticket_id = _int(request.match_info["ticket_id"], "ticket id")
    async with request.app[SESSIONS]() as session:
        detail = await ticket_detail(session, ticket_id)
    if detail is None:
        raise _error(web.HTTPNotFound, f"no ticket {ticket_id}")
    return web.json_response(detail)


async def _change(request: web.Request, operation, *args) -> web.Response:
    """Run a ticket operation in one transaction, tell live pages, answer with the ticket."""
    ticket_id = _int(request.match_info["ticket_id"], "ticket id")
    try:
        async with request.app[SESSIONS]() as session, session.begin():
            await operation(session, ticket_id, *args, _actor(request))
    except PermissionError as exc:
        raise _error(web.HTTPForbidden, str(exc)) from None
    except TicketError as exc:
        status = web.HTTPNotFound if str(exc).startswith("no ticket") else web.HTTPConflict
        raise _error(status, str(exc)) from None
    request.app[BUS].publish("ticket", {"id": ticket_id, "change": operation.__name__})
    request.app[DELIVERY].wake()
    return await get_ticket(request)


async def claim_ticket(request: web.Request) -> web.Response:
    return await _change(request, claim)


async def reply_ticket(request: web.Request) -> web.Response:
    body = await _body(request)
    return await _change(request, reply, str(body.get("text", "")))


async def resolve_ticket(request: web.Request) -> web.Response:
    body = await _body(request)
    return await _change(request, resolve, str(body.get("note") or ""))


async def reopen_ticket(request: web.Request) -> web.Response:
    return await _change(request, reopen)


@admin_only
async def assign_ticket(request: web.Request) -> web.Response:
    body = await _body(request)
    agent_id = body.get("agent_id")
    if not isinstance(agent_id, int):
        raise _error(web.HTTPBadRequest, "agent_id must be a number")
    return await _change(request, assign, agent_id)


async def list_agents(request: web.Request) -> web.Response:
    """GET /api/agents: the active agents, to assign tickets to."""
    async with request.app[SESSIONS]() as session:
        return web.json_response({"agents": await active_agents(session)})


async def note_ticket(request: web.Request) -> web.Response:
    body = await _body(request)
    return await _change(request, add_note, str(body.get("text", "")))


async def _customer(session, request: web.Request) -> Customer:
    customer_id = _int(request.match_info["customer_id"], "customer id")
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise _error(web.HTTPNotFound, f"no customer {customer_id}")
    return customer


async def get_customer(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session:
        customer = await _customer(session, request)
        return web.json_response(await profile_document(session, customer))


@admin_only
async def export_customer_data(request: web.Request) -> web.Response:
    async with request.app[SESSIONS]() as session:
        customer = await _customer(session, request)
        document = await export_customer(session, customer)
    return web.json_response(
        document,
        headers={"Content-Disposition": f'attachment; filename="customer-{customer.id}.json"'},
    )


async def faq_search(request: web.Request) -> web.Response:
    """GET /api/faq/search?q=...: entries to insert into a reply."""
    try:
        results = await request.app[FAQ].search(request.query.get("q", ""))
    except QueryError as exc:
        raise _error(web.HTTPBadRequest, str(exc)) from None
    except FaqIndexError as exc:
        raise _error(web.HTTPServiceUnavailable, f"the FAQ index is not available: {exc}") from None
    return web.json_response({"results": results})


async def add_faq(request: web.Request) -> web.Response:
    """POST /api/faq: teach the bot an agent's answer (a new entry or a new question for one),
    then rebuild the index; the bot answers with it within a few seconds."""
    body = await _body(request)
    addition = Addition(
        kind=str(body.get("kind", "")),
        entry_id=str(body.get("entry_id", "")).strip(),
        language=str(body.get("language", "")),
        question=str(body.get("question", "")),
        answer=str(body["answer"]) if body.get("answer") is not None else None,
        category=str(body["category"]).strip() if body.get("category") else None,
    )
    ticket_id = body.get("ticket_id")
    if ticket_id is not None and not isinstance(ticket_id, int):
        raise _error(web.HTTPBadRequest, "ticket_id must be a number")
    sources = [request.app[SETTINGS].faq_sources]
    try:
        async with request.app[SESSIONS]() as session, session.begin():
            row = await add_to_faq(
                session, sources, addition, current_agent(request).agent_id, ticket_id
            )
    except KnowledgeError as exc:
        raise _error(web.HTTPBadRequest, str(exc)) from None
    result = await rebuild_index(request.app[SESSIONS], sources)
    return web.json_response(
        {"id": row.id, "entry_id": row.entry_id, "kind": row.kind, "version": result.version},
        status=201,
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/login", login_token)
    app.router.add_post("/api/login", login)
    app.router.add_post("/api/logout", logout)
    app.router.add_get("/api/tickets", list_tickets)
    app.router.add_get("/api/tickets/{ticket_id}", get_ticket)
    app.router.add_post("/api/tickets/{ticket_id}/claim", claim_ticket)
    app.router.add_post("/api/tickets/{ticket_id}/reply", reply_ticket)
    app.router.add_post("/api/tickets/{ticket_id}/resolve", resolve_ticket)
    app.router.add_post("/api/tickets/{ticket_id}/reopen", reopen_ticket)
    app.router.add_post("/api/tickets/{ticket_id}/assign", assign_ticket)
    app.router.add_post("/api/tickets/{ticket_id}/notes", note_ticket)
    app.router.add_get("/api/agents", list_agents)
    app.router.add_get("/api/faq/search", faq_search)
    app.router.add_post("/api/faq", add_faq)
    app.router.add_get("/api/customers/{customer_id}", get_customer)
    app.router.add_get("/api/customers/{customer_id}/export", export_customer_data)
