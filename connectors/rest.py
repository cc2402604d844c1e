"""Rasa's REST channel, for servers: a bearer token on every call, and the input gate.

Browsers talk to the widget's socket.io channel; REST is for the shop's own servers, tests and
benchmarks. Every ``POST /webhooks/rest/webhook`` must carry ``Authorization: Bearer <token>``
(``REST_CHANNEL_TOKEN``), else 401. The body is ``{"sender": ..., "message": ...,
"metadata": {...}}``; what the gate (:mod:`connectors.gate`) or the conversation's binding
(:mod:`connectors.binding`) refuses is answered with a 4xx and a JSON body
``{"error": code, "detail": ..., "reply": text for the customer or null}``, before NLU runs.
Unlike Rasa's ``RestInput``, the caller cannot choose the input channel, there is no shared
``default`` conversation for a missing sender, and a failure is a 500, not an empty 200.

credentials.yml::

    connectors.rest.TokenRestInput:
      token: ${REST_CHANNEL_TOKEN}
      max_message_chars: ${MAX_MESSAGE_CHARS}
      identity_secret: ${IDENTITY_SECRET}
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.binding import ConversationBinding
from connectors.gate import Refused, admit, message_limit, reply_language

log = logging.getLogger(__name__)


def refusal_response(refused: Refused) -> HTTPResponse:
    body = {"error": refused.code, "detail": refused.detail, "reply": refused.reply}
    return response.json(body, status=refused.status)


class TokenRestInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TokenRestInput:
        credentials = credentials or {}
        token = str(credentials.get("token") or "")
        if not token:
            raise ValueError("the REST channel needs a token (REST_CHANNEL_TOKEN)")
        return cls(
            token,
            message_limit(credentials.get("max_message_chars")),
            str(credentials.get("identity_secret") or ""),
        )

    def __init__(self, token: str, max_message_chars: int, identity_secret: str = "") -> None:
        self._token = token.encode()
        self.max_message_chars = max_message_chars
        self.binding = ConversationBinding(identity_secret)

    def authorized(self, request: Request) -> bool:
        scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode("utf-8", "replace"), self._token
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rest = Blueprint("token_rest_webhook", __name__)

        @rest.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @rest.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.authorized(request):
                return response.json(
                    {"error": "unauthorized", "detail": "send Authorization: Bearer <token>"},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            try:
                body = request.json
            except Exception:  # Sanic raises its own error type for a body that is not JSON
                body = None
            if not isinstance(body, dict):
                return response.json(
                    {"error": "bad_request", "detail": "the body must be a JSON object"},
                    status=400,
                )
            try:
                message = admit(
                    body.get("sender"),
                    body.get("message"),
                    body.get("metadata"),
                    self.max_message_chars,
                )
                agent = getattr(request.app.ctx, "agent", None)
                await self.binding.check(
                    getattr(agent, "tracker_store", None),
                    message.sender_id,
                    self.name(),
                    message.metadata,
                    reply_language(message.text, message.metadata),
                )
            except Refused as refused:
                log.info("REST message refused: %s", refused.code)
                return refusal_response(refused)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        message.text,
                        collector,
                        message.sender_id,
                        input_channel=self.name(),
                        metadata=message.metadata,
                    )
                )
            except Exception:
                log.exception("REST message from %s failed", message.sender_id)
                return response.json(
                    {"error": "internal", "detail": "the message could not be handled"},
                    status=500,
                )
            return response.json(collector.messages)

        return rest
