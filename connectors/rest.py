"""Rasa's REST channel, for servers: a bearer token on every call, and the input gate.

Browsers talk to the widget's socket.io channel; REST is for the shop's own servers, tests and
benchmarks. Every ``POST /webhooks/rest/webhook`` must carry ``Authorization: Bearer <token>``
(``REST_CHANNEL_TOKEN``), else 401. The body is ``{"sender": ..., "message": ...,
"metadata": {...}}``; what the gate (:mod:`connectors.gate`) or the conversation's binding
(:mod:`connectors.binding`) refuses is answered with a 4xx and a JSON body
``{"error": code, "detail": ..., "reply": text for the customer or null}``, before NLU runs.
Unlike Rasa's ``RestInput``, the caller cannot choose the input channel, there is no shared
``default`` conversation for a missing sender, and a failure is a 500, not an empty 200.

While the action server is unreachable (restarting, about 10 s), Rasa would run the message,
log that each custom action failed, drop the actions' events and answer nothing, and the caller
would get 200 with an empty list. Instead the answer is 503 with ``Retry-After`` and a JSON
body ``{"error": "unavailable", "detail": ..., "reply": null, "retry_after": seconds}``:

- before Rasa sees the message, the action server's ``/health`` is asked (the answer is kept
  for :data:`connectors.action_outage.PROBE_TTL` seconds); no answer, or none within its
  :data:`~connectors.action_outage.PROBE_TIMEOUT` (hung): 503,
  nothing is stored, and a retry is the first try;
- if it became unreachable while the message was handled (the turn called it and nothing came
  back), the turn is undone in the tracker (Rasa's ``UserUtteranceReverted``), so that a retry
  is answered as if it were the first try; the failed turn stays in the event stream.

A 200 goes out once the event broker holds the turn's events (with RabbitMQ: confirmed, see
:mod:`connectors.durable_broker`), so that a crash right after answering loses none.

credentials.yml::

    connectors.rest.TokenRestInput:
      token: ${REST_CHANNEL_TOKEN}
      max_message_chars: ${MAX_MESSAGE_CHARS}
      identity_secret: ${IDENTITY_SECRET}
"""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.action_outage import ActionServerProbe
from connectors.binding import ConversationBinding
from connectors.durable_broker import events_settled
from connectors.gate import Admitted, Refused, admit, message_limit, reply_language
from connectors.rewind import undo_failed_turn

log = logging.getLogger(__name__)

# What a caller is told to wait before sending the message again (the supervisor has a crashed
# action server back in about 10 s).
RETRY_AFTER_SECONDS = 5


def refusal_response(refused: Refused) -> HTTPResponse:
    body = {"error": refused.code, "detail": refused.detail, "reply": refused.reply}
    return response.json(body, status=refused.status)


def unavailable_response() -> HTTPResponse:
    """503 with ``Retry-After``: the message was not answered; the caller sends it again."""
    body = {
        "error": "unavailable",
        "detail": "the assistant cannot answer right now (its action server is unreachable); "
        f"send the message again in {RETRY_AFTER_SECONDS} seconds",
        "reply": None,
        "retry_after": RETRY_AFTER_SECONDS,
    }
    return response.json(body, status=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


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
        self.actions = ActionServerProbe()

    def authorized(self, request: Request) -> bool:
        scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode("utf-8", "replace"), self._token
        )

    async def _admit(self, request: Request) -> Admitted | HTTPResponse:
        """What the gate and the binding let through, or the answer that refuses it."""
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
                {"error": "bad_request", "detail": "the body must be a JSON object"}, status=400
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
        return message

    async def _answer(
        self,
        agent: Any,
        message: Admitted,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> HTTPResponse:
        """Hand ``message`` to Rasa, unless the action server is unreachable, and answer."""
        endpoint = getattr(agent, "action_endpoint", None)
        if not await self.actions.reachable(endpoint):
            log.warning("REST message not handled: the action server is unreachable")
            return unavailable_response()
        collector = CollectingOutputChannel()
        message_id = uuid.uuid4().hex
        try:
            await on_new_message(
                UserMessage(
                    message.text,
                    collector,
                    message.sender_id,
                    input_channel=self.name(),
                    metadata=message.metadata,
                    message_id=message_id,
                )
            )
        except Exception:
            log.exception("REST message from %s failed", message.sender_id)
            return response.json(
                {"error": "internal", "detail": "the message could not be handled"}, status=500
            )
        if not collector.messages and not await self.actions.reachable(endpoint, fresh=True):
            undone = await undo_failed_turn(agent, message.sender_id, message_id)
            log.warning(
                "REST message from %s not answered: the action server became unreachable (%s)",
                message.sender_id,
                "turn undone" if undone else "turn kept",
            )
            return unavailable_response()
        await events_settled(agent, message.sender_id)  # the 200 says "stored": RabbitMQ has it
        return response.json(collector.messages)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        rest = Blueprint("token_rest_webhook", __name__)

        @rest.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @rest.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            admitted = await self._admit(request)
            if not isinstance(admitted, Admitted):
                return admitted
            agent = getattr(request.app.ctx, "agent", None)
            return await self._answer(agent, admitted, on_new_message)

        return rest
