"""The website chat widget: its script and style, the socket.io client it loads, a demo shop
page, and the conversation history it restores after a reload.

The history is served only to the holder of the conversation's secret (128 random bits the
widget keeps in localStorage, from which the conversation id is derived, see
:mod:`connectors.widget_session`) and, for a conversation of a verified shop customer, only with that
customer's signature; requests are rate-limited per address. The secret and the signature come
in the body of a ``POST`` (``{"session_id": ..., "customer_id": ..., "customer_hash": ...}``),
never in the URL, which browsers keep in their history and proxies write to their logs: the
old ``GET /api/widget/history?session_id=...`` is refused with a 400 that says so.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import select

from bot.domain.identity import verify
from bot.store.models import Conversation, Direction, Identity, IdentityKind, Interaction
from bot.web.console.inputs import BadInput, parse_json_object
from bot.web.console.security import add_security_headers
from bot.web.keys import SESSIONS, SETTINGS
from connectors.widget_session import valid_secret, widget_sender_id
from vocabulary import locale_from_tag

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
SOCKET_IO_CLIENT = HERE / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
HISTORY_LIMIT = 200
RATE_WINDOW_SECONDS = 60.0
RATE_LIMIT = 30  # history requests per address and minute
SHOWN = {Direction.CUSTOMER.value, Direction.BOT.value, Direction.AGENT.value}
HISTORY_PATH = "/api/widget/history"
# The body holds a secret, a customer id and a signature: a few hundred bytes.
MAX_HISTORY_BODY_BYTES = 4096
# Names that must never be in a history URL: each is a secret, or identifies whose it is.
URL_SECRETS = ("session_id", "customer_id", "customer_hash")


class RateLimiter:
    """At most ``limit`` calls per key in a sliding window (in this process)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._calls: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        calls = self._calls[key]
        while calls and calls[0] <= now - self.window:
            calls.popleft()
        if len(calls) >= self.limit:
            return False
        calls.append(now)
        return True


R = TypeVar("R", bound=web.StreamResponse)
LIMITER = web.AppKey("widget_rate_limiter", RateLimiter)


def _file(path: Path, content_type: str) -> web.FileResponse:
    response = web.FileResponse(path, headers={"Content-Type": content_type})
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


async def widget_js(request: web.Request) -> web.StreamResponse:
    return _file(STATIC / "widget.js", "application/javascript; charset=utf-8")


async def widget_css(request: web.Request) -> web.StreamResponse:
    return _file(STATIC / "widget.css", "text/css; charset=utf-8")


async def demo_css(request: web.Request) -> web.StreamResponse:
    return _file(STATIC / "demo.css", "text/css; charset=utf-8")


async def socket_io_client(request: web.Request) -> web.StreamResponse:
    if not SOCKET_IO_CLIENT.is_file():
        raise web.HTTPServiceUnavailable(text="the socket.io client is not installed: make setup")
    return _file(SOCKET_IO_CLIENT, "application/javascript; charset=utf-8")


def _cors(response: R) -> R:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(status: type[web.HTTPException], message: str, **kwargs: Any) -> web.HTTPException:
    """A JSON error the widget's script, on another origin, may read."""
    error = status(text=json.dumps({"error": message}), content_type="application/json", **kwargs)
    _cors(error)
    return error


def _limit(request: web.Request) -> None:
    if not request.app[LIMITER].allow(request.remote or "unknown"):
        raise _refused(web.HTTPTooManyRequests, "too many requests")


async def _json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, read no further than :data:`MAX_HISTORY_BODY_BYTES`."""
    size, raw = request.content_length, b""
    if size is None or size <= MAX_HISTORY_BODY_BYTES:  # a chunked body does not say
        while len(raw) <= MAX_HISTORY_BODY_BYTES and (
            chunk := await request.content.read(MAX_HISTORY_BODY_BYTES + 1 - len(raw))
        ):
            raw += chunk
        size = len(raw)
    if size > MAX_HISTORY_BODY_BYTES:
        raise _refused(
            web.HTTPRequestEntityTooLarge,
            "the body is too large",
            max_size=MAX_HISTORY_BODY_BYTES,
            actual_size=size,
        )
    try:
        return parse_json_object(raw)
    except BadInput as exc:
        raise _refused(web.HTTPBadRequest, str(exc)) from None


async def history_in_url(request: web.Request) -> web.Response:
    """GET /api/widget/history: refused. The secret would be in the URL, so in the browser's
    history and in proxies' logs; the widget POSTs it (see :func:`history`)."""
    _limit(request)
    raise _refused(
        web.HTTPBadRequest,
        "the session secret must not be in the URL: POST /api/widget/history with the JSON "
        'body {"session_id": ...}',
    )


