"""Rate limits that hold across web services: with REDIS_URL, two web services behind a load
balancer share one window per client, the window slides, and a Redis outage leaves the widget
working (each service then limits on its own). Against the local Redis (TEST_REDIS_URL), in a
database of its own, keys under a prefix of each test, removed afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from bot.settings import Settings
from bot.web.app import create_app
from bot.web.rate_limit import PREFIX, LocalRateLimiter, RateLimits
from bot.web.widget.history import RATE_LIMIT
from tests.support.databases import copy_sqlite

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
NO_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


async def _delete(client: Redis, pattern: str) -> None:
    async for key in client.scan_iter(match=pattern):
        await client.delete(key)


@pytest.fixture()
async def redis_prefix():
    """A key prefix of this test's own in the test Redis; its keys are deleted afterwards."""
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        await client.close()
        pytest.skip(f"no Redis at {REDIS_URL} ({exc}); set TEST_REDIS_URL")
    prefix = f"test-rate-limit-{uuid.uuid4().hex}"
    yield prefix
    await _delete(client, f"{prefix}:*")
    await client.close()


async def allowed(limiter, key: str, times: int) -> list[bool]:
    return [await limiter.allow(key) for _ in range(times)]


async def test_in_one_process_the_limit_holds_per_key_and_the_window_slides():
    limiter = LocalRateLimiter(2, 0.3)
    assert await allowed(limiter, "a", 3) == [True, True, False]
    assert await allowed(limiter, "b", 1) == [True]  # another client has its own window
    await asyncio.sleep(0.35)
    assert await allowed(limiter, "a", 3) == [True, True, False]


async def test_two_web_services_share_one_limit(redis_prefix):
    first, second = RateLimits(REDIS_URL, redis_prefix), RateLimits(REDIS_URL, redis_prefix)
    try:
        one = first.limiter("widget-history", 5, 60.0)
        other = second.limiter("widget-history", 5, 60.0)
        assert await allowed(one, "203.0.113.9", 3) == [True] * 3
        assert await allowed(other, "203.0.113.9", 3) == [True, True, False]
        assert await allowed(one, "203.0.113.9", 1) == [False]
        assert await allowed(other, "198.51.100.7", 1) == [True]  # per client
        # Another limiter's name is another window.
        assert await allowed(second.limiter("widget-seen", 5, 60.0), "203.0.113.9", 1) == [True]
    finally:
        await first.close()
        await second.close()


async def test_the_window_slides_and_the_keys_expire(redis_prefix):
    limits = RateLimits(REDIS_URL, redis_prefix)
    try:
        limiter = limits.limiter("widget-seen", 2, 1.0)
        assert await allowed(limiter, "ip", 1) == [True]  # t = 0
        await asyncio.sleep(0.5)
        assert await allowed(limiter, "ip", 2) == [True, False]  # t = 0.5: two in the window
        await asyncio.sleep(0.65)
        # t = 1.15: the first call left the window, the second (t = 0.5) has not: one more.
        assert await allowed(limiter, "ip", 2) == [True, False]
        client = Redis.from_url(REDIS_URL)
        try:
            ttl = await client.pttl(f"{redis_prefix}:widget-seen:ip")
        finally:
            await client.close()
        assert 0 < ttl <= 1000  # an idle client's window leaves nothing behind
    finally:
        await limits.close()


async def test_without_redis_each_service_limits_on_its_own_and_says_so_once(caplog):
    limits = RateLimits(NO_REDIS)
    try:
        limiter = limits.limiter("widget-history", 3, 60.0)
        with caplog.at_level(logging.WARNING, logger="bot.web.rate_limit"):
            assert await allowed(limiter, "ip", 5) == [True, True, True, False, False]
        outage = [r for r in caplog.records if "Redis is unavailable" in r.getMessage()]
        assert len(outage) == 1
    finally:
        await limits.close()


class Outage:
    """A TCP relay to the test Redis that can be cut and restored: a Redis outage and its end,
    without touching the Redis server other tests use."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_after_an_outage_the_limit_is_shared_again(redis_prefix, caplog):
    host, rest = REDIS_URL.removeprefix("redis://").split(":", 1)
    port, db = rest.split("/", 1)
    outage = Outage(host, int(port))
    await outage.up()
    cut = RateLimits(f"redis://127.0.0.1:{outage.port}/{db}", redis_prefix, retry_pause=0.2)
    direct = RateLimits(REDIS_URL, redis_prefix)
    try:
        limiter = cut.limiter("widget-history", 4, 60.0)
        assert await allowed(limiter, "ip", 2) == [True, True]  # through Redis
        await outage.down()
        with caplog.at_level(logging.INFO, logger="bot.web.rate_limit"):
            # Redis away: answered at once, from this service's own window (it starts empty).
            assert await allowed(limiter, "ip", 5) == [True, True, True, True, False]
            await outage.up()
            await asyncio.sleep(0.3)  # the retry pause
            # Back: the shared window holds the two calls made through Redis, and the other
            # service's calls count against this one's.
            assert await allowed(direct.limiter("widget-history", 4, 60.0), "ip", 1) == [True]
            assert await allowed(limiter, "ip", 2) == [True, False]
        messages = [r.getMessage() for r in caplog.records]
        assert sum("Redis is unavailable" in m for m in messages) == 1
        assert sum("Redis is back" in m for m in messages) == 1
    finally:
        await cut.close()
        await direct.close()
        await outage.down()


# The web service as a shop runs it: two instances behind a load balancer, one Redis.


@pytest.fixture()
async def app_redis():
    """The test Redis for whole web services, which use the production key prefix: its rate
    keys are deleted before and after."""
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:
        await client.close()
        pytest.skip(f"no Redis at {REDIS_URL} ({exc}); set TEST_REDIS_URL")
    await _delete(client, f"{PREFIX}:*")
    yield REDIS_URL
    await _delete(client, f"{PREFIX}:*")
    await client.close()


@contextlib.asynccontextmanager
async def web_service(database_url: str, redis_url: str):
    settings = Settings(database_url=database_url, rasa_port=1, redis_url=redis_url)
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


async def history_status(client: TestClient) -> int:
    # No session id: refused with a 400 after the rate limit is counted, or a 429.
    return (await client.post("/api/widget/history", json={})).status


@pytest.fixture()
def sqlite_url(migrated_sqlite, tmp_path) -> str:
    return copy_sqlite(migrated_sqlite, tmp_path / "app.db")


async def test_a_client_gets_the_limit_once_across_two_web_services(sqlite_url, app_redis):
    """The regression: with the limits in each process, a client whose requests the load
    balancer spread over two web services got twice the limit."""
    async with (
        web_service(sqlite_url, app_redis) as first,
        web_service(sqlite_url, app_redis) as second,
    ):
        statuses = [await history_status(first) for _ in range(RATE_LIMIT)]
        assert statuses == [400] * RATE_LIMIT
        assert await history_status(second) == 429
        assert await history_status(first) == 429


async def test_with_redis_down_the_widget_answers_and_still_limits(sqlite_url):
    async with web_service(sqlite_url, NO_REDIS) as service:
        statuses = [await history_status(service) for _ in range(RATE_LIMIT + 1)]
        assert statuses == [400] * RATE_LIMIT + [429]
