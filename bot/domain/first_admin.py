"""The first admin of a fresh deployment, so that someone can sign in to the console.

``ADMIN_USERNAME`` / ``ADMIN_PASSWORD`` name it; ``python -m bot run`` (``make run``) also makes
one when neither is set, called ``admin``, with a generated password it shows once in its banner
and never stores in plain text. Nothing happens while an active admin exists.

>>> async with sessions() as session, session.begin():  # doctest: +SKIP
...     made = await ensure_admin(session, "", "", generate=True)
>>> made.username, len(made.password) >= 16, made.generated  # doctest: +SKIP
('admin', True, True)
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.auth import create_agent
from bot.store.models import Agent, AgentRole

GENERATED_USERNAME = "admin"


@dataclass(frozen=True)
class FirstAdmin:
    username: str
    password: str  # to show once, when generated
    generated: bool


async def has_admin(session: AsyncSession) -> bool:
    found = await session.scalar(
        select(Agent.id).where(Agent.role == AgentRole.ADMIN.value, Agent.active).limit(1)
    )
    return found is not None


async def ensure_admin(
    session: AsyncSession, username: str, password: str, *, generate: bool = False
) -> FirstAdmin | None:
    """Create the first admin when there is no active one: ``username`` with ``password`` when
    both are given, else (with ``generate``) ``admin`` with a random password; None when an admin
    exists or nothing was asked for. Raises :class:`~bot.domain.auth.AuthError` for a name or
    password that cannot be an agent's (or a taken name)."""
    if await has_admin(session):
        return None
    if username and password:
        await create_agent(session, username, username, password, AgentRole.ADMIN.value)
        return FirstAdmin(username.strip().lower(), password, generated=False)
    if not generate or username or password:
        return None
    password = secrets.token_urlsafe(15)  # 20 characters, 120 random bits
    name = GENERATED_USERNAME
    if await session.scalar(select(Agent.id).where(Agent.username == name)):
        name = f"{GENERATED_USERNAME}-{secrets.token_hex(3)}"  # an inactive "admin" keeps its name
    await create_agent(session, name, "Admin", password, AgentRole.ADMIN.value)
    return FirstAdmin(name, password, generated=True)
