"""A small shared store with expiry: a SQLite file by default (one Rasa server; what it
remembers survives a restart, so a callback WeChat retries after one is not answered twice),
Redis when several Rasa servers answer the same Official Account (WeChat wants one central
access token, and a retry may reach another server than the first try), or in process (tests).

Values are strings; every key expires. Waiting is done by polling (``poll_interval``), which
both stores support and which keeps the callers simple.

>>> state = MemoryState()
>>> asyncio.run(state.add("k", "first", ttl=5)), asyncio.run(state.add("k", "second", ttl=5))
(True, False)
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol


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

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
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


class SqliteState:
    """One server's store in a SQLite file, kept across restarts (``RUN_DIR``); expiry by the
    wall clock, since a restart resets the monotonic one."""

    poll_interval = 0.02

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time) -> None:
        self._path = str(path)
        self._clock = clock
        self._lock = asyncio.Lock()
        Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT, until REAL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, timeout=5, isolation_level="IMMEDIATE")

    def _run(self, statement: str, *args: object) -> list[tuple[Any, ...]]:
        with self._connect() as db:
            db.execute("DELETE FROM state WHERE until <= ?", (self._clock(),))
            rows = db.execute(statement, args).fetchall()
        return rows

    async def _call(self, statement: str, *args: object) -> list[tuple[Any, ...]]:
        async with self._lock:
            return await asyncio.to_thread(self._run, statement, *args)

    async def add(self, key: str, value: str, ttl: float) -> bool:
        until = self._clock() + ttl
        added = await self._call(
            "INSERT INTO state VALUES (?, ?, ?) ON CONFLICT(key) DO NOTHING RETURNING key",
            key,
            value,
            until,
        )
        return bool(added)

    async def get(self, key: str) -> str | None:
        rows = await self._call("SELECT value FROM state WHERE key = ?", key)
        return rows[0][0] if rows else None

    async def put(self, key: str, value: str, ttl: float) -> None:
        await self._call(
            "INSERT OR REPLACE INTO state VALUES (?, ?, ?)", key, value, self._clock() + ttl
        )

    async def touch(self, key: str, ttl: float) -> None:
        await self._call("UPDATE state SET until = ? WHERE key = ?", self._clock() + ttl, key)

    async def delete(self, key: str) -> None:
        await self._call("DELETE FROM state WHERE key = ?", key)

    async def close(self) -> None:
        pass


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
        value: str | None = await self._redis.get(self._key(key))  # decode_responses: text
        return value

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
