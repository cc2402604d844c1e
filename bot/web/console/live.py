"""``GET /console/events``: server-sent events for open console pages, and agents' presence.

Each open page receives the bus's notices (``ticket``: created or changed; ``conversation``: a
new message) and refetches what they concern through the API. While a page is open, its agent
counts as online (``Agent.last_seen_at``), which is what the bot tells customers about.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy import update

from bot.store.models import Agent
from bot.web.console.security import current_agent
from bot.web.headers import add_security_headers
from bot.web.keys import BUS, SESSIONS

HEARTBEAT_SECONDS = 15.0


async def _seen(request: web.Request, agent_id: int) -> None:
    async with request.config_dict[SESSIONS]() as session, session.begin():
        await session.execute(
            update(Agent).where(Agent.id == agent_id).values(last_seen_at=datetime.now(UTC))
        )


async def events(request: web.Request) -> web.StreamResponse:
    agent = current_agent(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    add_security_headers(response)
    await response.prepare(request)
    bus = request.config_dict[BUS]
    queue = bus.subscribe()
    try:
        await _seen(request, agent.agent_id)
        await response.write(b"retry: 2000\n\n")
        while True:
            try:
                kind, data = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                await _seen(request, agent.agent_id)
                await response.write(b": still here\n\n")
                continue
            payload = json.dumps(data, ensure_ascii=False)
            await response.write(f"event: {kind}\ndata: {payload}\n\n".encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        bus.unsubscribe(queue)
        with contextlib.suppress(Exception):
            await _seen(request, agent.agent_id)
    return response
