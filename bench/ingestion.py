"""How soon a message shows up in the customer's profile (target: within 2 s).

Starts the whole assistant (web service with the ingestion worker, actions, Rasa) on a fresh
database, sends messages over REST one after another, and after each reply polls the database
until the customer's message and the bot's replies are stored. The lag is measured from the
moment the REST reply arrived (Rasa publishes a turn's events when it saves the tracker, just
before it answers).

    .venv/bin/python -m bench.ingestion [--database sqlite|postgresql|both] [--messages 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select

from bot.runtime.chat import send
from bot.runtime.processes import assistant_processes, start_in_order
from bot.settings import Settings
from bot.store.db import create_engine
from bot.store.migrate import upgrade
from bot.store.models import Conversation, Interaction

REPO = Path(__file__).resolve().parent.parent
MESSAGES = [
    "Where is my order?",
    "怎么退货？",
    "How long does a refund take?",
    "发票怎么开",
    "thanks",
]
POLL_SECONDS = 0.01


def newest_model() -> Path:
    models = sorted((REPO / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        sys.exit("no trained model in models/: run `make train`")
    return models[-1]


async def stored_for(engine, sender: str) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(
            select(func.count())
            .select_from(Interaction)
            .join(Conversation, Interaction.conversation_id == Conversation.id)
            .where(Conversation.sender_id == sender)
        )


async def measure(settings: Settings, count: int) -> list[float]:
    engine = create_engine(settings.database.database_url)
    lags, expected = [], 0
    sender = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        for n in range(count):
            replies = await asyncio.to_thread(
                send, settings.servers.rasa_url, sender, MESSAGES[n % len(MESSAGES)]
            )
            answered = time.perf_counter()
            expected += 1 + sum(1 for r in replies if r.get("text"))
            while await stored_for(engine, sender) < expected:
                if time.perf_counter() - answered > 30:
                    raise RuntimeError(f"message {n} not ingested after 30 s")
                await asyncio.sleep(POLL_SECONDS)
            lags.append(time.perf_counter() - answered)
    finally:
        await engine.dispose()
    return lags


POSTGRES_ADMIN = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


async def _postgres(*statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def new_database(kind: str, work: Path) -> tuple[str, list[str]]:
    """A fresh database URL and the statements that drop it afterwards."""
    if kind == "sqlite":
        return f"sqlite:///{work / 'app.db'}", []
    name = f"bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_postgres(f'CREATE DATABASE "{name}"'))
    drops = [f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)' for db in (name, f"{name}_tracker")]
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}", drops


def run(kind: str, count: int, model: Path) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="bench-ingestion-") as tmp:
        work = Path(tmp)
        database_url, drops = new_database(kind, work)
        settings = Settings(
            rasa_port=17005,
            action_port=17055,
            web_port=17080,
            run_dir=work / "run",
            database_url=database_url,
        )
        asyncio.run(upgrade(settings.database.database_url))
        processes = assistant_processes(settings, model, work)
        start_in_order(processes, settings.supervision.startup_timeout)
        try:
            return asyncio.run(measure(settings, count))
        finally:
            for process in reversed(processes):
                process.stop()
            if drops:
                asyncio.run(_postgres(*drops))


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingestion", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    model = newest_model()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    print("| database | messages | lag p50 ms | lag p95 ms | lag max ms | within 2 s |")
    print("|---|---|---|---|---|---|")
    for kind in kinds:
        lags = sorted(run(kind, args.messages, model))
        p95 = lags[min(len(lags) - 1, round(0.95 * (len(lags) - 1)))]
        within = sum(lag <= 2.0 for lag in lags) / len(lags)
        print(
            f"| {kind} | {len(lags)} | {statistics.median(lags) * 1000:.0f} | "
            f"{p95 * 1000:.0f} | {lags[-1] * 1000:.0f} | {within:.1%} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
