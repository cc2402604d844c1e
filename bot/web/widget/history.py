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

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from bot.domain.identity import verify
from bot.domain.transcripts import ConversationOfAnother, transcript
from bot.store.models import Direction, Interaction
from bot.web.keys import SESSIONS, SETTINGS
from bot.web.rate_limit import RATE_LIMITS, RateLimiter
from bot.web.widget.public import json_body, json_preflight, limit, open_to_pages, refused
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

LIMITER: web.AppKey[RateLimiter] = web.AppKey("widget_rate_limiter")


async def history_in_url(request: web.Request) -> web.Response:
    """GET /api/widget/history: refused. The secret would be in the URL, so in the browser's
    history and in proxies' logs; the widget POSTs it (see :func:`history`)."""
    await limit(request, request.app[LIMITER])
    raise refused(
        web.HTTPBadRequest,
        "the session secret must not be in the URL: POST /api/widget/history with the JSON "
        'body {"session_id": ...}',
    )


async def history(request: web.Request) -> web.Response:
    """POST /api/widget/history ``{"session_id": ...[, "customer_id", "customer_hash"]}``:
    the conversation's last :data:`HISTORY_LIMIT` messages.

    Raises:
        HTTPBadRequest: a secret in the query string, a body that is no JSON object, a
            malformed ``session_id``.
        HTTPForbidden: a signed-in customer's conversation without their signature.
        HTTPTooManyRequests: more than :data:`RATE_LIMIT` requests a minute from the address.
    """
    await limit(request, request.app[LIMITER])
    if any(name in request.query for name in URL_SECRETS):
        raise refused(
            web.HTTPBadRequest, "the session secret and the signature must not be in the URL"
        )
    body = await json_body(request, MAX_HISTORY_BODY_BYTES)
    secret = body.get("session_id")
    if not isinstance(secret, str) or not valid_secret(secret):
        raise refused(web.HTTPBadRequest, "bad session_id")
    proven = verify(body, request.app[SETTINGS].privacy.identity_secret.get_secret_value())
    try:
        async with request.app[SESSIONS]() as session:
            rows = await transcript(session, widget_sender_id(secret), proven, HISTORY_LIMIT)
    except ConversationOfAnother as exc:
        raise refused(web.HTTPForbidden, str(exc)) from None
    return open_to_pages(web.json_response({"messages": _shown(rows)}))


def _shown(rows: Sequence[Interaction]) -> list[dict[str, Any]]:
    """The messages as the widget shows them, oldest first. A customer's button choice came as
    the button's payload (``/choose{...}``): it is marked ``"choice": true``, and the widget
    shows it by the title of the button it remembers sending it."""
    return [
        {
            "direction": i.direction,
            "text": i.text,
            "agent": i.author,
            "timestamp": i.timestamp.isoformat(),
            "choice": i.direction == Direction.CUSTOMER.value and i.text.startswith("/"),
        }
        for i in reversed(rows)
        if i.text
    ]


def add_routes(app: web.Application) -> None:
    app[LIMITER] = app[RATE_LIMITS].limiter("widget-history", RATE_LIMIT, RATE_WINDOW_SECONDS)
    app.router.add_post(HISTORY_PATH, history)
    app.router.add_get(HISTORY_PATH, history_in_url)
    app.router.add_route("OPTIONS", HISTORY_PATH, json_preflight)
