"""Sliding-window rate limits per key (a client address), in this process or shared in Redis.

A web service alone keeps its windows in memory. Several web services behind a load balancer
share them in Redis (``REDIS_URL``): otherwise a client whose requests are spread over two
services would get twice the limit. :class:`RateLimits` makes the limiters of one web service
and picks the store; each limiter has a name, which prefixes its keys in Redis.

When Redis cannot be reached the widget keeps working: each limiter falls back to its own
in-process window (so every web service still limits on its own), logs the outage once, and
tries Redis again after :data:`RETRY_PAUSE` seconds.

>>> limits = RateLimits("")  # no REDIS_URL: windows in this process
>>> limiter = limits.limiter("widget-history", limit=2, window=60.0)
>>> [asyncio.run(limiter.allow("203.0.113.9")) for _ in range(3)]
[True, True, False]
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import defaultdict, deque
from typing import Protocol

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "shop-assistant:rate-limit"
RETRY_PAUSE = 5.0  # seconds without asking Redis after it failed
TIMEOUT = 0.5  # seconds: a request waits no longer than this for Redis before falling back

# One atomic step of a sliding window kept as a sorted set of call times (microseconds of
# Redis's own clock, so that the web services' clocks need not agree): forget the calls that
# left the window, refuse when ``limit`` remain, else record this one. The key expires with the
# window, so idle clients leave nothing behind. Same semantics as :class:`LocalRateLimiter`.
SLIDING_WINDOW = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000000 + tonumber(now_t[2])
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
    return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return 1
"""


class RateLimiter(Protocol):
    """At most ``limit`` calls per key in any ``window`` seconds."""

    limit: int
    window: float

    async def allow(self, key: str) -> bool:
        """Counts a call for ``key``; False (and not counted) when the limit is reached."""
        ...


class LocalRateLimiter:
    """A :class:`RateLimiter` for this process alone."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._calls: dict[str, deque[float]] = defaultdict(deque)

    async def allow(self, key: str) -> bool:
        return self.allow_now(key)

    def allow_now(self, key: str) -> bool:
        now = time.monotonic()
        calls = self._calls[key]
        while calls and calls[0] <= now - self.window:
            calls.popleft()
        if len(calls) >= self.limit:
            return False
        calls.append(now)
        return True


class RedisRateLimiter:
    """A :class:`RateLimiter` shared by every process that uses the same Redis and name."""

    def __init__(self, limits: RateLimits, name: str, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._limits = limits
        self._prefix = f"{limits.prefix}:{name}:"
        self._window_us = max(1, round(window * 1_000_000))
        self._fallback = LocalRateLimiter(limit, window)

    async def allow(self, key: str) -> bool:
        if not self._limits.redis_usable():
            return self._fallback.allow_now(key)
        try:
            allowed = await self._limits.run_script(
                self._prefix + key, self._window_us, self.limit, uuid.uuid4().hex
            )
        except (RedisError, OSError, asyncio.TimeoutError) as exc:
            self._limits.redis_failed(exc)
            return self._fallback.allow_now(key)
        self._limits.redis_answered()
        return bool(allowed)


class RateLimits:
    """The rate limiters of one web service: in Redis when ``redis_url`` is set, else local.

    ``close()`` when the service stops (the application does, see :func:`bot.web.app.create_app`).
    """

    def __init__(
        self, redis_url: str, prefix: str = PREFIX, retry_pause: float = RETRY_PAUSE
    ) -> None:
        self.prefix = prefix
        self._retry_pause = retry_pause
        self._down_until: float | None = None  # set while Redis is taken to be away
        self._redis = (
            Redis.from_url(redis_url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
            if redis_url
            else None
        )
        self._script = self._redis.register_script(SLIDING_WINDOW) if self._redis else None

    @property
    def shared(self) -> bool:
        """Whether the limits hold across the web services (Redis is configured)."""
        return self._redis is not None

    def limiter(self, name: str, limit: int, window: float) -> RateLimiter:
        """A limiter of ``limit`` calls per key and ``window`` seconds; ``name`` tells it from
        the others (and must be the same on every web service)."""
        if self._redis is None:
            return LocalRateLimiter(limit, window)
        return RedisRateLimiter(self, name, limit, window)

    async def run_script(self, key: str, window_us: int, limit: int, member: str) -> int:
        assert self._script is not None
        return int(await self._script(keys=[key], args=[window_us, limit, member]))

    def redis_usable(self) -> bool:
        return self._down_until is None or time.monotonic() >= self._down_until

    def redis_failed(self, exc: BaseException) -> None:
        if self._down_until is None:
            log.warning(
                "rate limits: Redis is unavailable (%s); each web service limits on its own "
                "until it is back",
                exc or type(exc).__name__,
            )
        self._down_until = time.monotonic() + self._retry_pause

    def redis_answered(self) -> None:
        if self._down_until is not None:
            log.info("rate limits: Redis is back; the limits are shared again")
            self._down_until = None

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.close(close_connection_pool=True)


# The root application's rate limits, made by create_app before the widget's routes.
RATE_LIMITS = web.AppKey("rate_limits", RateLimits)
