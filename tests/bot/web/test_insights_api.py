"""``GET /api/insights``: behind the sign-in; agents see the team's figures and their own row,
admins every agent's; bad input is a JSON 400. On both databases."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.domain.insights import ticket_facts
from bot.settings import Settings
from bot.store.models import Agent, Ticket
from tests.bot.conftest import a_ticket, sign_in

KEYS = (
    "conversations",
    "conversations_with_questions",
    "bot_resolved",
    "handed_over",
    "answered",
    "clarified",
    "not_found",
    "tickets",
    "ratings",
)


def around_today() -> str:
    """``from`` and ``to`` covering today in the business time zone, whatever the hour."""
    today = datetime.now(ZoneInfo(Settings().handoff.business_timezone)).date()
    return f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"


async def tickets_for_ann_and_bob(sessions) -> dict[str, int]:
    """One rated ticket each (Ann 5, Bob 3); the agents' ids."""
    async with sessions() as session, session.begin():
        ids = dict((await session.execute(select(Agent.username, Agent.id))).all())
    for sender, agent, rating in (("web-ann", "ann", 5), ("web-bob", "bob", 3)):
        ticket_id = await a_ticket(sessions, sender)
        async with sessions() as session, session.begin():
            await session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id)
                .values(assigned_agent_id=ids[agent], satisfaction=rating)
            )
            await ticket_facts.refresh(session, [ticket_id])  # as the ticket's writers do
    return ids


async def test_no_figures_without_a_session(client):
    response = await client.get(f"/api/insights?{around_today()}")
    assert response.status == 401
    assert (await response.json())["error"] == "sign in first"


async def test_an_agent_sees_the_team_and_only_their_own_row(client, sessions):
    ids = await tickets_for_ann_and_bob(sessions)
    await sign_in(client, "bob")
    response = await client.get(f"/api/insights?{around_today()}")
    assert response.status == 200, await response.text()
    report = await response.json()
    assert all(isinstance(report[key], int) for key in KEYS)
    assert (report["tickets"], report["ratings"], report["satisfaction_average"]) == (2, 2, 4.0)
    assert len(report["series"]) == 3 and report["group"] == "day"
    assert [row["username"] for row in report["agents"]] == ["bob"]

    mine = await client.get(f"/api/insights?{around_today()}&agent={ids['bob']}")
    assert mine.status == 200
    assert ((await mine.json())["tickets"], (await mine.json())["satisfaction_average"]) == (1, 3.0)
    theirs = await client.get(f"/api/insights?{around_today()}&agent={ids['ann']}")
    assert theirs.status == 403
    assert "own figures" in (await theirs.json())["error"]


async def test_an_admin_sees_every_agent(client, sessions):
    ids = await tickets_for_ann_and_bob(sessions)
    await sign_in(client, "ann")
    report = await (await client.get(f"/api/insights?{around_today()}&group=week")).json()
    rows = {row["username"]: row for row in report["agents"]}
    assert (rows["ann"]["satisfaction_average"], rows["bob"]["satisfaction_average"]) == (5.0, 3.0)
    response = await client.get(f"/api/insights?{around_today()}&agent={ids['bob']}")
    assert (await response.json())["tickets"] == 1
    widget = await client.get(f"/api/insights?{around_today()}&channel=widget&language=en")
    assert widget.status == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13-01&to=2026-03-03", "from is not a date"),
        ("from=2026-03-02", "to is missing"),
        ("from=2026-03-04&to=2026-03-03", "is after"),
        ("from=2026-03-02&to=2026-03-03&group=month", "group is one of"),
        ("from=2026-03-02&to=2026-03-03&channel=fax", "channel is one of"),
        ("from=2026-03-02&to=2026-03-03&language=fr", "language is one of"),
        ("from=2026-03-02&to=2026-03-03&agent=bob", "agent must be a whole number"),
        ("from=2026-03-02%00&to=2026-03-03", "not allowed"),
    ],
)
async def test_bad_input_is_a_json_400(client, query, message):
    await sign_in(client, "bob")
    response = await client.get(f"/api/insights?{query}")
    assert response.status == 400
    assert message in (await response.json())["error"]
