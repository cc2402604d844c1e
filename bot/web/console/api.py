"""The console's JSON API, for the console's own pages, integrations and tests.

A sub-application mounted at ``/api`` (:func:`bot.web.console.create_agent_api`), with the same
sign-in as the pages (session cookie; ``X-CSRF-Token`` on every change, see
:mod:`bot.web.console.security`). Errors are JSON: ``{"error": "..."}`` with 400 (bad input),
401 (not signed in), 403 (not allowed), 404, 409 (the ticket's state forbids it), 413 (body over
64 kB), 429 (too many failed sign-ins) and 503 (the FAQ index is not available). Handlers raise named exceptions, which
:func:`bot.web.console.errors.json_errors` (wrapped around every route) turns into these answers.
Bad input is refused before anything is stored (see :mod:`bot.web.inputs`).

``GET /api/tickets`` comes in pages: ``limit`` (default 50, at most 200) and ``cursor`` (from
the previous page's ``next_cursor``); ``next`` is the URL of the next page, ``null`` on the last.
So does ``GET /api/dead-letters`` (admins only, see :mod:`bot.web.console.dead_letters`).
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from bot.domain.auth import sign_in, sign_out
from bot.domain.knowledge import Addition, add_to_faq, rebuild_index
from bot.domain.mail.continuation import MailOptions
from bot.domain.mail.follow_up import follow_by_mail
from bot.domain.privacy import export_customer
from bot.domain.profiles import profile_document
from bot.domain.tickets import (
    MAX_NOTE_CHARS,
    MAX_REPLY_CHARS,
    Actor,
    add_note,
    assign,
    claim,
    reopen,
    reply,
    resolve,
)
from bot.store.models import Customer, Ticket
from bot.web.console import dead_letters, exports, gaps, insights, preferences
from bot.web.console.attention import mark_read
from bot.web.console.errors import Handler, NotFound, json_errors
from bot.web.console.preferences import remember_browser_language
from bot.web.console.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    admin_only,
    allow_anonymous,
    current_agent,
    may_publish_faq,
)
from bot.web.console.views import (
    active_agents,
    query_filters,
    queue_request,
    ticket_detail,
    ticket_page,
)
from bot.web.inputs import (
    BadInput,
    id_field,
    parse_id,
    read_json_body,
    text_field,
    text_parameter,
)
from bot.web.keys import BUS, DELIVERY, FAQ, SESSIONS, SETTINGS
from faq_index.sources import MAX_TEXT_CHARS
from vocabulary import LOCALES

# Longer sign-in fields are wrong anyway; bot.domain.auth says so without hashing them.
MAX_CREDENTIAL_CHARS = 4096
MAX_FAQ_ID_CHARS = 128
MAX_CATEGORY_CHARS = 100


def _actor(request: web.Request) -> Actor:
    agent = current_agent(request)
    return Actor(agent.agent_id, agent.display_name, agent.role)


def _set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str):
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="Strict",
        secure=request.config_dict[SETTINGS].web.cookie_secure,
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
    body = await read_json_body(request)
    username = text_field(body, "username", MAX_CREDENTIAL_CHARS)
    password = text_field(body, "password", MAX_CREDENTIAL_CHARS)
    async with request.config_dict[SESSIONS]() as session:
        token, agent = await sign_in(session, username, password, request.remote or "unknown")
        await remember_browser_language(
            session, agent.agent_id, request.headers.get("Accept-Language")
        )
        await session.commit()
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
    async with request.config_dict[SESSIONS]() as session, session.begin():
        await sign_out(session, request.cookies.get(SESSION_COOKIE))
    response = web.json_response({"signed_out": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def list_tickets(request: web.Request) -> web.Response:
    """GET /api/tickets: a page of tickets, the next page's URL and the totals per status
    (``order=attention`` for what needs an agent first, ``mine=1`` for the caller's)."""
    agent_id = current_agent(request).agent_id
    filters = query_filters(request.query, agent_id=agent_id)
    order, limit, after = queue_request(request.query, default_order="newest")
    async with request.config_dict[SESSIONS]() as session:
        page = await ticket_page(
            session,
            filters,
            limit,
            after,
            order=order,
            agent_id=agent_id,
            target=request.config_dict[SETTINGS].handoff.first_response_target,
        )
    following = None
    if page.next_cursor:
        following = str(request.rel_url.update_query(cursor=page.next_cursor))
    return web.json_response(
        {
            "tickets": page.tickets,
            "next_cursor": page.next_cursor,
            "next": following,
            "total": page.total,
            "totals": page.totals,
        }
    )


async def get_ticket(request: web.Request) -> web.Response:
    ticket_id = parse_id(request.match_info["ticket_id"], "ticket id")
    async with request.config_dict[SESSIONS]() as session:
        detail = await ticket_detail(
            session,
            ticket_id,
            current_agent(request).agent_id,
            request.config_dict[SETTINGS].handoff.first_response_target,
        )
    if detail is None:
        raise NotFound(f"no ticket {ticket_id}")
    return web.json_response(detail)


async def _change(request: web.Request, operation, *args, change: str = "") -> web.Response:
    """Run a ticket operation in one transaction, tell live pages (``change``: what changed,
    else the operation's name), answer with the ticket."""
    ticket_id = parse_id(request.match_info["ticket_id"], "ticket id")
    async with request.config_dict[SESSIONS]() as session, session.begin():
        await operation(session, ticket_id, *args, _actor(request))
    change = change or operation.__name__
    request.config_dict[BUS].publish("ticket", {"id": ticket_id, "change": change})
    request.config_dict[DELIVERY].wake()
    return await get_ticket(request)


async def claim_ticket(request: web.Request) -> web.Response:
    return await _change(request, claim)


async def reply_ticket(request: web.Request) -> web.Response:
    """The reply goes to the customer's chat and, unless they see it there in time, by e-mail
    (:mod:`bot.domain.mail.follow_up`)."""
    body = await read_json_body(request)
    options = MailOptions.from_settings(request.config_dict[SETTINGS].mail)

    async def reply_and_follow(session, ticket_id: int, text: str, actor: Actor) -> None:
        message = await reply(session, ticket_id, text, actor)
        await follow_by_mail(session, options, message, message.created_at)

    text = text_field(body, "text", MAX_REPLY_CHARS)
    return await _change(request, reply_and_follow, text, change="reply")


async def resolve_ticket(request: web.Request) -> web.Response:
    body = await read_json_body(request)
    note = text_field(body, "note", MAX_NOTE_CHARS, required=False)
    return await _change(request, resolve, note or "")


async def read_ticket(request: web.Request) -> web.Response:
    """POST /api/tickets/{id}/read: the caller has seen the ticket as it is now."""
    ticket_id = parse_id(request.match_info["ticket_id"], "ticket id")
    async with request.config_dict[SESSIONS]() as session, session.begin():
        if await session.get(Ticket, ticket_id) is None:
            raise NotFound(f"no ticket {ticket_id}")
        await mark_read(session, current_agent(request).agent_id, ticket_id)
    return web.json_response({"id": ticket_id, "unread": False})


async def reopen_ticket(request: web.Request) -> web.Response:
    return await _change(request, reopen)


@admin_only
async def assign_ticket(request: web.Request) -> web.Response:
    body = await read_json_body(request)
    return await _change(request, assign, id_field(body, "agent_id"))


async def list_agents(request: web.Request) -> web.Response:
    """GET /api/agents: the active agents, to assign tickets to."""
    async with request.config_dict[SESSIONS]() as session:
        return web.json_response({"agents": await active_agents(session)})


async def note_ticket(request: web.Request) -> web.Response:
    body = await read_json_body(request)
    return await _change(request, add_note, text_field(body, "text", MAX_NOTE_CHARS))


async def _customer(session, request: web.Request) -> Customer:
    customer_id = parse_id(request.match_info["customer_id"], "customer id")
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


async def get_customer(request: web.Request) -> web.Response:
    async with request.config_dict[SESSIONS]() as session:
        customer = await _customer(session, request)
        return web.json_response(await profile_document(session, customer))


@admin_only
async def export_customer_data(request: web.Request) -> web.Response:
    async with request.config_dict[SESSIONS]() as session:
        customer = await _customer(session, request)
        document = await export_customer(session, customer)
    return web.json_response(
        document,
        headers={"Content-Disposition": f'attachment; filename="customer-{customer.id}.json"'},
    )


async def faq_search(request: web.Request) -> web.Response:
    """GET /api/faq/search?q=...[&locale=zh-TW]: entries to insert into a reply, Chinese ones
    in the customer's locale."""
    lookup = request.config_dict[FAQ]
    query = text_parameter(request.query, "q", lookup.max_query_chars)
    if query is None or not query.strip():
        raise BadInput("q is empty: say what to search for")
    locale = request.query.get("locale")
    if locale not in (None, "", *LOCALES):
        raise BadInput(f"locale is one of {', '.join(LOCALES)}")
    return web.json_response({"results": await lookup.search(query, locale=locale or None)})


def _may_publish(request: web.Request) -> None:
    if not may_publish_faq(
        current_agent(request), request.config_dict[SETTINGS].web.agents_may_publish_faq
    ):
        raise PermissionError("only an admin may add to the FAQ")


def _addition(body: dict[str, Any]) -> Addition:
    category = text_field(body, "category", MAX_CATEGORY_CHARS, required=False)
    return Addition(
        kind=text_field(body, "kind", 16),
        entry_id=text_field(body, "entry_id", MAX_FAQ_ID_CHARS).strip(),
        language=text_field(body, "language", 8),
        question=text_field(body, "question", MAX_TEXT_CHARS),
        answer=text_field(body, "answer", MAX_TEXT_CHARS, required=False),
        category=(category.strip() or None) if category else None,
    )


async def add_faq(request: web.Request) -> web.Response:
    """POST /api/faq: teach the bot an agent's answer (a new entry or a new question for one),
    then rebuild the index; the bot answers with it within a few seconds."""
    _may_publish(request)
    body = await read_json_body(request)
    addition = _addition(body)
    ticket_id = id_field(body, "ticket_id", required=False)
    sources = [request.config_dict[SETTINGS].web.faq_sources]
    async with request.config_dict[SESSIONS]() as session, session.begin():
        if ticket_id is not None and await session.get(Ticket, ticket_id) is None:
            raise BadInput(f"no ticket {ticket_id}")
        row = await add_to_faq(
            session, sources, addition, current_agent(request).agent_id, ticket_id
        )
    result = await rebuild_index(request.config_dict[SESSIONS], sources)
    return web.json_response(
        {"id": row.id, "entry_id": row.entry_id, "kind": row.kind, "version": result.version},
        status=201,
    )


# Paths under the API's mount point, /api. Anyone may sign in; everything else is for agents.
SIGN_IN_ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/login", login_token),
    ("POST", "/login", login),
]
ROUTES: list[tuple[str, str, Handler]] = [
    ("POST", "/logout", logout),
    ("GET", "/tickets", list_tickets),
    ("GET", "/tickets/{ticket_id}", get_ticket),
    ("POST", "/tickets/{ticket_id}/claim", claim_ticket),
    ("POST", "/tickets/{ticket_id}/reply", reply_ticket),
    ("POST", "/tickets/{ticket_id}/resolve", resolve_ticket),
    ("POST", "/tickets/{ticket_id}/reopen", reopen_ticket),
    ("POST", "/tickets/{ticket_id}/assign", assign_ticket),
    ("POST", "/tickets/{ticket_id}/notes", note_ticket),
    ("POST", "/tickets/{ticket_id}/read", read_ticket),
    ("GET", "/agents", list_agents),
    ("GET", "/faq/search", faq_search),
    ("POST", "/faq", add_faq),
    ("GET", "/customers/{customer_id}", get_customer),
    ("GET", "/customers/{customer_id}/export", export_customer_data),
    ("GET", "/dead-letters", dead_letters.list_api),
    ("POST", "/dead-letters/{letter_id}/discard", dead_letters.discard_api),
    ("GET", "/insights", insights.api),
    ("GET", "/gaps", gaps.list_api),
    ("POST", "/gaps/variants", gaps.variants_api),
    ("POST", "/gaps/entry", gaps.entry_api),
    ("POST", "/gaps/dismiss", gaps.dismiss_api),
    *preferences.ROUTES,
]


def add_routes(app: web.Application) -> None:
    """The routes on ``app``, the API's sub-application, each wrapped in
    :func:`~bot.web.console.errors.json_errors`; only :data:`SIGN_IN_ROUTES` are open to anyone."""
    for method, path, handler in SIGN_IN_ROUTES:
        allow_anonymous(app, app.router.add_route(method, path, json_errors(handler)))
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, json_errors(handler))
    exports.add_routes(app)