async def history_preflight(request: web.Request) -> web.Response:
    """OPTIONS /api/widget/history: shops' pages on other origins may POST JSON to it."""
    response = web.Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "POST"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    response.headers["Access-Control-Max-Age"] = "600"
    _cors(response)
    return response


async def history(request: web.Request) -> web.Response:
    """POST /api/widget/history ``{"session_id": ...[, "customer_id", "customer_hash"]}``:
    the conversation's last :data:`HISTORY_LIMIT` messages.

    Raises:
        HTTPBadRequest: a secret in the query string, a body that is no JSON object, a
            malformed ``session_id``.
        HTTPForbidden: a signed-in customer's conversation without their signature.
        HTTPTooManyRequests: more than :data:`RATE_LIMIT` requests a minute from the address.
    """
    _limit(request)
    if any(name in request.query for name in URL_SECRETS):
        raise _refused(
            web.HTTPBadRequest, "the session secret and the signature must not be in the URL"
        )
    body = await _json_body(request)
    secret = body.get("session_id")
    if not isinstance(secret, str) or not valid_secret(secret):
        raise _refused(web.HTTPBadRequest, "bad session_id")
    async with request.app[SESSIONS]() as session:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.sender_id == widget_sender_id(secret))
        )
        if conversation is None:
            return _cors(web.json_response({"messages": []}))
        owner = await session.scalar(
            select(Identity.value).where(
                Identity.customer_id == conversation.customer_id,
                Identity.kind == IdentityKind.SHOP.value,
                Identity.verified.is_(True),
            )
        )
        if owner is not None:
            identity_secret = request.app[SETTINGS].identity_secret.get_secret_value()
            proven = verify(body, identity_secret)
            if proven is None or proven.customer_id != owner:
                raise _refused(
                    web.HTTPForbidden, "this conversation belongs to a signed-in customer"
                )
        rows = (
            await session.scalars(
                select(Interaction)
                .where(
                    Interaction.conversation_id == conversation.id,
                    Interaction.direction.in_(SHOWN),
                )
                .order_by(Interaction.timestamp.desc(), Interaction.id.desc())
                .limit(HISTORY_LIMIT)
            )
        ).all()
    return _cors(web.json_response({"messages": _shown(rows)}))


def _shown(rows: Sequence[Interaction]) -> list[dict[str, Any]]:
    """The messages as the widget shows them, oldest first, without button payloads."""
    return [
        {
            "direction": i.direction,
            "text": i.text,
            "agent": i.author,
            "timestamp": i.timestamp.isoformat(),
        }
        for i in reversed(rows)
        if i.text and not (i.direction == Direction.CUSTOMER.value and i.text.startswith("/"))
    ]


async def demo(request: web.Request) -> web.Response:
    """A demo shop page with the widget's tag, as a shop's developer would add it;
    ``?lang=`` zh, zh-TW, zh-HK (or any tag of those) or en."""
    settings = request.app[SETTINGS]
    lang = locale_from_tag(request.query.get("lang")) or "en"  # en, zh, zh-TW or zh-HK
    bot_host = settings.public_rasa_url or settings.rasa_url
    page = (STATIC / "demo.html").read_text(encoding="utf-8")
    page = page.replace("{{lang}}", lang).replace("{{bot_host}}", bot_host)
    response = web.Response(text=page, content_type="text/html")
    origin = f"{bot_host} {bot_host.replace('http', 'ws', 1)}"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {origin}; frame-ancestors 'none'; base-uri 'none'"
    )
    add_security_headers(response)
    return response


def add_routes(app: web.Application) -> None:
    app[LIMITER] = RateLimiter(RATE_LIMIT, RATE_WINDOW_SECONDS)
    app.router.add_get("/widget.js", widget_js)
    app.router.add_get("/widget.css", widget_css)
    app.router.add_get("/widget/socket.io.min.js", socket_io_client)
    app.router.add_post(HISTORY_PATH, history)
    app.router.add_get(HISTORY_PATH, history_in_url)
    app.router.add_route("OPTIONS", HISTORY_PATH, history_preflight)
    app.router.add_get("/demo", demo)
    app.router.add_get("/widget/demo.css", demo_css)
