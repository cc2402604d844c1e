"""Automatic assignment of new tickets, on SQLite and PostgreSQL: online agents in turn, a
limit per agent, a returning customer to their last agent, an admin's switch, and no agent
past the limit when tickets open at the same moment."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.domain.assignment import AssignmentRules
from bot.domain.console_options import auto_assign_enabled, set_auto_assign
from bot.domain.presence import set_status
from bot.domain.tickets import Actor, open_ticket, resolve
from bot.store.models import Agent, AgentStatus, Ticket
from vocabulary import EscalationReason

RULES = AssignmentRules(default_on=True, ticket_limit=2, online_seconds=60.0)


async def an_agent(sessions, name: str, *, seen_ago: float | None = 5.0, status="online") -> int:
    async with sessions() as session, session.begin():
        agent = Agent(
            username=name,
            display_name=name.title(),
            password_hash="unused",
            role="agent",
            created_at=datetime.now(UTC),
            last_seen_at=None
            if seen_ago is None
            else datetime.now(UTC) - timedelta(seconds=seen_ago),
            status=status,
        )
        session.add(agent)
        await session.flush()
        return agent.id


async def new_ticket(sessions, sender: str, rules: AssignmentRules | None = RULES):
    """A ticket for conversation ``sender``: (its id, the agent it went to)."""
    async with sessions() as session, session.begin():
        ticket, _ = await open_ticket(
            session,
            sender,
            EscalationReason.REQUESTED,
            "help",
            [],
            "socketio",
            {},
            "",
            assignment=rules,
        )
        return ticket.id, ticket.assigned_agent_id


async def test_tickets_go_round_the_online_agents_in_turn(sessions):
    ann = await an_agent(sessions, "ann")
    bob = await an_agent(sessions, "bob")
    given = [(await new_ticket(sessions, f"web-{n}"))[1] for n in range(4)]
    assert given == [ann, bob, ann, bob]
    async with sessions() as session:
        ticket = await session.get(Ticket, 1)
        assert ticket is not None and ticket.status == "assigned"


async def test_away_closed_and_inactive_agents_get_nothing(sessions):
    await an_agent(sessions, "away", status=AgentStatus.AWAY.value)
    await an_agent(sessions, "gone", seen_ago=3600)
    await an_agent(sessions, "never", seen_ago=None)
    ticket_id, agent = await new_ticket(sessions, "web-1")
    assert agent is None
    async with sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.status == "open"


async def test_an_agent_at_the_limit_gets_no_more_until_one_is_resolved(sessions):
    ann = await an_agent(sessions, "ann")
    first = await new_ticket(sessions, "web-1")
    second = await new_ticket(sessions, "web-2")
    third = await new_ticket(sessions, "web-3")
    assert [first[1], second[1], third[1]] == [ann, ann, None]
    async with sessions() as session, session.begin():
        await resolve(session, first[0], None, Actor(ann, "Ann", "agent"))
    assert (await new_ticket(sessions, "web-4"))[1] == ann


async def test_a_returning_customer_goes_back_to_their_last_agent(sessions):
    ann = await an_agent(sessions, "ann")
    bob = await an_agent(sessions, "bob")
    first_id, first_agent = await new_ticket(sessions, "web-a")
    assert first_agent == ann
    async with sessions() as session, session.begin():
        await resolve(session, first_id, None, Actor(ann, "Ann", "agent"))
    async with sessions() as session, session.begin():
        agent = await session.get_one(Agent, ann)
        agent.last_assigned_at = datetime.now(UTC)  # ann most recent: round robin says bob
    assert (await new_ticket(sessions, "web-a"))[1] == ann
    assert (await new_ticket(sessions, "web-other"))[1] == bob


async def test_a_returning_customer_whose_agent_is_away_goes_to_the_next(sessions):
    ann = await an_agent(sessions, "ann")
    bob = await an_agent(sessions, "bob")
    first_id, first_agent = await new_ticket(sessions, "web-a")
    assert first_agent == ann
    async with sessions() as session, session.begin():
        await resolve(session, first_id, None, Actor(ann, "Ann", "agent"))
        await set_status(session, ann, AgentStatus.AWAY)
    assert (await new_ticket(sessions, "web-a"))[1] == bob


async def test_admins_switch_it_off_and_on_at_run_time(sessions):
    ann = await an_agent(sessions, "ann")
    async with sessions() as session:
        assert await auto_assign_enabled(session, default=True)
        assert not await auto_assign_enabled(session, default=False)
    async with sessions() as session, session.begin():
        await set_auto_assign(session, False, ann)
    assert (await new_ticket(sessions, "web-1"))[1] is None
    async with sessions() as session, session.begin():
        await set_auto_assign(session, True, ann)
    assert (await new_ticket(sessions, "web-2"))[1] == ann
    off_by_setting = AssignmentRules(default_on=False, ticket_limit=2, online_seconds=60.0)
    assert (await new_ticket(sessions, "web-3", off_by_setting))[1] == ann  # the switch wins


async def test_without_rules_a_ticket_stays_open(sessions):
    await an_agent(sessions, "ann")
    assert (await new_ticket(sessions, "web-1", rules=None))[1] is None


async def test_tickets_opened_at_once_take_no_agent_past_the_limit(sessions):
    ann = await an_agent(sessions, "ann")
    bob = await an_agent(sessions, "bob")
    results = await asyncio.gather(*(new_ticket(sessions, f"web-{n}") for n in range(8)))
    given = [agent for _, agent in results]
    assert sorted(a for a in given if a is not None) == [ann, ann, bob, bob]
    assert given.count(None) == 4
    counted = select(Ticket.assigned_agent_id, func.count()).group_by(Ticket.assigned_agent_id)
    async with sessions() as session:
        rows = (await session.execute(counted)).all()
    assert {agent: count for agent, count in rows} == {ann: 2, bob: 2, None: 4}
