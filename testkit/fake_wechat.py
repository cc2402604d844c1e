"""A fake of WeChat's API server on loopback, for the connector's tests and the benchmarks.

It follows WeChat's documented protocol for what the connector uses: ``GET /cgi-bin/token``
(client_credential grant) and ``POST /cgi-bin/message/custom/send``, with errcode answers.
Callers script failures (an errcode or an HTTP status for the next calls), expire the token,
and read what was sent.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field

from aiohttp import web

APP_ID = "wx2c2769f8efd9abc2"
APP_SECRET = "test-app-secret"


@dataclass
class Sent:
    touser: str
    content: str


@dataclass
class FakeWeChat:
    app_id: str = APP_ID
    app_secret: str = APP_SECRET
    expires_in: int = 7200
    token_requests: int = 0
    sent: list[Sent] = field(default_factory=list)
    send_calls: int = 0
    # What the next custom-send calls answer instead of success: an errcode, or ("http", status).
    script: list[int | tuple[str, int]] = field(default_factory=list)
    token_delay: float = 0.0
    _token: str | None = None

    def expire_token(self) -> None:
        """The current token stops working (WeChat answers 42001 with it)."""
        self._token = None

    async def _token_endpoint(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("grant_type") != "client_credential":
            return web.json_response({"errcode": 40002, "errmsg": "invalid grant_type"})
        if query.get("appid") != self.app_id or query.get("secret") != self.app_secret:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        self.token_requests += 1
        self._token = f"ACCESS_TOKEN_{self.token_requests}"
        return web.json_response({"access_token": self._token, "expires_in": self.expires_in})

    async def _custom_send(self, request: web.Request) -> web.Response:
        self.send_calls += 1
        if self.script:
            scripted = self.script.pop(0)
            if isinstance(scripted, tuple):
                return web.Response(status=scripted[1], text="scripted failure")
            return web.json_response({"errcode": scripted, "errmsg": "scripted"})
        token = request.query.get("access_token")
        if not token:
            return web.json_response({"errcode": 41001, "errmsg": "access_token missing"})
        if token != self._token:
            code = 42001 if self._token is None else 40001
            return web.json_response({"errcode": code, "errmsg": "invalid or expired token"})
        body = json.loads(await request.read())  # WeChat wants UTF-8 JSON
        if body.get("msgtype") != "text" or not body.get("touser"):
            return web.json_response({"errcode": 40008, "errmsg": "invalid message type"})
        content = body["text"]["content"]
        if len(content.encode("utf-8")) > 2048:
            return web.json_response({"errcode": 45002, "errmsg": "content size out of limit"})
        self.sent.append(Sent(body["touser"], content))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token_endpoint)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        return app


class ThreadedFakeWeChat:
    """The fake served from its own thread and event loop, for other processes to call."""

    def __init__(self, fake: FakeWeChat, port: int = 0) -> None:
        self.fake = fake
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def __enter__(self) -> ThreadedFakeWeChat:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.fake.app())
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    def call(self, function, *args):
        """Run ``function`` on the server's loop (the fake is not thread-safe)."""
        return self._loop.call_soon_threadsafe(function, *args)

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


TOKEN = "spamtest"
ENCODING_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCOUNT = "gh_10f6c3c3ac5a"


class WeChatCallbacks:
    """Builds the callbacks WeChat's servers would send (signed, encrypted in safe mode), and
    opens the passive replies the way WeChat does (signature checked, then decrypted)."""

    def __init__(self, token: str = TOKEN, encoding_aes_key: str = "", app_id: str = APP_ID):
        from connectors.wechat_mp.crypto import MessageCrypto

        self.token = token
        self.crypto = MessageCrypto(encoding_aes_key, app_id) if encoding_aes_key else None
        self._nonce = 1000

    def text(self, sender: str, content: str, msg_id: str, **extra: str) -> dict[str, str]:
        return {
            "FromUserName": sender,
            "MsgType": "text",
            "Content": content,
            "MsgId": msg_id,
            **extra,
        }

    def event(self, sender: str, event: str, create_time: int) -> dict[str, str]:
        return {
            "FromUserName": sender,
            "MsgType": "event",
            "Event": event,
            "CreateTime": str(create_time),
        }

    def request(
        self, fields: dict[str, str], timestamp: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        """The query and body of the callback carrying ``fields``."""
        from connectors.wechat_mp.crypto import sign

        fields = {"ToUserName": ACCOUNT, "CreateTime": str(int(time.time())), **fields}
        body = (
            "<xml>"
            + "".join(
                f"<{k}><![CDATA[{v}]]></{k}>" if not str(v).isdigit() else f"<{k}>{v}</{k}>"
                for k, v in fields.items()
            )
            + "</xml>"
        )
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        self._nonce += 1
        nonce = str(self._nonce)
        query = {
            "signature": sign(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": fields["FromUserName"],
        }
        if self.crypto is None:
            return query, body.encode()
        encrypt = self.crypto.encrypt(body.encode())
        query.update(encrypt_type="aes", msg_signature=sign(self.token, timestamp, nonce, encrypt))
        envelope = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        return query, envelope.encode()

    def open_reply(self, body: str | bytes) -> dict[str, str] | None:
        """The passive reply's fields, None for ``success``; AssertionError if it is forged."""
        from connectors.wechat_mp.crypto import check_signature
        from connectors.wechat_mp.messages import parse_fields

        data = body.encode() if isinstance(body, str) else body
        if data in (b"success", b""):
            return None
        fields = parse_fields(data)
        if self.crypto is None:
            return fields
        assert set(fields) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}, fields
        check_signature(
            fields["MsgSignature"],
            self.token,
            fields["TimeStamp"],
            fields["Nonce"],
            fields["Encrypt"],
        )
        return parse_fields(self.crypto.decrypt(fields["Encrypt"]))
