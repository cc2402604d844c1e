"""What the callback URL does with WeChat's requests, apart from any web framework.

``GET`` verifies the URL: a correct signature gets ``echostr`` back. ``POST`` is a message:

1. ``signature`` (token, timestamp, nonce) is checked before anything is parsed, and a
   timestamp outside ``replay_window`` is refused: both get 403 and never reach Rasa;
2. in safe mode the envelope's ``Encrypt`` must carry a valid ``msg_signature`` and decrypt for
   this app id (403 otherwise); the XML is parsed with DTDs forbidden (400 if it is not a
   message);
3. text, and voice with WeChat's ``Recognition``, go to Rasa with the OpenID as sender;
   ``subscribe`` goes as ``/subscribe`` (a welcome), ``unsubscribe`` as ``/unsubscribe`` (noted in
   the profile, nothing is sent); other message types get a polite text at once;
4. the answer goes back passively, encrypted in safe mode, if the turn ends within
   ``reply_deadline`` seconds; otherwise the request gets ``success`` and the answer follows
   through the customer-service API. Retries of the same message never start a second turn or
   send a second answer (see :mod:`~connectors.wechat_mp.retries`).

>>> async def run_turn(sender, text, metadata):  # the channel runs Rasa's turn here
...     return [{"text": f"You said: {text}"}]
>>> endpoint = CallbackEndpoint(WeChatConfig(token="spamtest"), run_turn, clock=lambda: 1409735669)
>>> query = {"timestamp": "1409735669", "nonce": "1320562132"}
>>> query["signature"] = sign("spamtest", query["timestamp"], query["nonce"])
>>> endpoint.verify_url({**query, "echostr": "hello"})
Reply(status=200, body='hello', content_type='text/plain; charset=utf-8')
>>> reply = asyncio.run(endpoint.handle(query, b"<xml><ToUserName>gh_1</ToUserName>"
...     b"<FromUserName>o_1</FromUserName><CreateTime>1409735669</CreateTime>"
...     b"<MsgType>text</MsgType><Content>hi</Content><MsgId>42</MsgId></xml>"))
>>> print(reply.body)
<xml><ToUserName><![CDATA[o_1]]></ToUserName><FromUserName><![CDATA[gh_1]]></FromUserName><CreateTime>1409735669</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[You said: hi]]></Content></xml>
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connectors.wechat_mp.client import TEXT_LIMIT_BYTES, WECHAT_API, CustomerServiceClient
from connectors.wechat_mp.crypto import (
    DecryptionError,
    MessageCrypto,
    SignatureError,
    check_signature,
    sign,
)
from connectors.wechat_mp.messages import (
    Message,
    MessageError,
    encrypted_envelope,
    parse_fields,
    parse_message,
    text_reply,
)
from connectors.wechat_mp.render import chosen_payload, remember_choices, render_messages
from connectors.wechat_mp.retries import RetryLedger
from connectors.wechat_mp.state import MemoryState, SharedState

log = logging.getLogger(__name__)

# (sender, text, metadata) -> the bot's messages, as Rasa's CollectingOutputChannel holds them
TurnRunner = Callable[[str, str, dict[str, Any]], Awaitable[list[dict[str, Any]]]]

SUCCESS = "success"  # WeChat's "received, no passive reply"
# WeChat is a Chinese app: a message with no language of its own (an event, "ok") gets Chinese.
LANGUAGE_HINT = "zh"
UNSUPPORTED_TYPE = (
    "抱歉，我目前只能读懂文字和语音消息，请用文字描述您的问题。\n"
    "Sorry, I can only read text and voice messages: please type your question."
)
UNRECOGNISED_VOICE = (
    "抱歉，这条语音我没有听清，请用文字再说一次。\n"
    "Sorry, I could not make out that voice message: please type it."
)


@dataclass(frozen=True)
class WeChatConfig:
    """The channel's settings (``credentials.yml``, from ``WECHAT_*`` environment variables)."""

    token: str
    app_id: str = ""
    app_secret: str = ""
    encoding_aes_key: str = ""  # set: safe mode (compatible mode too), messages are encrypted
    api_base_url: str = WECHAT_API
    redis_url: str = ""  # set: token and retry ledger shared by several Rasa servers
    state_path: str = ""  # else: kept in this SQLite file, across restarts (else in memory)
    replay_window: float = 300.0
    reply_deadline: float = 4.0
    max_body_bytes: int = 64 * 1024

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any]) -> WeChatConfig:
        """The settings from ``credentials.yml``; empty values take the defaults."""
        given = {key: value for key, value in credentials.items() if value not in (None, "")}
        unknown = set(given) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"WeChat channel: unknown settings {sorted(unknown)}")
        if not str(given.get("token", "")).strip():
            raise ValueError("WeChat channel: token (WECHAT_TOKEN) is required")
        numbers = {"replay_window": float, "reply_deadline": float, "max_body_bytes": int}
        try:
            values: dict[str, Any] = {
                k: numbers[k](v) if k in numbers else str(v) for k, v in given.items()
            }
        except ValueError as exc:
            raise ValueError(f"WeChat channel: {exc}") from None
        config = cls(**values)
        if config.encoding_aes_key:
            if not config.app_id:
                raise ValueError("WeChat channel: safe mode needs the app id (WECHAT_APP_ID)")
            MessageCrypto(config.encoding_aes_key, config.app_id)  # refuses a malformed key
        if not 0 < config.reply_deadline < 5:
            raise ValueError("WeChat channel: reply_deadline must be between 0 and 5 seconds")
        return config


