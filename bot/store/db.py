"""Connections to the application database: SQLite under ``var/`` by default, PostgreSQL by URL.

>>> engine = create_engine("sqlite:///var/app.db")  # doctest: +SKIP
>>> sessions = session_factory(engine)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
SQLITE_BUSY_TIMEOUT_MS = 10_000


class DatabaseUrlError(ValueError):
    pass


def async_url(url: str | URL) -> URL:
    """``url`` with the async driver we use for its database (aiosqlite or asyncpg)."""
    parsed = make_url(url) if isinstance(url, str) else url
    backend = parsed.get_backend_name()
    if backend not in ASYNC_DRIVERS:
        raise DatabaseUrlError(
            f"unsupported database {backend!r} in DATABASE_URL: use sqlite or postgresql"
        )
    return parsed.set(drivername=ASYNC_DRIVERS[backend])


def is_sqlite(url: str | URL) -> bool:
    return async_url(url).get_backend_name() == "sqlite"


def create_engine(url: str | URL, **options: Any) -> AsyncEngine:
    """An async engine; SQLite files get WAL mode, foreign keys and a busy timeout."""
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = _create_async_engine(parsed, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return _create_async_engine(parsed, pool_pre_ping=True, **options)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    # WAL lets readers (the console, the CLI) work while Rasa and the ingestion worker write.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
