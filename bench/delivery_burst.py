"""How fast a burst of queued agent replies reaches customers' channels.

Starts Rasa and the action server on a fresh SQLite database (not the web service, whose
delivery worker would compete: this benchmark runs its own), queues ``--replies`` agent replies
spread over ``--conversations`` widget conversations, then lets
:class:`bot.workers.delivery.OutboxDelivery` deliver them through Rasa's HTTP API, once for each
``--concurrency`` (new conversations each time, same machine, same run), and reports the time
until the last reply was in its conversation's tracker.

    .venv/bin/python -m bench.delivery_burst [--replies 1000] [--conversations 100] \
        [--concurrency 1,8]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from sqlalchemy import func, select

from bench.ingestion import newest_model
from bot.domain.auth import create_agent
from bot.domain.tickets import Actor, open_ticket, reply
from bot.runtime.processes import assistant_processes, start_in_order
from bot.settings import Settings
from bot.store.db import create_engine, session_factory
from bot.store.migrate import upgrade
from bot.store.models import OutboxMessage
from bot.workers.delivery import OutboxDelivery
from vocabulary import EscalationReason


async def queue_burst(sessions, prefix: str, replies: int, conversations: int) -> None:
    async with sessions() as session, session.begin():
        agent = await create_agent(session, prefix, "Bench", "a long bench passphrase", "agent")
        actor = Actor(agent.id, agent.display_name, agent.role)
        tickets = []
        for n in range(conversations):
            ticket, _ = await open_ticket(
                session,
                f"{prefix}-{n}",
                EscalationReason.REQUESTED,
                "hello?",
                [],
                "socketio",
                {},
                "",
            )
            tickets.append(ticket.id)
        for n in range(replies):
            await reply(session, tickets[n % conversations], f"Reply {n} from the console.", actor)


async def pending(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(
            select(func.count()).where(
                OutboxMessage.delivered_at.is_(None), OutboxMessage.failed_at.is_(None)
            )
        )


async def burst(settings: Settings, replies: int, conversations: int, concurrency: int) -> float:
    engine = create_engine(settings.database.database_url)
    sessions = session_factory(engine)
    try:
        await queue_burst(sessions, f"burst{concurrency}", replies, conversations)
        delivery = OutboxDelivery(
            sessions,
            settings.servers.rasa_url,
            settings.rasa.rasa_api_token.get_secret_value(),
            concurrency=concurrency,
        )
        async with aiohttp.ClientSession() as http:
            for n in range(conversations):  # the customers have written: Rasa knows them
                url = f"{settings.servers.rasa_url}/conversations/burst{concurrency}-{n}"
                async with http.post(
                    f"{url}/tracker/events",
                    params={"token": settings.rasa.rasa_api_token.get_secret_value()},
                    json=[{"event": "action", "name": "action_listen"}],
                ) as response:
                    response.raise_for_status()
            began = time.perf_counter()
            while await pending(sessions):
                if not await delivery.deliver_once(http):
                    await asyncio.sleep(0.2)  # a failed row waits for its retry
        return time.perf_counter() - began
    finally:
        await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.delivery_burst", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--concurrency", default="1,8", help="comma-separated, one run each")
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
        work = Path(tmp)
        settings = Settings(
            rasa_port=17205,
            action_port=17255,
            web_port=17280,
            run_dir=work / "run",
            database_url=f"sqlite:///{work / 'app.db'}",
        )
        asyncio.run(upgrade(settings.database.database_url))
        _web, *servers = assistant_processes(settings, newest_model(), work)
        start_in_order(servers, settings.supervision.startup_timeout)
        try:
            times = {
                level: asyncio.run(burst(settings, args.replies, args.conversations, level))
                for level in levels
            }
        finally:
            for process in reversed(servers):
                process.stop()
    print(f"{args.replies} replies over {args.conversations} conversations")
    print("| concurrent conversations | last reply delivered after s | replies/s |")
    print("|---|---|---|")
    for level, seconds in times.items():
        print(f"| {level} | {seconds:.1f} | {args.replies / seconds:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