@dataclass(frozen=True)
class Reply:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


FORBIDDEN = Reply(403, "forbidden")


class CallbackEndpoint:
    def __init__(
        self,
        config: WeChatConfig,
        run_turn: TurnRunner,
        state: SharedState | None = None,
        client: CustomerServiceClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.state = state or MemoryState()
        self.client = client or CustomerServiceClient(
            config.app_id, config.app_secret, self.state, config.api_base_url
        )
        self.ledger = RetryLedger(self.state)
        self._run_turn = run_turn
        self._clock = clock
        self._crypto = (
            MessageCrypto(config.encoding_aes_key, config.app_id)
            if config.encoding_aes_key
            else None
        )
        self._tasks: set[asyncio.Task[None]] = set()

    def _check_origin(self, query: Mapping[str, str]) -> tuple[str, str]:
        """The request's timestamp and nonce, once its signature and age are checked."""
        timestamp, nonce = query.get("timestamp") or "", query.get("nonce") or ""
        check_signature(query.get("signature"), self.config.token, timestamp, nonce)
        try:
            age = abs(self._clock() - int(timestamp))
        except ValueError:
            raise SignatureError("timestamp is not a number") from None
        if age > self.config.replay_window:
            raise SignatureError(f"timestamp is {age:.0f} s away from now")
        return timestamp, nonce

    def verify_url(self, query: Mapping[str, str]) -> Reply:
        """WeChat's check of the callback URL (GET)."""
        try:
            self._check_origin(query)
        except SignatureError as exc:
            log.warning("WeChat URL verification refused: %s", exc)
            return FORBIDDEN
        return Reply(200, query.get("echostr") or "")

    async def handle(self, query: Mapping[str, str], body: bytes) -> Reply:
        """One callback (POST): the HTTP answer to give WeChat."""
        try:
            timestamp, nonce = self._check_origin(query)
        except SignatureError as exc:
            log.warning("WeChat callback refused: %s", exc)
            return FORBIDDEN
        if len(body) > self.config.max_body_bytes:
            return Reply(413, "too large")
        encrypted = query.get("encrypt_type") == "aes"
        try:
            if self._crypto is not None:
                if not encrypted:
                    raise SignatureError("safe mode: the message is not encrypted")
                encrypt = parse_fields(body).get("Encrypt") or ""
                check_signature(
                    query.get("msg_signature"), self.config.token, timestamp, nonce, encrypt
                )
                body = self._crypto.decrypt(encrypt)
            elif encrypted:
                log.error("WeChat sent an encrypted message: set WECHAT_ENCODING_AES_KEY")
                return Reply(400, "encrypted messages need the EncodingAESKey")
            message = parse_message(body)
        except (SignatureError, DecryptionError) as exc:
            log.warning("WeChat callback refused: %s", exc)
            return FORBIDDEN
        except MessageError as exc:
            log.warning("WeChat callback unreadable: %s", exc)
            return Reply(400, "not a WeChat message")
        text = await self._answer(message)
        if not text:
            return Reply(200, SUCCESS)
        return self._passive_reply(message, text, encrypted)

    def _passive_reply(self, message: Message, text: str, encrypted: bool) -> Reply:
        now = int(self._clock())
        xml = text_reply(message, text, create_time=now)
        if encrypted and self._crypto is not None:
            nonce = str(secrets.randbelow(10**10))
            encrypt = self._crypto.encrypt(xml.encode("utf-8"))
            signature = sign(self.config.token, str(now), nonce, encrypt)
            xml = encrypted_envelope(encrypt, signature, str(now), nonce)
        return Reply(200, xml, "application/xml; charset=utf-8")

    async def _answer(self, message: Message) -> str | None:
        """The passive reply's text, or None for ``success``."""
        if message.type == "event":
            if message.event not in ("subscribe", "unsubscribe"):
                return None  # menu clicks, location reports, ...: nothing to say
            text = f"/{message.event}"
        elif message.type in ("text", "voice"):
            text = message.text.strip()
            if not text:
                return UNRECOGNISED_VOICE if message.type == "voice" else None
            text = await chosen_payload(self.state, message.sender, text) or text
        else:
            return UNSUPPORTED_TYPE
        return await self._turn_reply(message, text)

    async def _turn_reply(self, message: Message, text: str) -> str | None:
        arrived = time.monotonic()
        key = message.dedupe_key
        if await self.ledger.start(key):
            self._spawn(self._turn(message, text, arrived))
        waited = time.monotonic() - arrived
        texts = await self.ledger.wait_reply(key, self.config.reply_deadline - waited)
        if texts is None:
            await self.ledger.hand_to_api(key)
            return None
        if not texts or not await self.ledger.claim(key):
            return None
        joined = "\n\n".join(texts)
        if len(joined.encode("utf-8")) <= TEXT_LIMIT_BYTES:
            return joined
        self._spawn(self._send(message.sender, texts))  # too long for one passive reply
        return None

    async def _turn(self, message: Message, text: str, arrived: float) -> None:
        metadata = {
            "language": LANGUAGE_HINT,
            "wechat": {
                "type": message.type,
                "event": message.event or None,
                "msg_id": message.fields.get("MsgId"),
                "account": message.account,
            },
        }
        key = message.dedupe_key
        try:
            async with self.ledger.running(key):
                bot_messages = await self._run_turn(message.sender, text, metadata)
        except Exception:
            log.exception("Rasa turn for WeChat message %s failed; WeChat's retry may redo it", key)
            return
        if message.event == "unsubscribe":
            bot_messages = []  # they no longer follow the account: WeChat would refuse it
        rendered = render_messages(bot_messages)
        await remember_choices(self.state, message.sender, rendered)
        await self.ledger.finish(key, rendered.texts)
        if rendered.texts and await self.ledger.should_send_by_api(key, arrived):
            await self._send(message.sender, rendered.texts)

    async def _send(self, openid: str, texts: list[str]) -> None:
        for text in texts:
            try:
                await self.client.send_text(openid, text)
            except Exception as exc:  # refused or unreachable: logged; nothing else to do
                log.warning("WeChat customer-service message to %s not sent: %s", openid, exc)
                return

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the turns and sends in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.client.close()
        await self.state.close()
