"""The escalation action gives the new ticket to an online agent, and promises only them."""

from __future__ import annotations

from datetime import UTC, datetime

from actions import services
from actions.escalation import ActionEscalate
from bot.store.models import Agent, AgentStatus
from tests.actions.test_actions import run
from tests.actions.test_escalation import conversation, tickets


async def an_agent(name: str, status: AgentStatus) -> int:
    async with services.shared().sessions() as session, session.begin():
        agent = Agent(
            username=name,
            display_name=name,
            password_hash="not used here",
            role="agent",
            created_at=datetime.now(UTC),
            last_seen_at=datetime.now(UTC),
            status=status.value,
        )
        session.add(agent)
        await session.flush()
        return agent.id


async def test_a_new_ticket_goes_to_the_online_agent_not_the_away_one():
    await an_agent("away", AgentStatus.AWAY)
    online = await an_agent("online", AgentStatus.ONLINE)
    _, messages = await run(ActionEscalate(), conversation(("agent please", "request_human")))
    [ticket] = await tickets()
    assert ticket.assigned_agent_id == online and ticket.status == "assigned"
    assert messages[0]["response"] == "utter_handoff_soon"


async def test_with_everyone_away_the_ticket_waits_and_the_bot_says_later():
    await an_agent("away", AgentStatus.AWAY)
    _, messages = await run(ActionEscalate(), conversation(("agent please", "request_human")))
    [ticket] = await tickets()
    assert ticket.assigned_agent_id is None and ticket.status == "open"
    assert messages[0]["response"] == "utter_handoff_later"


async def test_auto_assign_off_by_setting_leaves_the_ticket_open(monkeypatch):
    monkeypatch.setenv("AUTO_ASSIGN", "false")
    await services.close()
    await an_agent("online", AgentStatus.ONLINE)
    _, messages = await run(ActionEscalate(), conversation(("agent please", "request_human")))
    [ticket] = await tickets()
    assert ticket.assigned_agent_id is None and ticket.status == "open"
    assert messages[0]["response"] == "utter_handoff_soon"  # someone is there to claim it
