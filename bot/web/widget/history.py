"""The conversation history the widget restores after a reload.

The history is served only to the holder of the conversation's secret (128 random bits the
widget keeps in localStorage, from which the conversation id is derived, see
:mod:`connectors.widget_session`) and, for a conversation of a verified shop customer, only with
that customer's signature (:mod:`bot.domain.transcripts`); requests are rate-limited per address.
The secret and the signature come in the body of a ``POST`` (``{"session_id": ...,
"customer_id": ..., "customer_hash": ...}``), never in the URL, which browsers keep in their
history and proxies write to their logs: the old ``GET /api/widget/history?session_id=...`` is
refused with a 400 that says so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar

from aiohttp import web

from bot.domain.identity import verify
from bot.domain.transcripts import ConversationOfAnother, transcript
from bot.store.models import Direction, Interaction
from bot.web.inputs import BadInput, BodyTooLarge, read_json_body
from bot.web.keys import SESSIONS, SETTINGS
from bot.web.rate_limit import RateLimiter
from connectors.widget_session import valid_secret, widget_sender_id

HISTORY_LIMIT = 200
RATE_WINDOW_SECONDS = 60.0
RATE_LIMIT = 30  # history requests per address and minute
# A route of the root app beside the agent API mounted at /api: aiohttp resolves the longer
# path first, so this one stays open to anyone (tests/bot/web/test_web_layers.py).
HISTORY_PATH = "/api/widget/history"
# The body holds a secret, a customer id and a signature: a few hundred bytes.
MAX_HISTORY_BODY_BYTES = 4096
# Names that must never be in a history URL: each is a secret, or identifies whose it is.
URL_SECRETS = ("session_id", "customer_id", "customer_hash")

R = TypeVar("R", bound=web.StreamResponse)
LIMITER = web.AppKey("widget_rate_limiter", RateLimiter)


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
    try:
        return await read_json_body(request, MAX_HISTORY_BODY_BYTES)
    except BodyTooLarge as exc:
        raise _refused(
            web.HTTPRequestEntityTooLarge,
            "the body is too large",
            max_size=exc.max_size,
            actual_size=exc.actual_size,
        ) from None
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
    proven = verify(body, request.app[SETTINGS].privacy.identity_secret.get_secret_value())
    try:
        async with request.app[SESSIONS]() as session:
            rows = await transcript(session, widget_sender_id(secret), proven, HISTORY_LIMIT)
    except ConversationOfAnother as exc:
        raise _refused(web.HTTPForbidden, str(exc)) from None
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


def add_routes(app: web.Application) -> None:
    app[LIMITER] = RateLimiter(RATE_LIMIT, RATE_WINDOW_SECONDS)
    app.router.add_post(HISTORY_PATH, history)
    app.router.add_get(HISTORY_PATH, history_in_url)
    app.router.add_route("OPTIONS", HISTORY_PATH, history_preflight)
