"""The shared store and the retry ledger, in process and in Redis (several Rasa servers)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import pytest

from connectors.wechat_mp.retries import RetryLedger
from connectors.wechat_mp.state import MemoryState, RedisState, SqliteState

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def redis_state(prefix: str | None = None) -> RedisState:
    """A Redis store; the same ``prefix`` is the same account seen from another server."""
    state = RedisState(REDIS_URL, prefix=prefix or f"test-wechat-{uuid.uuid4().hex}")
    try:
        await state.get("ping")
    except Exception as exc:  # no server here: say so rather than pass
        await state.close()
        pytest.skip(f"no Redis at {REDIS_URL} ({exc}); set TEST_REDIS_URL")
    return state


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def make_state(request, tmp_path):
    made = []

    async def make():
        """A handle on the store: with Redis, each call is another server on the same data;
        with SQLite, the same server after a restart."""
        if request.param == "memory":
            state = made[0] if made else MemoryState()
        elif request.param == "sqlite":
            state = SqliteState(tmp_path / "wechat-state.db")
        else:
            state = await redis_state(made[0].prefix if made else None)
        made.append(state)
        return state

    yield make
    for state in made:
        await state.close()


async def test_add_sets_only_once_and_keys_expire(make_state):
    state = await make_state()
    assert await state.add("k", "one", ttl=0.3)
    assert not await state.add("k", "two", ttl=0.3)
    assert await state.get("k") == "one"
    await asyncio.sleep(0.4)
    assert await state.get("k") is None
    assert await state.add("k", "three", ttl=5)


async def test_touch_keeps_a_lease_alive(make_state):
    state = await make_state()
    await state.put("lease", "x", ttl=0.3)
    for _ in range(3):
        await asyncio.sleep(0.15)
        await state.touch("lease", ttl=0.3)
    assert await state.get("lease") == "x"


async def test_two_servers_run_one_turn_and_deliver_once(make_state):
    first, second = RetryLedger(await make_state()), RetryLedger(await make_state())
    assert await first.start("msg:1")
    assert not await second.start("msg:1")
    waiting = asyncio.ensure_future(second.wait_reply("msg:1", timeout=2))
    async with first.running("msg:1"):
        await asyncio.sleep(0.1)
    await first.finish("msg:1", ["answer"])
    assert await waiting == ["answer"]
    claims = await asyncio.gather(second.claim("msg:1"), first.claim("msg:1"))
    assert sorted(claims) == [False, True]


async def test_a_dead_servers_turn_can_be_started_again_after_its_lease(make_state):
    dead, alive = (
        RetryLedger(await make_state(), lease=0.3),
        RetryLedger(await make_state(), lease=0.3),
    )
    assert await dead.start("msg:2")  # ... and its server dies, renewing nothing
    assert not await alive.start("msg:2")
    await asyncio.sleep(0.4)
    assert await alive.start("msg:2")


async def test_a_running_turn_keeps_its_lease(make_state):
    owner, other = (
        RetryLedger(await make_state(), lease=0.3),
        RetryLedger(await make_state(), lease=0.3),
    )
    assert await owner.start("msg:3")
    async with owner.running("msg:3"):
        await asyncio.sleep(0.7)
        assert not await other.start("msg:3")


async def test_the_turn_sends_by_api_when_a_try_gave_up(make_state):
    ledger = RetryLedger(await make_state(), grace=5)
    await ledger.start("msg:4")
    await ledger.hand_to_api("msg:4")
    await ledger.finish("msg:4", ["late answer"])
    assert await asyncio.wait_for(ledger.should_send_by_api("msg:4", time.monotonic()), 1)
    assert not await ledger.claim("msg:4")


async def test_a_retry_after_a_restart_is_not_run_again_without_redis(tmp_path):
    before = RetryLedger(SqliteState(tmp_path / "wechat-state.db"))
    assert await before.start("msg:restart")
    async with before.running("msg:restart"):
        pass
    await before.finish("msg:restart", ["the answer"])
    after = RetryLedger(SqliteState(tmp_path / "wechat-state.db"))  # the server restarted
    assert not await after.start("msg:restart")
    assert await after.wait_reply("msg:restart", timeout=1) == ["the answer"]
