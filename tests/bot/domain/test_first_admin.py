"""The first admin of a fresh database: someone must be able to sign in to the console."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.domain.auth import AuthError, create_agent, sign_in
from bot.domain.first_admin import ensure_admin
from bot.store.models import Agent


async def test_a_fresh_database_gets_an_admin_with_a_generated_password(sessions):
    async with sessions() as session, session.begin():
        made = await ensure_admin(session, "", "", generate=True)

    assert made is not None and made.generated and made.username == "admin"
    assert len(made.password) >= 16
    async with sessions() as session:
        _, agent = await sign_in(session, "admin", made.password, "127.0.0.1")
        stored = await session.scalar(select(Agent.password_hash).where(Agent.username == "admin"))
    assert agent.is_admin and made.password not in stored


async def test_the_configured_admin_is_made_and_none_is_generated_beside_it(sessions):
    async with sessions() as session, session.begin():
        made = await ensure_admin(session, "Lee", "a long passphrase", generate=True)

    assert made is not None and not made.generated and made.username == "lee"
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Agent)) == 1


async def test_nothing_happens_while_an_admin_exists(sessions):
    async with sessions() as session, session.begin():
        await create_agent(session, "ann", "Ann", "a long passphrase", "admin")
    async with sessions() as session, session.begin():
        assert await ensure_admin(session, "", "", generate=True) is None
        assert await ensure_admin(session, "lee", "another passphrase") is None
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Agent)) == 1


async def test_without_generate_or_with_half_the_settings_no_admin_is_made(sessions):
    async with sessions() as session, session.begin():
        assert await ensure_admin(session, "", "") is None
        assert await ensure_admin(session, "lee", "", generate=True) is None
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Agent)) == 0


async def test_a_generated_admin_never_takes_a_deactivated_agents_name(sessions):
    async with sessions() as session, session.begin():
        old = await create_agent(session, "admin", "Old", "a long passphrase", "admin")
        old.active = False
    async with sessions() as session, session.begin():
        made = await ensure_admin(session, "", "", generate=True)
    assert made is not None and made.username.startswith("admin-")


async def test_a_configured_password_too_short_is_refused_and_nothing_made(sessions):
    with pytest.raises(AuthError):
        async with sessions() as session, session.begin():
            await ensure_admin(session, "lee", "short")
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Agent)) == 0
