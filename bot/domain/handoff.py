"""The handoff: while people have a conversation, and what the bot promises them meanwhile.

A conversation is handed over when a ticket opens for it (:mod:`bot.domain.tickets`) and taken
back when the ticket is resolved. In between, the bot keeps quiet apart from one
acknowledgement; when it hands over and when it acknowledges, it promises only what is true:
a reply *soon* (business hours, an agent's console open and their status "online"), *later*
(business hours, nobody online) or when the shop *opens* again (outside business hours).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.presence import agents_online
from bot.domain.tickets import ACTIVE
from bot.settings import HandoffSettings
from bot.store.models import Ticket


class Promise(StrEnum):
    """When the customer may expect a person; the suffix of the ``utter_handoff_*`` responses."""

    SOON = "soon"
    LATER = "later"
    CLOSED = "closed"


async def promise(session: AsyncSession, handoff: HandoffSettings) -> Promise:
    """What the bot may promise now: an agent counts as online while their console reports
    and their status is "online" (:mod:`bot.domain.presence`)."""
    if not handoff.hours.is_open():
        return Promise.CLOSED
    online = await agents_online(session, handoff.agent_online_seconds)
    return Promise.SOON if online else Promise.LATER


@dataclass(frozen=True)
class HandoffState:
    """Whether people still have the conversation, and the promise to repeat if they do."""

    with_people: bool
    promise: Promise | None = None


async def handoff_state(
    session: AsyncSession, ticket_id: int, handoff: HandoffSettings
) -> HandoffState:
    """The state of the handoff that ticket ``ticket_id`` started."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or ticket.status not in ACTIVE:
        return HandoffState(with_people=False)
    return HandoffState(with_people=True, promise=await promise(session, handoff))
