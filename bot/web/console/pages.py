"""The console's server-rendered pages: sign-in, the queue, a ticket with its conversation,
and for admins the dead letters (:mod:`bot.web.console.dead_letters`).

Templates escape everything (Jinja2 autoescape); the pages' script only inserts text. Bad input
gets a plain 400 (a filter), 404 (a ticket id) or the sign-in form's own error, never a 500.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import aiohttp_jinja2
from aiohttp import web

from bot.domain.auth import MAX_USERNAME_LENGTH, AuthError, TooManyAttempts, sign_in, sign_out
from bot.web.console import dashboard, dead_letters, gaps, live
from bot.web.console.api import set_login_csrf_cookie, set_session_cookie
from bot.web.console.attention import mark_read
from bot.web.console.nav import anonymous_context, navigation
from bot.web.console.preferences import remember_browser_language
from bot.web.console.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SIGN_IN_PAGE,
    allow_anonymous,
    current_agent,
    may_publish_faq,
)
from bot.web.console.views import (
    ATTENTION_FILTERS,
    active_agents,
    query_filters,
    queue_request,
    ticket_detail,
    ticket_page,
)
from bot.web.inputs import BadInput, parse_id
from bot.web.keys import SESSIONS, SETTINGS

HERE = Path(__file__).resolve().parent


def _login_page(
    request: web.Request, error: str | None = None, username: str = "", status: int = 200
) -> web.Response:
    token = secrets.token_urlsafe(32)
    page = aiohttp_jinja2.render_template(
        "login.html",
        request,
        {
            **anonymous_context(request),
            "csrf_token": token,
            "error": error,
            "username": username,
        },
        status=status,
    )
    set_login_csrf_cookie(page, request, token)
    return page


async def login_form(request: web.Request) -> web.Response:
    return _login_page(request)


def _field(form, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""  # a file upload is no user name


async def login_submit(request: web.Request) -> web.Response:
    form = await request.post()
    username = _field(form, "username")
    try:
        async with request.config_dict[SESSIONS]() as session:
            token, agent = await sign_in(
                session, username, _field(form, "password"), request.remote or "unknown"
            )
            await remember_browser_language(
                session, agent.agent_id, request.headers.get("Accept-Language")
            )
            await session.commit()
    except AuthError as exc:
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        shown = username[:MAX_USERNAME_LENGTH] if username.isprintable() else ""
        return _login_page(request, str(exc), shown, status)
    response = web.HTTPSeeOther("/console/")
    set_session_cookie(response, request, token)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
    raise response


async def logout(request: web.Request) -> web.Response:
    async with request.config_dict[SESSIONS]() as session, session.begin():
        await sign_out(session, request.cookies.get(SESSION_COOKIE))
    response = web.HTTPSeeOther(SIGN_IN_PAGE)
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


@aiohttp_jinja2.template("queue.html")
async def queue(request: web.Request) -> dict:
    """The queue: unresolved tickets in the order of what needs an agent first (``order``
    ``newest`` for the newest first; other statuses are always newest first)."""
    query = request.query
    agent = current_agent(request)
    settings = request.config_dict[SETTINGS]
    try:
        filters = query_filters(query, default_status="active", agent_id=agent.agent_id)
        order, limit, after = queue_request(query, default_order="attention")
    except BadInput as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    async with request.config_dict[SESSIONS]() as session:
        try:
            page = await ticket_page(
                session,
                filters,
                limit,
                after,
                order=order,
                agent_id=agent.agent_id,
                target=settings.handoff.first_response_target,
            )
        except BadInput as exc:  # a cursor of the other order
            raise web.HTTPBadRequest(text=str(exc)) from None
    here = request.rel_url
    filter_names = ("channel", "reason", "age", "mine")
    return {
        **await navigation(request),
        "tickets": page.tickets,
        "page": page,
        "order": order if filters.status in ATTENTION_FILTERS else "newest",
        "older": str(here.update_query(cursor=page.next_cursor)) if page.next_cursor else None,
        "newest": str(here.without_query_params("cursor")) if after else None,
        "filtered": any(query.get(name) for name in filter_names),
        "filters": {
            "status": query.get("status", "active"),
            "channel": query.get("channel", ""),
            "reason": query.get("reason", ""),
            "age": query.get("age", ""),
            "mine": query.get("mine", "") == "1",
        },
    }


@aiohttp_jinja2.template("ticket.html")
async def ticket(request: web.Request) -> dict:
    """A ticket; opening it marks what the customer wrote read for the agent."""
    try:
        ticket_id = parse_id(request.match_info["ticket_id"], "ticket id")
    except BadInput:
        raise web.HTTPNotFound() from None
    agent = current_agent(request)
    settings = request.config_dict[SETTINGS]
    async with request.config_dict[SESSIONS]() as session:
        detail = await ticket_detail(
            session, ticket_id, agent.agent_id, settings.handoff.first_response_target
        )
        if detail is None:
            raise web.HTTPNotFound(text=f"no ticket {ticket_id}")
        agents = await active_agents(session)
        await mark_read(session, agent.agent_id, ticket_id)
        await session.commit()
    return {
        **await navigation(request),
        "t": detail,
        "earlier": [e for e in detail["profile"]["tickets"] if e["id"] != ticket_id][::-1],
        "agents": agents,
        "may_publish_faq": may_publish_faq(agent, settings.web.agents_may_publish_faq),
    }


async def to_queue(request: web.Request) -> web.Response:
    raise web.HTTPFound("/console/")


def add_routes(app: web.Application) -> None:
    """The pages on ``app``, the console's sub-application (paths under its mount point,
    ``/console``); only the sign-in form and the static files are open to anyone."""
    allow_anonymous(
        app,
        app.router.add_get("/login", login_form),
        app.router.add_post("/login", login_submit),
        app.router.add_static("/static", HERE / "static", append_version=False),
    )
    app.router.add_post("/logout", logout)
    app.router.add_get("", to_queue)
    app.router.add_get("/", queue)
    app.router.add_get("/tickets/{ticket_id}", ticket)
    app.router.add_get("/events", live.events)
    app.router.add_get("/dead-letters", dead_letters.page)
    app.router.add_post("/dead-letters/{letter_id}/discard", dead_letters.discard_form)
    app.router.add_get("/gaps", gaps.page)
    app.router.add_post("/gaps/action", gaps.action_form)
    dashboard.add_routes(app)
