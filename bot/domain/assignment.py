"""Automatic assignment: a new ticket goes to an online agent, in turn, within a limit.

When a ticket opens (:func:`bot.domain.tickets.open_ticket` with ``assignment=``), and unless an
admin switched it off (:mod:`bot.domain.console_options`, default ``AUTO_ASSIGN``):

1. a returning customer goes back to the agent of their previous ticket, when that agent is
   online (:mod:`bot.domain.presence`) and has fewer than ``AGENT_TICKET_LIMIT`` unresolved
   tickets;
2. otherwise the online agent under the limit who was given a ticket least recently
   (``Agent.last_assigned_at``; never first) gets it: round robin;
3. nobody online under the limit: the ticket stays open, for whoever claims it.

Two tickets opened at the same moment never take an agent past the limit: the assigner locks
the online agents' rows (``SELECT ... FOR UPDATE``, in id order so that assigners cannot
deadlock) before it counts their tickets, so on PostgreSQL assigners run one at a time. SQLite
has no row locks, but the ticket's INSERT, which comes first, already holds the database's
only write lock until the commit, which serialises them the same way.

>>> choose([Candidate(1, 0, None), Candidate(2, 0, None)], previous_agent=2, limit=5)
2
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.console_options import auto_assign_enabled
from bot.domain.presence import online
from bot.settings import HandoffSettings
from bot.store.models import Agent, Ticket, TicketStatus

_EPOCH = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AssignmentRules:
    """The deployment's settings for automatic assignment."""

    default_on: bool  # AUTO_ASSIGN, until an admin switches it in the console
    ticket_limit: int  # AGENT_TICKET_LIMIT: unresolved tickets per agent
    online_seconds: float  # AGENT_ONLINE_SECONDS

    @classmethod
    def from_settings(cls, handoff: HandoffSettings) -> AssignmentRules:
        return cls(handoff.auto_assign, handoff.agent_ticket_limit, handoff.agent_online_seconds)


@dataclass(frozen=True)
class Candidate:
    """An online agent: how many unresolved tickets they have, when they last got one."""

    agent_id: int
    unresolved: int
    last_assigned_at: datetime | None


def choose(candidates: Sequence[Candidate], previous_agent: int | None, limit: int) -> int | None:
    """The agent who gets a new ticket, None when nobody may (see the module's docstring).

    >>> earlier, later = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    >>> choose([Candidate(1, 0, later), Candidate(2, 0, earlier)], None, 5)
    2
    >>> choose([Candidate(1, 5, None)], previous_agent=1, limit=5) is None
    True
    """
    free = [c for c in candidates if c.unresolved < limit]
    if any(c.agent_id == previous_agent for c in free):
        return previous_agent
    if not free:
        return None
    return min(free, key=lambda c: (c.last_assigned_at or _EPOCH, c.agent_id)).agent_id


async def _previous_agent(session: AsyncSession, ticket: Ticket) -> int | None:
    """The agent of the customer's latest earlier ticket that had one."""
    return await session.scalar(
        select(Ticket.assigned_agent_id)
        .where(
            Ticket.customer_id == ticket.customer_id,
            Ticket.id != ticket.id,
            Ticket.assigned_agent_id.is_not(None),
        )
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(1)
    )


async def _unresolved(session: AsyncSession, agent_ids: Sequence[int]) -> dict[int, int]:
    rows = await session.execute(
        select(Ticket.assigned_agent_id, func.count())
        .where(
            Ticket.assigned_agent_id.in_(agent_ids),
            Ticket.status != TicketStatus.RESOLVED.value,
        )
        .group_by(Ticket.assigned_agent_id)
    )
    return {agent_id: count for agent_id, count in rows.tuples() if agent_id is not None}


async def assign_new_ticket(
    session: AsyncSession, ticket: Ticket, rules: AssignmentRules
) -> Agent | None:
    """Give ``ticket``, just opened and flushed, to an online agent; the agent, or None when
    assignment is off or nobody is available (the ticket stays open). The caller owns the
    transaction; the locks it takes last until the commit."""
    if not await auto_assign_enabled(session, rules.default_on):
        return None
    agents = list(
        await session.scalars(
            select(Agent).where(online(rules.online_seconds)).order_by(Agent.id).with_for_update()
        )
    )
    if not agents:
        return None
    counts = await _unresolved(session, [agent.id for agent in agents])
    candidates = [Candidate(a.id, counts.get(a.id, 0), a.last_assigned_at) for a in agents]
    chosen = choose(candidates, await _previous_agent(session, ticket), rules.ticket_limit)
    if chosen is None:
        return None
    agent = next(a for a in agents if a.id == chosen)
    ticket.assigned_agent_id = agent.id
    ticket.status = TicketStatus.ASSIGNED.value
    agent.last_assigned_at = datetime.now(UTC)
    await session.flush()
    return agent
