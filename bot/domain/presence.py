"""Agents' presence: who counts as online for the bot's promise and for automatic assignment.

An agent is online while both hold:

- their console reported in the last ``AGENT_ONLINE_SECONDS`` (``Agent.last_seen_at``: an open
  console page reports every few seconds, see :mod:`bot.web.console.live`), and
- they say so: ``Agent.status`` is ``"online"``, not ``"away"`` (:func:`set_status`).

>>> async with sessions() as session, session.begin():  # doctest: +SKIP
...     await set_status(session, agent_id, AgentStatus.AWAY)
...     await agents_online(session, 60.0)
0
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Agent, AgentStatus

STATUSES = tuple(status.value for status in AgentStatus)


class UnknownStatus(ValueError):
    """A status that is neither online nor away; the message is safe to show."""


def online(within_seconds: float, at: datetime | None = None) -> ColumnElement[bool]:
    """The condition on :class:`Agent` rows of agents online at ``at`` (default: now)."""
    since = (at or datetime.now(UTC)) - timedelta(seconds=within_seconds)
    return (
        Agent.active.is_(True)
        & (Agent.status == AgentStatus.ONLINE.value)
        & (Agent.last_seen_at >= since)
    )


async def agents_online(session: AsyncSession, within_seconds: float) -> int:
    """How many agents are online (see the module's docstring)."""
    count = await session.scalar(
        select(func.count()).select_from(Agent).where(online(within_seconds))
    )
    return count or 0


def parse_status(value: object) -> AgentStatus:
    """``value`` as a status; :class:`UnknownStatus` unless it is "online" or "away".

    >>> parse_status("away")
    <AgentStatus.AWAY: 'away'>
    """
    if isinstance(value, str) and value in STATUSES:
        return AgentStatus(value)
    raise UnknownStatus(f"status is one of {', '.join(STATUSES)}")


async def get_status(session: AsyncSession, agent_id: int) -> AgentStatus:
    """The status agent ``agent_id`` set (online until they say otherwise)."""
    value = await session.scalar(select(Agent.status).where(Agent.id == agent_id))
    return AgentStatus(value) if value in STATUSES else AgentStatus.ONLINE


async def set_status(session: AsyncSession, agent_id: int, status: AgentStatus) -> AgentStatus:
    """Store what agent ``agent_id`` says they are; the caller owns the transaction."""
    await session.execute(update(Agent).where(Agent.id == agent_id).values(status=status.value))
    return status
