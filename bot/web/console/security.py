"""Who may do what in the console and its API, and the headers every answer carries.

- Every ``/console`` page and ``/api`` route needs a signed-in agent: pages redirect to the
  sign-in form, the API answers 401.
- Every state-changing request (POST, PUT, PATCH, DELETE) must carry the session's CSRF token,
  in the form field ``csrf_token`` or the header ``X-CSRF-Token``; otherwise 403. The sign-in
  form, which has no session yet, uses a token in a cookie of its own (double submit).
- Admin-only routes are marked with :func:`admin_only`. Publishing to the FAQ is for admins
  too, unless ``AGENTS_MAY_PUBLISH_FAQ`` trusts every agent (:func:`may_publish_faq`).
- Answers carry a strict Content-Security-Policy (no inline script), no framing, no sniffing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.domain.auth import SignedIn, csrf_matches, signed_in

SESSION_COOKIE = "console_session"
LOGIN_CSRF_COOKIE = "console_login_csrf"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
PUBLIC = {"/console/login", "/api/login", "/health"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

AGENT = web.RequestKey("agent", SignedIn)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def current_agent(request: web.Request) -> SignedIn:
    return request[AGENT]


def _protected(path: str) -> bool:
    if path in PUBLIC or path.startswith(("/console/static/", "/api/widget/")):
        return False
    return path.startswith("/console") or path.startswith("/api/")


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


def security_middleware(sessions_key: web.AppKey) -> Callable:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await guard(request, handler)
        except web.HTTPException as exc:
            add_security_headers(exc)
            raise
        add_security_headers(response)
        return response

    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if _protected(request.path):
            async with request.app[sessions_key]() as session:
                agent = await signed_in(session, request.cookies.get(SESSION_COOKIE))
            if agent is None:
                if request.path.startswith("/api/"):
                    raise web.HTTPUnauthorized(
                        text='{"error": "sign in first"}', content_type="application/json"
                    )
                raise web.HTTPSeeOther("/console/login")
            request[AGENT] = agent
            if request.method in UNSAFE_METHODS and not csrf_matches(
                agent.csrf_token, await _csrf_token(request)
            ):
                raise _forbidden(request, "missing or wrong CSRF token")
        elif request.path in PUBLIC and request.method in UNSAFE_METHODS:
            expected = request.cookies.get(LOGIN_CSRF_COOKIE)
            if not expected or not csrf_matches(expected, await _csrf_token(request)):
                raise _forbidden(request, "missing or wrong CSRF token")
        return await handler(request)

    return middleware


def _forbidden(request: web.Request, reason: str) -> web.HTTPForbidden:
    if request.path.startswith("/api/"):
        return web.HTTPForbidden(text=f'{{"error": "{reason}"}}', content_type="application/json")
    return web.HTTPForbidden(text=reason)


def add_security_headers(response: web.StreamResponse) -> None:
    if response.prepared:  # a stream (server-sent events) sent its headers already
        return
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.content_type == "text/html" or response.content_type == "application/json":
        response.headers.setdefault("Cache-Control", "no-store")


def may_publish_faq(agent: SignedIn, agents_may_publish: bool) -> bool:
    """Whether ``agent`` may add to the FAQ, which customers are told within seconds, unreviewed:
    admins, and every agent only when the operator says so (``AGENTS_MAY_PUBLISH_FAQ``)."""
    return agent.is_admin or agents_may_publish


def admin_only(handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        if not current_agent(request).is_admin:
            raise _forbidden(request, "only an admin may do this")
        return await handler(request)

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded
