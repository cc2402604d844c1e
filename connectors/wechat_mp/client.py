"""WeChat's customer-service message API, with the access token it needs.

The token is cached in the shared store (WeChat wants one central copy: a new token revokes
the old one after a few minutes), renewed ``refresh_margin`` seconds before it expires and at
once when WeChat calls it invalid (40001, 40014, 42001). One caller refreshes at a time, the
others wait for its result. Texts longer than WeChat's 2048 UTF-8 bytes go out in several
messages, split at character (preferably line) boundaries. Transient failures are retried with
backoff; a refusal for this customer (45015: they have not written for 48 hours) raises
:class:`~connectors.refusals.Undeliverable` at once.

>>> client = CustomerServiceClient("wx_app", "secret", MemoryState())  # doctest: +SKIP
>>> await client.send_text("oOpenID", "您好")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp

from connectors.refusals import Undeliverable
from connectors.wechat_mp.state import MemoryState, SharedState

log = logging.getLogger(__name__)

WECHAT_API = "https://api.weixin.qq.com"
TEXT_LIMIT_BYTES = 2048
INVALID_TOKEN = {40001, 40014, 42001}
BUSY = {-1}
REFUSED = {
    45015: "WeChat refused it: the customer has not written in the last 48 hours",
    45047: "WeChat refused it: too many messages since the customer last wrote",
    43004: "WeChat refused it: the customer no longer follows the account",
    40003: "WeChat refused it: the OpenID does not belong to this account",
}


class WeChatApiError(RuntimeError):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"WeChat API error {code}: {message}")
        self.code = code


def split_text(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-8 bytes, never inside a character; a piece
    ends at its last line break when that keeps at least half of it.

    >>> [len(p.encode()) for p in split_text("é" * 1500)]
    [2048, 952]
    """
    pieces: list[str] = []
    while len(text.encode("utf-8")) > limit:
        size, end = 0, 0
        for end, char in enumerate(text):  # noqa: B007 - end is used after the loop
            size += len(char.encode("utf-8"))
            if size > limit:
                break
        line_break = text.rfind("\n", 0, end)
        if line_break >= end // 2:
            end = line_break + 1
        pieces.append(text[:end].rstrip("\n"))
        text = text[end:]
    if text.strip() or not pieces:
        pieces.append(text)
    return pieces


class CustomerServiceClient:
    """Args:
    app_id, app_secret: the Official Account's credentials.
    state: where the access token is cached and locked (shared across servers at scale).
    base_url: WeChat's API, or a fake of it in tests.
    attempts: tries per call for transient failures (busy, 5xx, network).
    """

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        state: SharedState | None = None,
        base_url: str = WECHAT_API,
        attempts: int = 3,
        backoff: float = 0.5,
        refresh_margin: float = 300.0,
        timeout: float = 10.0,
    ) -> None:
        self._app_id = app_id
        self._secret = app_secret
        self._state = state or MemoryState()
        self._base = (base_url or WECHAT_API).rstrip("/")
        self._attempts = attempts
        self._backoff = backoff
        self._margin = refresh_margin
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self.refreshes = 0

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def access_token(self, invalid: str | None = None) -> str:
        """The current token; ``invalid``: a token WeChat refused, to be replaced."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            token = await self._state.get("token")
            if token and token != invalid:
                return token
            if await self._state.add("token-lock", "1", ttl=15):
                try:
                    token = await self._state.get("token")  # refreshed while we asked
                    if token and token != invalid:
                        return token
                    return await self._refresh()
                finally:
                    await self._state.delete("token-lock")
            await asyncio.sleep(self._state.poll_interval)  # another caller is refreshing
        raise WeChatApiError(-1, "no access token: the refresh did not finish")

    async def _refresh(self) -> str:
        body = await self._request(
            "GET",
            "/cgi-bin/token",
            params={
                "grant_type": "client_credential",
                "appid": self._app_id,
                "secret": self._secret,
            },
        )
        token, expires_in = body.get("access_token"), int(body.get("expires_in") or 7200)
        if not token or not isinstance(token, str):
            raise WeChatApiError(int(body.get("errcode", -1)), str(body.get("errmsg", "no token")))
        # Renewed ahead of expiry; a token shorter-lived than twice the margin at half-life.
        ttl = expires_in - self._margin if expires_in > 2 * self._margin else expires_in / 2
        await self._state.put("token", token, ttl)
        self.refreshes += 1
        log.info("WeChat access token refreshed, valid for %.0f s", ttl)
        return token

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One API call with retries of transient failures; the decoded JSON answer."""
        http = await self._http()
        for attempt in range(1, self._attempts + 1):
            try:
                async with http.request(method, self._base + path, **kwargs) as response:
                    if response.status >= 500:
                        raise WeChatApiError(-1, f"HTTP {response.status}")
                    body = json.loads(await response.read())
                    if not isinstance(body, dict):
                        raise ValueError("not a JSON object")
                if int(body.get("errcode") or 0) not in BUSY:
                    return body
                error: Exception = WeChatApiError(-1, str(body.get("errmsg", "system busy")))
            except (aiohttp.ClientError, asyncio.TimeoutError, WeChatApiError) as exc:
                error = exc
            except ValueError as exc:  # not JSON
                error = WeChatApiError(-1, f"unreadable answer: {exc}")
            if attempt < self._attempts:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
        raise error

    async def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``payload`` to an API that takes the access token; renews a refused token once."""
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        token = await self.access_token()
        for renewed in (False, True):
            body = await self._request(
                "POST",
                path,
                params={"access_token": token},
                data=data,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
            code = int(body.get("errcode") or 0)
            if code in INVALID_TOKEN and not renewed:
                token = await self.access_token(invalid=token)
                continue
            if code in REFUSED:
                raise Undeliverable(f"{REFUSED[code]} (errcode {code})")
            if code:
                raise WeChatApiError(code, str(body.get("errmsg", "")))
            return body
        raise AssertionError("unreachable")

    async def send_text(self, openid: str, text: str) -> None:
        """Send ``text`` to the customer, in as many messages as its length needs."""
        for piece in split_text(text):
            await self.call(
                "/cgi-bin/message/custom/send",
                {"touser": openid, "msgtype": "text", "text": {"content": piece}},
            )
