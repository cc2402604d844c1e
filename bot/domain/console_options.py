"""Switches admins flip in the console at run time, stored in ``console_options``.

A missing row means the deployment's setting: ``auto_assign`` falls back to ``AUTO_ASSIGN``
until an admin switches it in the console, and from then on the console's choice holds (the
action server reads it for every new ticket, so no restart is needed).

>>> async with sessions() as session, session.begin():  # doctest: +SKIP
...     await set_auto_assign(session, False, admin_id)
...     await auto_assign_enabled(session, default=True)
False
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import ConsoleOption

AUTO_ASSIGN = "auto_assign"
ON, OFF = "on", "off"


async def get_switch(session: AsyncSession, name: str, default: bool) -> bool:
    """Switch ``name`` as an admin set it, ``default`` when nobody has (or the row is garbled)."""
    row = await session.get(ConsoleOption, name)
    if row is None or row.value not in (ON, OFF):
        return default
    return row.value == ON


async def set_switch(session: AsyncSession, name: str, enabled: bool, agent_id: int) -> bool:
    """Store switch ``name``, noting who flipped it; the caller owns the transaction."""
    row = await session.get(ConsoleOption, name, with_for_update=True)
    value = ON if enabled else OFF
    if row is None:
        row = ConsoleOption(name=name, value=value)
        session.add(row)
    row.value = value
    row.updated_at = datetime.now(UTC)
    row.updated_by = agent_id
    await session.flush()
    return enabled


async def auto_assign_enabled(session: AsyncSession, default: bool) -> bool:
    """Whether new tickets go to online agents (``default``: the ``AUTO_ASSIGN`` setting)."""
    return await get_switch(session, AUTO_ASSIGN, default)


async def set_auto_assign(session: AsyncSession, enabled: bool, agent_id: int) -> bool:
    return await set_switch(session, AUTO_ASSIGN, enabled, agent_id)
