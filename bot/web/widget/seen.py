"""The widget's "seen" signal: the customer had the agents' replies on screen, so the mails
waiting to carry them are not needed (:func:`bot.domain.mail.follow_up.seen_in_widget`).

``POST /widget/seen {"session_id": SECRET[, "customer_id", "customer_hash"]}`` answers 204.
As for the history (:mod:`.history`), only the holder of the conversation's secret speaks for
it, a signed-in customer's conversation only with their signature (403 otherwise, and nothing
changes); a secret of a conversation we do not know changes nothing either.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from bot.domain.identity import verify
from bot.domain.mail.follow_up import seen_in_widget
from bot.domain.transcripts import ConversationOfAnother
from bot.web.keys import SESSIONS, SETTINGS
from bot.web.rate_limit import RATE_LIMITS, RateLimiter
from bot.web.widget.public import json_body, json_preflight, limit, open_to_pages, refused
from connectors.widget_session import valid_secret, widget_sender_id

SEEN_PATH = "/widget/seen"
MAX_SEEN_BODY_BYTES = 4096
RATE_LIMIT = 60  # signals per address and minute (one per agent's reply shown, and per reload)
LIMITER: web.AppKey[RateLimiter] = web.AppKey("widget_seen_rate_limiter")


async def seen(request: web.Request) -> web.Response:
    """POST /widget/seen (see the module).

    Raises:
        HTTPBadRequest: no JSON object, a malformed ``session_id``.
        HTTPForbidden: a signed-in customer's conversation without their signature.
        HTTPTooManyRequests: more than :data:`RATE_LIMIT` signals a minute from the address.
    """
    await limit(request, request.app[LIMITER])
    body = await json_body(request, MAX_SEEN_BODY_BYTES)
    secret = body.get("session_id")
    if not isinstance(secret, str) or not valid_secret(secret):
        raise refused(web.HTTPBadRequest, "bad session_id")
    proven = verify(body, request.app[SETTINGS].privacy.identity_secret.get_secret_value())
    try:
        async with request.app[SESSIONS]() as session, session.begin():
            await seen_in_widget(session, widget_sender_id(secret), proven, datetime.now(UTC))
    except ConversationOfAnother as exc:
        raise refused(web.HTTPForbidden, str(exc)) from None
    return open_to_pages(web.Response(status=204))


def add_routes(app: web.Application) -> None:
    app[LIMITER] = app[RATE_LIMITS].limiter("widget-seen", RATE_LIMIT, 60.0)
    app.router.add_post(SEEN_PATH, seen)
    app.router.add_route("OPTIONS", SEEN_PATH, json_preflight)
