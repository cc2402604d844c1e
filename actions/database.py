"""The application database, as the action server reaches it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.store.db import create_engine, session_factory

_state: tuple[async_sessionmaker[AsyncSession], Settings] | None = None


def database() -> tuple[async_sessionmaker[AsyncSession], Settings]:
    """Sessions and settings, made on first use inside the action server's event loop (which
    the engine binds to)."""
    global _state
    if _state is None:
        settings = Settings()
        _state = (session_factory(create_engine(settings.database_url)), settings)
    return _state


def reset() -> None:
    """Forget the engine (tests run each in a new event loop)."""
    global _state
    _state = None


async def close() -> None:
    """Dispose of the engine, in the event loop that used it, and forget it."""
    if _state is not None:
        await _state[0].kw["bind"].dispose()
    reset()
