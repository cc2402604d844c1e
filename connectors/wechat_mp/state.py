"""A small shared store with expiry: in process by default, Redis when several Rasa servers
answer the same Official Account (WeChat wants one central access token, and a retry may reach
another server than the first try).

Values are strings; every key expires. Waiting is done by polling (``poll_interval``), which
both stores support and which keeps the callers simple.

>>> state = MemoryState()
>>> asyncio.run(state.add("k", "first", ttl=5)), asyncio.run(state.add("k", "second", ttl=5))
(True, False)
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class SharedState(Protocol):
    poll_interval: float

    async def add(self, key: str, value: str, ttl: float) -> bool:
        """Set ``key`` unless it exists; whether it was set."""

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str, ttl: float) -> None: ...

    async def touch(self, key: str, ttl: float) -> None:
        """Extend a key's life (a lease's heartbeat)."""

    async def delete(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryState:
    """One process's store (the default: one Rasa server)."""

    poll_interval = 0.01

    def __init__(self, clock=time.monotonic) -> None:
        self._items: dict[str, tuple[str, float]] = {}
        self._clock = clock

    def _live(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[1] <= self._clock():
            del self._items[key]
            return None
        return item[0]

    def _expire_some(self) -> None:
        now = self._clock()
        for key in [k for k, (_, until) in list(self._items.items())[:64] if until <= now]:
            del self._items[key]

    async def add(self, key: str, value: str, ttl: float) -> bool:
        self._expire_some()
        if self._live(key) is not None:
            return False
        self._items[key] = (value, self._clock() + ttl)
        return True

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def put(self, key: str, value: str, ttl: float) -> None:
        self._items[key] = (value, self._clock() + ttl)

    async def touch(self, key: str, ttl: float) -> None:
        value = self._live(key)
        if value is not None:
            self._items[key] = (value, self._clock() + ttl)

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def close(self) -> None:
        self._items.clear()


class RedisState:
    """The store shared by every Rasa server of the account, in Redis (``REDIS_URL``)."""

    poll_interval = 0.05

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio  # only needed at scale

        self._redis = redis.asyncio.Redis.from_url(url, decode_responses=True)
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    async def add(self, key: str, value: str, ttl: float) -> bool:
        return bool(await self._redis.set(self._key(key), value, px=_ms(ttl), nx=True))

    async def get(self, key: str) -> str | None:
        return await self._redis.get(self._key(key))

    async def put(self, key: str, value: str, ttl: float) -> None:
        await self._redis.set(self._key(key), value, px=_ms(ttl))

    async def touch(self, key: str, ttl: float) -> None:
        await self._redis.pexpire(self._key(key), _ms(ttl))

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._key(key))

    async def close(self) -> None:
        await self._redis.close()


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


async def wait_for_value(state: SharedState, key: str, timeout: float) -> str | None:
    """``key``'s value as soon as it is set, or None after ``timeout`` seconds."""
    deadline = time.monotonic() + max(0.0, timeout)
    while True:
        value = await state.get(key)
        if value is not None or time.monotonic() >= deadline:
            return value
        await asyncio.sleep(min(state.poll_interval, max(0.0, deadline - time.monotonic())))
