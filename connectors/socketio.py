"""The website widget's socket.io channel: session secrets, the input gate, agents' names.

Rasa's own ``SocketIOInput`` lets any client join any conversation's room by naming it in
``session_request`` and write into any conversation by naming it in each message; this
channel, under the same name (``socketio``), does not:

- ``session_request {"session_id": SECRET}``: the socket joins the room of the conversation
  derived from the secret (:func:`connectors.widget_session.widget_sender_id`); a missing or
  malformed secret is replaced by a new random one, which ``session_confirm`` hands back (as
  rasa-webchat expects). Knowing a conversation's id is not enough to join it.
- ``user_uttered {"message": ..., "metadata": {...}}`` goes to the conversation the socket
  joined, through the input gate (:mod:`connectors.gate`) and the conversation's binding
  (:mod:`connectors.binding`); a refused message is answered to that socket alone with a
  ``bot_uttered`` explaining why (when the customer can be told) and a ``refused`` event
  ``{"code": ...}``. A ``session_id`` in a message must be the socket's own secret.
- While the action server is away (restarting), a message is held, the customer is told to
  wait a moment, and it is answered once the action server is back
  (:func:`connectors.action_outage.run_held`).
- A turn's answer is emitted once the event broker holds the turn's events (with RabbitMQ:
  confirmed, see :mod:`connectors.durable_broker`), so that a crash right after answering
  loses none.
- The client's address is put into the metadata as ``origin`` (a digest, never the address),
  for per-address limits on tickets; a client cannot set it.
- Agents' replies, delivered through Rasa's HTTP API with ``output_channel=socketio``, carry
  the agent's display name in the message's metadata:
  ``{"text": ..., "metadata": {"agent_name": "Nina"}}``. Standard Rasa clients (rasa-webchat)
  take a message for text only when its keys are ``text`` (and ``buttons``/``quick_replies``)
  once ``metadata`` is set aside, so an extra top-level key would make them drop it.
- Browsers may connect, by websocket or long-polling, only from the pages of
  ``cors_allowed_origins`` (comma-separated) and ``page_origin`` (the web service's, where the
  demo page is): python-socketio answers CORS for those and refuses any other ``Origin``
  with a 400 (:func:`connectors.widget_session.widget_origins`). Clients that send no
  ``Origin`` (servers, tests) are not browsers and are not checked.
- Several Rasa servers: with ``redis_url`` set, the servers share python-socketio's Redis
  client manager (:func:`connectors.socketio_manager.shared_client_manager`), so that a message any of them emits into a
  conversation's room (the bot's answer, an agent's reply delivered through another server's
  HTTP API) reaches the socket wherever it is connected. Rooms stay in each server's memory,
  so a client's requests must keep reaching one server (sticky sessions at the load balancer,
  needed anyway for the long-polling transport). Empty: each server on its own, as one
  server needs.

credentials.yml::

    connectors.socketio.WidgetSocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      max_message_chars: ${MAX_MESSAGE_CHARS}
      identity_secret: ${IDENTITY_SECRET}
      cors_allowed_origins: ${CORS_ALLOWED_ORIGINS}
      page_origin: ${WIDGET_PAGE_ORIGIN}
      redis_url: ${REDIS_URL}
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from connectors.action_outage import ActionServerProbe, run_held
from connectors.binding import ConversationBinding
from connectors.durable_broker import events_settled
from connectors.gate import Refused, admit, message_limit, reply_language
from connectors.rewind import undo_failed_turn
from connectors.socketio_manager import shared_client_manager
from connectors.widget_session import valid_secret, widget_origins, widget_sender_id
from vocabulary import MetadataKey

log = logging.getLogger(__name__)

# One message with its metadata is a few kB; nothing a widget sends needs more.
MAX_PACKET_BYTES = 64 * 1024


def origin_of(environ: dict[str, Any]) -> str | None:
    """A digest of the client's address (never the address itself), for rate limits."""
    request = environ.get("sanic.request")
    # remote_addr: the client behind trusted proxies (Sanic's PROXIES_COUNT / REAL_IP_HEADER,
    # e.g. SANIC_PROXIES_COUNT=1 behind one load balancer); else the peer's address.
    address = getattr(request, "remote_addr", None) or getattr(request, "ip", None)
    if not address:
        return None
    return hashlib.sha256(f"origin:{address}".encode()).hexdigest()[:16]


class AgentAwareSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output, with an agent's name in the metadata of the agent's replies;
    it counts what it sent.

    With ``hold=True`` (a widget turn's own answer) the messages are kept until :meth:`release`,
    which the channel calls once the turn's events are in the event broker; agents' replies
    (Rasa's HTTP API, through :meth:`WidgetSocketIOInput.get_output_channel`) go out at once.
    """

    def __init__(self, sio: AsyncServer, bot_message_evt: str, hold: bool = False) -> None:
        super().__init__(sio, bot_message_evt)
        self.sent = 0
        self._held: list[tuple[str, Any]] | None = [] if hold else None

    async def _send_message(self, socket_id: str, response: Any) -> None:
        if self._held is not None:
            self._held.append((socket_id, response))
        else:
            await super()._send_message(socket_id, response)
        self.sent += 1

    async def release(self) -> None:
        """Emits the held messages, in order; from then on messages go out at once."""
        held, self._held = self._held or [], None
        for socket_id, message in held:
            await super()._send_message(socket_id, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        agent = kwargs.get(MetadataKey.AGENT_NAME)
        for part in text.strip().split("\n\n"):
            message: dict[str, Any] = {"text": part}
            if agent:
                message["metadata"] = {MetadataKey.AGENT_NAME.value: str(agent)}
            await self._send_message(recipient_id, message)


class WidgetSocketIOInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WidgetSocketIOInput:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("socketio_path", "/socket.io"),
            message_limit(credentials.get("max_message_chars")),
            str(credentials.get("identity_secret") or ""),
            credentials.get("metadata_key", "metadata"),
            widget_origins(
                str(credentials.get("cors_allowed_origins") or ""),
                str(credentials.get("page_origin") or ""),
            ),
            str(credentials.get("redis_url") or ""),
        )

    def __init__(
        self,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        socketio_path: str = "/socket.io",
        max_message_chars: int = 1000,
        identity_secret: str = "",
        metadata_key: str = "metadata",
        allowed_origins: list[str] | None = None,
        redis_url: str = "",
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.socketio_path = socketio_path
        self.max_message_chars = max_message_chars
        self.metadata_key = metadata_key
        # None: python-socketio's same-origin rule; never [], which turns its check off.
        self.allowed_origins = allowed_origins or None
        self.redis_url = redis_url
        self.binding = ConversationBinding(identity_secret)
        self.actions = ActionServerProbe()
        self.sio: AsyncServer | None = None
        self._app: Any = None

    @property
    def _server(self) -> AsyncServer:
        """The socket.io server of :meth:`blueprint`, which runs before any socket connects."""
        if self.sio is None:
            raise RuntimeError("the socket.io server is made by blueprint()")
        return self.sio

    @property
    def _tracker_store(self) -> Any:
        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        return getattr(agent, "tracker_store", None)

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return None
        return AgentAwareSocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.allowed_origins,
            cors_credentials=False,  # the widget sends no cookies
            max_http_buffer_size=MAX_PACKET_BYTES,
            client_manager=shared_client_manager(self.redis_url),
        )
        self.sio = sio
        blueprint = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)

        @blueprint.listener("before_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            self._app = app  # its agent (and tracker store) is loaded after this runs

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect")
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            await sio.save_session(sid, {"origin": origin_of(environ)})
            return True

        @sio.on("session_request")
        async def session_request(sid: str, data: Any = None) -> None:
            await self._join(sid, data.get("session_id") if isinstance(data, dict) else None)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: str, data: Any = None) -> None:
            await self._receive(sid, data, on_new_message)

        return blueprint

    async def _join(self, sid: str, secret: object) -> None:
        """Put the socket into the room of the conversation ``secret`` opens."""
        if not valid_secret(secret):
            secret = secrets.token_hex(16)
        sio = self._server
        session = await sio.get_session(sid)
        sender_id = widget_sender_id(secret)
        if session.get("sender_id") not in (None, sender_id):
            sio.leave_room(sid, session["sender_id"])
        sio.enter_room(sid, sender_id)
        session.update(secret=secret, sender_id=sender_id)
        await sio.save_session(sid, session)
        await sio.emit("session_confirm", secret, room=sid)

    async def _refuse(self, sid: str, refused: Refused) -> None:
        log.info("socket.io message refused: %s", refused.code)
        sio = self._server
        if refused.reply:
            await sio.emit(self.bot_message_evt, {"text": refused.reply}, room=sid)
        await sio.emit("refused", {"code": refused.code, "detail": refused.detail}, room=sid)

    async def _receive(
        self, sid: str, data: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        sio = self._server
        session = await sio.get_session(sid)
        if not isinstance(data, dict):
            data = {}
        try:
            if not session.get("sender_id"):
                raise Refused("no_session", "send session_request first", 400)
            claimed = data.get("session_id")
            if claimed is not None and claimed != session["secret"]:
                raise Refused("wrong_session", "the session_id is not this socket's", 403)
            metadata = data.get(self.metadata_key)
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = "not JSON"  # refused by the gate
            message = admit(
                session["sender_id"], data.get("message"), metadata, self.max_message_chars
            )
            await self.binding.check(
                self._tracker_store,
                message.sender_id,
                self.name(),
                message.metadata,
                reply_language(message.text, message.metadata),
            )
        except Refused as refused:
            await self._refuse(sid, refused)
            return
        metadata = dict(message.metadata)
        if session.get("origin"):
            metadata[MetadataKey.ORIGIN.value] = session["origin"]

        async def run(message_id: str) -> int:
            output = AgentAwareSocketIOOutput(sio, self.bot_message_evt, hold=True)
            try:
                await on_new_message(
                    UserMessage(
                        message.text,
                        output,
                        message.sender_id,
                        input_channel=self.name(),
                        metadata=metadata,
                        message_id=message_id,
                    )
                )
                await events_settled(agent, message.sender_id)  # answered once RabbitMQ has it
            finally:
                await output.release()
            return output.sent

        async def tell(text: str) -> None:
            await sio.emit(self.bot_message_evt, {"text": text}, room=sid)

        async def undo(message_id: str) -> bool:
            return await undo_failed_turn(agent, message.sender_id, message_id)

        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        await run_held(
            getattr(agent, "action_endpoint", None),
            self.actions,
            reply_language(message.text, message.metadata),
            run,
            undo,
            tell,
        )
