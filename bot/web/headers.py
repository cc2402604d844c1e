"""The headers every answer of the web service carries: a strict Content-Security-Policy (no
inline script), no framing, no sniffing, same-origin referrers, and ``no-store`` for pages and
JSON. :func:`security_headers` is a middleware of the root application, so it covers the
widget, ``/health`` and every sub-application, refusals included.

A header a handler set itself stays (the demo page widens ``connect-src`` to the bot's host).
A stream that sends its headers before the middleware sees it (server-sent events) calls
:func:`add_security_headers` before ``prepare``:

>>> response = web.Response(text="{}", content_type="application/json")
>>> add_security_headers(response)
>>> response.headers["X-Frame-Options"], response.headers["Cache-Control"]
('DENY', 'no-store')
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_security_headers(response: web.StreamResponse) -> None:
    """The headers above, each unless ``response`` has it already; nothing once it is sent."""
    if response.prepared:
        return
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.content_type in ("text/html", "application/json"):
        response.headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The root middleware: the headers on every answer, an error's too."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        add_security_headers(exc)
        raise
    add_security_headers(response)
    return response
