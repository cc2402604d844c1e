"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from bot.store.db import create_engine
from bot.store.migrate import downgrade, upgrade
from bot.store.models import Base


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A new database of each kind migrated here, not the tests' shared copies of one."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
    else:
        url = request.getfixturevalue("postgres").new_database()
    asyncio.run(upgrade(url))
    return url


async def _differences(url: str) -> list:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()


async def test_migrated_schema_matches_the_models(database_url):
    assert await _differences(database_url) == []


async def test_migrations_go_down_and_up_again(database_url):
    await downgrade(database_url, "base")
    await upgrade(database_url)
    assert await _differences(database_url) == []
