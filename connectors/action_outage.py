"""While the action server is away (a crash, a restart: about 10 s), Rasa would run a customer's
message, log that every custom action failed, drop their events and answer nothing. The channels
look first (:class:`ActionServerProbe`) and, when the call failed during the turn, undo it
(:func:`connectors.rewind.undo_failed_turn`), so that the message is handled as the first try
once the action server is back. Nothing here imports Rasa.

The REST channel answers 503 and lets its caller send again. The widget's and WeChat's customers
cannot be asked to: :func:`run_held` holds their turn until the action server answers again (at
most :data:`HOLD_SECONDS`), telling the widget's customer to wait a moment, and runs it then;
only a longer outage gets an apology asking them to write again later.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from connectors.gate import reply_for

if TYPE_CHECKING:
    from rasa.utils.endpoints import EndpointConfig

# The action server's /health: how long an answer may take, and how long one is believed. A
# busy action server on two loaded cores took over 2 s to answer (CI: four conversations while
# the web service restarted), and REST callers were told to retry for nothing; hung is longer.
PROBE_TIMEOUT = 5.0
PROBE_TTL = 0.5
# How long a widget or WeChat turn waits for the action server to come back, and how often it
# looks (the supervisor restarts a crashed one in about 10 s; a model load can take longer).
HOLD_SECONDS = 60.0
HOLD_POLL_SECONDS = 1.0


def health_url(webhook_url: str) -> str:
    """The action server's health check beside its webhook.

    >>> health_url("http://127.0.0.1:5055/webhook")
    'http://127.0.0.1:5055/health'
    """
    parts = urlsplit(webhook_url)
    base = parts.path[: -len("/webhook")] if parts.path.endswith("/webhook") else ""
    return urlunsplit((parts.scheme, parts.netloc, f"{base}/health", "", ""))


class ActionServerProbe:
    """Whether Rasa's action server answers at all: ``GET /health`` with any status below 500
    (a refused connection, a timeout or a proxy's 502 mean no), believed for ``ttl`` seconds."""

    def __init__(self, ttl: float = PROBE_TTL, timeout: float = PROBE_TIMEOUT) -> None:
        self._ttl = ttl
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._last: tuple[float, bool] | None = None

    async def reachable(self, endpoint: EndpointConfig | None, fresh: bool = False) -> bool:
        """True also when there is no action server to reach (no ``action_endpoint``)."""
        if endpoint is None or not endpoint.url:
            return True
        if not fresh and self._last and time.monotonic() - self._last[0] < self._ttl:
            return self._last[1]
        up = await self._ask(health_url(endpoint.url))
        self._last = (time.monotonic(), up)
        return up

    async def _ask(self, url: str) -> bool:
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.get(url) as answer,
            ):
                return answer.status < 500
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False


async def back_within(
    probe: ActionServerProbe,
    endpoint: EndpointConfig | None,
    seconds: float = HOLD_SECONDS,
    poll: float = HOLD_POLL_SECONDS,
) -> bool:
    """Wait until the action server answers again; False when it did not within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not await probe.reachable(endpoint, fresh=True):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(poll)
    return True


async def run_held(
    endpoint: EndpointConfig | None,
    probe: ActionServerProbe,
    language: str,
    run: Callable[[str], Awaitable[int]],
    undo: Callable[[str], Awaitable[bool]],
    tell: Callable[[str], Awaitable[None]],
    notify_wait: bool = True,
    seconds: float = HOLD_SECONDS,
    poll: float = HOLD_POLL_SECONDS,
) -> bool:
    """Run a customer's turn, held while the action server is unreachable.

    Args:
        endpoint: Rasa's action endpoint (None: no action server, nothing to wait for).
        probe: the channel's look at the action server.
        language: the customer's locale, for what they are told.
        run: runs the turn under the message id it is given; how many messages it sent.
        undo: undoes the turn of a message id in the conversation's tracker.
        tell: sends the customer a text outside the turn.
        notify_wait: tell the customer to wait a moment when the turn is held (not where only
            one answer can be given, as in WeChat's callback).
        seconds: how long to hold the turn at most.
        poll: how often to look at the action server meanwhile.

    Returns:
        True when the turn ran with the action server there; False when the customer was told
        to write again later (the message is not in the conversation then).
    """
    told = False
    for _attempt in range(2):
        if not await probe.reachable(endpoint):
            if notify_wait and not told:
                await tell(reply_for("hold", language))
                told = True
            if not await back_within(probe, endpoint, seconds, poll):
                await tell(reply_for("unavailable", language))
                return False
        message_id = uuid.uuid4().hex
        sent = await run(message_id)
        # Nothing said is normal while an agent has the conversation: only a failed call
        # (the action server gone now) makes the turn one to run again.
        if sent or await probe.reachable(endpoint, fresh=True):
            return True
        await undo(message_id)
    await tell(reply_for("unavailable", language))
    return False
