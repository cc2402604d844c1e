"""Alembic environment: runs on the connection that :func:`bot.store.migrate.upgrade` hands over,
or, for ``alembic revision --autogenerate`` by a developer, on ``DATABASE_URL``."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

from bot.settings import Settings
from bot.store.db import create_engine
from bot.store.models import Base, UtcDateTime

target_metadata = Base.metadata


def _render_item(kind: str, item: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations must not import the models: our column types are written as plain SQLAlchemy.
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=_render_item,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_on_settings_database() -> None:
    engine = create_engine(Settings().database.database_url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_on_settings_database())
