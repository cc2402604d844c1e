"""Who counts as online for the bot's promise: an open console AND the status "online"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.handoff import Promise, promise
from bot.domain.presence import UnknownStatus, agents_online, get_status, parse_status, set_status
from bot.settings import HandoffSettings
from bot.store.models import Agent, AgentStatus

ALWAYS_OPEN = HandoffSettings(business_hours="00:00-24:00", agent_online_seconds=60)


async def an_agent(sessions, name: str, seen_ago: float | None = 5.0, active=True) -> int:
    async with sessions() as session, session.begin():
        agent = Agent(
            username=name,
            display_name=name,
            password_hash="unused",
            role="agent",
            created_at=datetime.now(UTC),
            last_seen_at=None
            if seen_ago is None
            else datetime.now(UTC) - timedelta(seconds=seen_ago),
            active=active,
        )
        session.add(agent)
        await session.flush()
        return agent.id


async def test_an_agent_who_says_away_is_not_promised_to_customers(sessions):
    ann = await an_agent(sessions, "ann")
    async with sessions() as session:
        assert await get_status(session, ann) is AgentStatus.ONLINE  # until they say otherwise
        assert await agents_online(session, 60) == 1
        assert await promise(session, ALWAYS_OPEN) is Promise.SOON
    async with sessions() as session, session.begin():
        await set_status(session, ann, AgentStatus.AWAY)
    async with sessions() as session:
        assert await get_status(session, ann) is AgentStatus.AWAY
        assert await agents_online(session, 60) == 0
        assert await promise(session, ALWAYS_OPEN) is Promise.LATER
    async with sessions() as session, session.begin():
        await set_status(session, ann, AgentStatus.ONLINE)
    async with sessions() as session:
        assert await promise(session, ALWAYS_OPEN) is Promise.SOON


async def test_online_status_needs_an_open_console_too(sessions):
    await an_agent(sessions, "closed-an-hour-ago", seen_ago=3600)
    await an_agent(sessions, "never-signed-in", seen_ago=None)
    await an_agent(sessions, "deactivated", active=False)
    async with sessions() as session:
        assert await agents_online(session, 60) == 0
        assert await promise(session, ALWAYS_OPEN) is Promise.LATER


@pytest.mark.parametrize("value", ["busy", "", "ONLINE", None, 1, ["online"]])
def test_only_online_and_away_are_statuses(value):
    with pytest.raises(UnknownStatus, match="online, away"):
        parse_status(value)
