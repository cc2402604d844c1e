"""Who may do what in the console's two sub-applications, the pages and the agent API.

Each is made by :func:`agents_only_app`, whose middleware (:func:`sign_in_required`) guards
every route of that sub-application, and only those:

- Every route needs a signed-in agent, except the resources passed to :func:`allow_anonymous`
  (the sign-in form and call, the pages' static files). A caller who is not signed in gets the
  sub-application's :class:`Refusals`: the pages redirect to the sign-in form, the API answers
  401 ``{"error": "sign in first"}``. A path the sub-application does not know is refused the
  same way, so that only signed-in agents learn what exists.
- Every state-changing request (POST, PUT, PATCH, DELETE) must carry the session's CSRF token,
  in the form field ``csrf_token`` or the header ``X-CSRF-Token``; otherwise 403. The sign-in
  form, which has no session yet, uses a token in a cookie of its own (double submit).
- Admin-only routes are marked with :func:`admin_only`. Publishing to the FAQ is for admins
  too, unless ``AGENTS_MAY_PUBLISH_FAQ`` trusts every agent (:func:`may_publish_faq`).

The headers every answer carries are the root application's (:mod:`bot.web.headers`).

>>> app = agents_only_app(API_REFUSALS)
>>> allow_anonymous(app, app.router.add_get("/login", lambda request: web.Response()))
>>> [resource.canonical for resource in app[PUBLIC]]
['/login']
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from bot.domain.auth import SignedIn, csrf_matches, signed_in
from bot.web.keys import SESSIONS

SESSION_COOKIE = "console_session"
LOGIN_CSRF_COOKIE = "console_login_csrf"
SIGN_IN_PAGE = "/console/login"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

AGENT = web.RequestKey("agent", SignedIn)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Refusals:
    """How a sub-application says no: to a caller who is not signed in, and to one who may not
    do what they ask (the reason is safe to show)."""

    anonymous: Callable[[], web.HTTPException]
    forbidden: Callable[[str], web.HTTPException]


def _json_error(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=json.dumps({"error": message}), content_type="application/json")


PAGE_REFUSALS = Refusals(
    anonymous=lambda: web.HTTPSeeOther(SIGN_IN_PAGE),
    forbidden=lambda reason: web.HTTPForbidden(text=reason),
)
API_REFUSALS = Refusals(
    anonymous=lambda: _json_error(web.HTTPUnauthorized, "sign in first"),
    forbidden=lambda reason: _json_error(web.HTTPForbidden, reason),
)

REFUSALS = web.AppKey("refusals", Refusals)
PUBLIC = web.AppKey("public_resources", set[web.AbstractResource])


def agents_only_app(refusals: Refusals) -> web.Application:
    """A sub-application for signed-in agents only, which refuses others with ``refusals``;
    its routes that anyone may use are named with :func:`allow_anonymous`."""
    app = web.Application(middlewares=[sign_in_required])
    app[REFUSALS] = refusals
    app[PUBLIC] = set()
    return app


def allow_anonymous(
    app: web.Application, *open_to_all: web.AbstractRoute | web.AbstractResource
) -> None:
    """Let callers without a session use these routes (each route's whole resource: all its
    methods) of ``app``, one made by :func:`agents_only_app`."""
    for item in open_to_all:
        resource = item.resource if isinstance(item, web.AbstractRoute) else item
        if resource is None:
            raise ValueError(f"{item!r} belongs to no resource")
        app[PUBLIC].add(resource)


def current_agent(request: web.Request) -> SignedIn:
    return request[AGENT]


async def _csrf_token(request: web.Request) -> str | None:
    header = request.headers.get("X-CSRF-Token")
    if header:
        return header
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.post()
        except (ValueError, LookupError):  # not in its charset, an unknown charset, bad multipart
            return None
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


@web.middleware
async def sign_in_required(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The middleware of :func:`agents_only_app`'s sub-applications (``request.app`` is the
    sub-application here, whichever route or unknown path of it was asked for)."""
    refusals = request.app[REFUSALS]
    unsafe = request.method in UNSAFE_METHODS
    if request.match_info.route.resource in request.app[PUBLIC]:
        if unsafe:
            expected = request.cookies.get(LOGIN_CSRF_COOKIE)
            if not expected or not csrf_matches(expected, await _csrf_token(request)):
                raise refusals.forbidden("missing or wrong CSRF token")
        return await handler(request)
    async with request.config_dict[SESSIONS]() as session:
        agent = await signed_in(session, request.cookies.get(SESSION_COOKIE))
    if agent is None:
        raise refusals.anonymous()
    request[AGENT] = agent
    if unsafe and not csrf_matches(agent.csrf_token, await _csrf_token(request)):
        raise refusals.forbidden("missing or wrong CSRF token")
    return await handler(request)


def may_publish_faq(agent: SignedIn, agents_may_publish: bool) -> bool:
    """Whether ``agent`` may add to the FAQ, which customers are told within seconds, unreviewed:
    admins, and every agent only when the operator says so (``AGENTS_MAY_PUBLISH_FAQ``)."""
    return agent.is_admin or agents_may_publish


def admin_only(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        if not current_agent(request).is_admin:
            raise request.app[REFUSALS].forbidden("only an admin may do this")
        return await handler(request)

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded
