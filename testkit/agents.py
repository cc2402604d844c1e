"""Agents in the application database, for tests and benchmarks that sign in to the console."""

from __future__ import annotations

import uuid

from bot.domain.auth import create_agent
from bot.store.db import create_engine, session_factory


def unique_username(prefix: str) -> str:
    """``prefix`` made unique (``wang.3f9a1c``): test modules share one running assistant, and
    a user name can be taken once."""
    return f"{prefix}.{uuid.uuid4().hex[:6]}"


async def add_agent(
    database_url: str, username: str, display_name: str, password: str, role: str = "agent"
) -> str:
    """Create an agent in the application database; their user name."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            await create_agent(session, username, display_name, password, role)
    finally:
        await engine.dispose()
    return username
