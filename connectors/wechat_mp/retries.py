"""One Rasa turn and one answer per WeChat message, however often WeChat sends it.

WeChat waits 5 seconds for an answer, then drops the connection and sends the same message
again, three tries in all. So for every message (its ``dedupe_key``):

- the first try starts the turn (:meth:`RetryLedger.start`); later tries do not. The turn holds
  a short lease it keeps renewing, so that if its server dies a later try can start it again;
- whichever try is still waiting when the reply is ready answers it passively, once
  (:meth:`claim`); the others answer ``success``;
- a try that reaches its deadline first answers ``success`` and hands the reply to the
  customer-service API (:meth:`hand_to_api`); so does the turn itself if no try is waiting
  by the time WeChat would have stopped retrying (``grace``).

>>> from connectors.wechat_mp.state import MemoryState
>>> ledger = RetryLedger(MemoryState())
>>> asyncio.run(ledger.start("msg:1")), asyncio.run(ledger.start("msg:1"))
(True, False)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator

from connectors.wechat_mp.state import SharedState, wait_for_value

RUNNING, DONE = "running", "done"


class RetryLedger:
    """Args:
    state: where the ledger lives (shared by every server of the account).
    lease: how long a turn's mark outlives a dead server.
    keep: how long a message is remembered (well beyond WeChat's 15 s of retries).
    grace: how long after a turn starts a try may still come to take its reply passively.
    """

    def __init__(
        self, state: SharedState, lease: float = 3.0, keep: float = 600.0, grace: float = 15.0
    ) -> None:
        self.state = state
        self.lease = lease
        self.keep = keep
        self.grace = grace

    async def start(self, key: str) -> bool:
        """Whether this try must run the turn (no other try has, or its server died)."""
        if not await self.state.add(f"turn:{key}", RUNNING, self.lease):
            return False
        await self.state.delete(f"api:{key}")  # an earlier, failed run's tries are gone
        return True

    @contextlib.asynccontextmanager
    async def running(self, key: str) -> AsyncIterator[None]:
        """Renew the turn's lease while the body runs; forget the turn if the body fails, so
        that WeChat's next try runs it again."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.lease / 3)
                await self.state.touch(f"turn:{key}", self.lease)

        heartbeat = asyncio.ensure_future(renew())
        try:
            yield
        except BaseException:
            await self.state.delete(f"turn:{key}")
            raise
        finally:
            heartbeat.cancel()

    async def finish(self, key: str, reply: list[str]) -> None:
        """Record the turn's reply (the texts to send, possibly none)."""
        await self.state.put(f"reply:{key}", json.dumps(reply, ensure_ascii=False), self.keep)
        await self.state.put(f"turn:{key}", DONE, self.keep)

    async def wait_reply(self, key: str, timeout: float) -> list[str] | None:
        """The reply once it is ready, or None after ``timeout`` seconds."""
        value = await wait_for_value(self.state, f"reply:{key}", timeout)
        return None if value is None else json.loads(value)

    async def claim(self, key: str) -> bool:
        """Whether the caller is the one to deliver the reply (true once per message)."""
        return await self.state.add(f"claim:{key}", "1", self.keep)

    async def hand_to_api(self, key: str) -> None:
        """A try gave up waiting: the reply goes through the customer-service API."""
        await self.state.put(f"api:{key}", "1", self.keep)

    async def should_send_by_api(self, key: str, started: float) -> bool:
        """Called by the turn with its reply recorded: wait until a try hands the reply to
        the API, a try claims it, or the grace period ends; then whether the turn sends it."""
        deadline = started + self.grace
        while time.monotonic() < deadline:
            if await self.state.get(f"api:{key}") or await self.state.get(f"claim:{key}"):
                break
            await asyncio.sleep(self.state.poll_interval)
        return await self.claim(key)
