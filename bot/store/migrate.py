"""Bring the application database to the newest schema (run by ``make run`` on every start).

>>> asyncio.run(upgrade("sqlite:///var/app.db"))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection

from bot.store.db import create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def _run(url: str | URL, step: Callable[[Config, str], None], revision: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:

            def run(sync_connection: Connection) -> None:
                config = alembic_config()
                config.attributes["connection"] = sync_connection
                step(config, revision)

            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def upgrade(url: str | URL, revision: str = "head") -> None:
    """Apply every migration up to ``revision``; a database already there is left alone."""
    await _run(url, command.upgrade, revision)


async def downgrade(url: str | URL, revision: str) -> None:
    """Undo migrations down to ``revision`` (``base``: all of them)."""
    await _run(url, command.downgrade, revision)


async def is_current(url: str | URL) -> bool:
    """Whether the database has every migration applied (a new, empty one has none)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            applied = await connection.run_sync(
                lambda sync: set(MigrationContext.configure(sync).get_current_heads())
            )
    finally:
        await engine.dispose()
    return applied == set(ScriptDirectory.from_config(alembic_config()).get_heads())
