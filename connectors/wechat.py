"""Rasa input channel for a WeChat Official Account (微信公众号).

The callback URL is ``/webhooks/wechat/webhook``. credentials.yml (values from the
environment; ``make run`` enables the channel when ``WECHAT_TOKEN`` is set)::

    connectors.wechat.WeChatInput:
      token: ${WECHAT_TOKEN}
      app_id: ${WECHAT_APP_ID}
      app_secret: ${WECHAT_APP_SECRET}
      encoding_aes_key: ${WECHAT_ENCODING_AES_KEY}   # set: safe mode
      api_base_url: ${WECHAT_API_BASE_URL}           # WeChat's, or a fake in tests
      redis_url: ${REDIS_URL}                        # several Rasa servers: shared state
      state_path: ${WECHAT_STATE_PATH}               # else: one server's, kept across restarts

The protocol lives in :mod:`connectors.wechat_mp` (crypto, XML, retries, the customer-service
API); this module only adapts it to Rasa: the body is read with a size bound, a turn is a
``UserMessage`` from the customer's OpenID (held while the action server is away, see
:func:`connectors.action_outage.run_held`), and the output channel (used when agents' replies
are delivered) sends through the customer-service API.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.action_outage import ActionServerProbe, run_held
from connectors.durable_broker import events_settled
from connectors.gate import Refused, admit, message_limit, reply_language
from connectors.rewind import undo_failed_turn
from connectors.wechat_mp.client import CustomerServiceClient
from connectors.wechat_mp.endpoint import CallbackEndpoint, Reply, WeChatConfig
from connectors.wechat_mp.render import remember_choices, render_messages
from connectors.wechat_mp.state import MemoryState, RedisState, SharedState, SqliteState

log = logging.getLogger(__name__)


class WeChatOutput(OutputChannel):
    """Sends through the customer-service message API (outside a callback's 5 seconds)."""

    def __init__(self, client: CustomerServiceClient, state: SharedState) -> None:
        self._client = client
        self._state = state

    @classmethod
    def name(cls) -> str:
        return "wechat"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        rendered = render_messages([message])
        for text in rendered.texts:
            await self._client.send_text(recipient_id, text)  # Undeliverable reaches the outbox
        await remember_choices(self._state, recipient_id, rendered)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


class WeChatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatInput:
        settings = dict(credentials or {})
        limit = message_limit(settings.pop("max_message_chars", None))
        return cls(WeChatConfig.from_credentials(settings), limit)

    def __init__(self, config: WeChatConfig, max_message_chars: int = 1000) -> None:
        self.config = config
        self.max_message_chars = max_message_chars
        self.actions = ActionServerProbe()
        self._app: Any = None
        self.state: SharedState
        if config.redis_url:
            self.state = RedisState(config.redis_url, prefix=f"wechat:{config.app_id or 'default'}")
        elif config.state_path:
            self.state = SqliteState(config.state_path)
        else:
            self.state = MemoryState()
        self.client = CustomerServiceClient(
            config.app_id, config.app_secret, self.state, config.api_base_url
        )
        if not (config.app_id and config.app_secret):
            log.warning(
                "WeChat channel without app id/secret: slow answers and agents' "
                "replies cannot be sent (customer-service API)"
            )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def run_turn(
            sender: str, text: str, metadata: dict[str, Any]
        ) -> list[dict[str, Any]]:
            try:  # OpenIDs come signed by WeChat: no other channel can own them
                message = admit(sender, text, metadata, self.max_message_chars)
            except Refused as refused:
                log.info("WeChat message refused: %s", refused.code)
                return [{"text": refused.reply}] if refused.reply else []
            said: list[dict[str, Any]] = []

            async def run(message_id: str) -> int:
                collector = CollectingOutputChannel()
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
                said.extend(collector.messages)
                return len(collector.messages)

            async def tell(text: str) -> None:
                said.append({"text": text})

            async def undo(message_id: str) -> bool:
                return await undo_failed_turn(agent, message.sender_id, message_id)

            agent = getattr(getattr(self._app, "ctx", None), "agent", None)
            # One answer per callback (later ones through the customer-service API): no
            # "one moment" while the action server is away, the answer once it is back.
            await run_held(
                getattr(agent, "action_endpoint", None),
                self.actions,
                reply_language(message.text, message.metadata),
                run,
                undo,
                tell,
                notify_wait=False,
            )
            await events_settled(agent, message.sender_id)  # replied once RabbitMQ has the turn
            return said

        endpoint = CallbackEndpoint(self.config, run_turn, self.state, self.client)
        limit = self.config.max_body_bytes
        wechat = Blueprint("wechat_webhook", __name__)

        @wechat.listener("before_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            self._app = app  # its agent is loaded after this runs

        @wechat.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @wechat.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return _http(endpoint.verify_url(_query(request)))

        @wechat.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                return _http(Reply(413, "too large"))
            stream = request.stream
            if stream is None:  # Sanic streams the body of every request to this route
                raise RuntimeError("no request stream on a streaming route")
            body = bytearray()
            while True:
                chunk = await stream.read()
                if chunk is None:
                    break
                body += chunk
                if len(body) > limit:
                    return _http(Reply(413, "too large"))
            return _http(await endpoint.handle(_query(request), bytes(body)))

        return wechat

    def get_output_channel(self) -> OutputChannel:
        return WeChatOutput(self.client, self.state)


def _query(request: Request) -> dict[str, str]:
    return {name: request.args.get(name) for name in request.args}


def _http(reply: Reply) -> HTTPResponse:
    return response.text(reply.body, status=reply.status, content_type=reply.content_type)
