"""Agents for the tests that sign in to the console."""

from __future__ import annotations

from bot.auth import create_agent
from bot.db import create_engine, session_factory


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
