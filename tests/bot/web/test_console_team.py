"""Agents' status, the team page and the automatic-assignment switch, through the console's API
and pages: sign-in, CSRF, roles, bad input; on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.domain.assignment import AssignmentRules
from bot.domain.handoff import Promise, promise
from bot.domain.tickets import open_ticket
from bot.settings import HandoffSettings
from bot.store.models import Agent, ConsoleOption
from tests.bot.conftest import sign_in
from vocabulary import EscalationReason

ALWAYS_OPEN = HandoffSettings(business_hours="00:00-24:00", agent_online_seconds=60)


async def status_of(sessions, username: str) -> str:
    async with sessions() as session:
        return await session.scalar(select(Agent.status).where(Agent.username == username))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/me/status"),
        ("POST", "/api/me/status"),
        ("GET", "/api/team"),
        ("GET", "/api/options/auto-assign"),
        ("POST", "/api/options/auto-assign"),
    ],
)
async def test_the_team_api_needs_a_session(client, method, path):
    response = await client.request(method, path, json={"status": "away", "enabled": False})
    assert response.status == 401


async def test_an_agent_sets_their_status_and_the_bot_stops_promising_them(client, sessions):
    csrf = await sign_in(client, "bob")  # signing in counts as a console that reported
    assert (await (await client.get("/api/me/status")).json()) == {"status": "online"}
    async with sessions() as session:
        assert await promise(session, ALWAYS_OPEN) is Promise.SOON
    response = await client.post(
        "/api/me/status", json={"status": "away"}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 200 and await response.json() == {"status": "away"}
    assert (await (await client.get("/api/me/status")).json()) == {"status": "away"}
    async with sessions() as session:
        assert await promise(session, ALWAYS_OPEN) is Promise.LATER
    team = await (await client.get("/api/team")).json()
    bob = next(a for a in team["agents"] if a["name"] == "Bob")
    assert bob["status"] == "away" and bob["console_open"] and not bob["online"] and bob["me"]


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"status": "busy"}, "status is one of online, away"),
        ({"status": None}, "status is one of online, away"),
        ({}, "status is one of online, away"),
        ({"status": ["away"]}, "status is one of online, away"),
    ],
)
async def test_a_bad_status_is_refused_and_nothing_changes(client, sessions, body, complaint):
    csrf = await sign_in(client, "bob")
    response = await client.post("/api/me/status", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status == 400
    assert (await response.json())["error"] == complaint
    assert await status_of(sessions, "bob") == "online"


async def test_changing_status_needs_the_csrf_token(client, sessions):
    await sign_in(client, "bob")
    response = await client.post("/api/me/status", json={"status": "away"})
    assert response.status == 403
    response = await client.post(
        "/api/me/status", json={"status": "away"}, headers={"X-CSRF-Token": "forged"}
    )
    assert response.status == 403
    assert await status_of(sessions, "bob") == "online"


async def test_only_admins_switch_automatic_assignment(client, sessions):
    csrf = await sign_in(client, "bob")
    assert await (await client.get("/api/options/auto-assign")).json() == {"enabled": True}
    response = await client.post(
        "/api/options/auto-assign", json={"enabled": False}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 403
    async with sessions() as session:
        assert await session.get(ConsoleOption, "auto_assign") is None

    csrf = await sign_in(client, "ann")
    response = await client.post("/api/options/auto-assign", json={"enabled": False})
    assert response.status == 403  # no CSRF token
    for bad in ({"enabled": "off"}, {"enabled": 0}, {}):
        response = await client.post(
            "/api/options/auto-assign", json=bad, headers={"X-CSRF-Token": csrf}
        )
        assert response.status == 400
        assert (await response.json())["error"] == "enabled must be true or false"
    async with sessions() as session:
        assert await session.get(ConsoleOption, "auto_assign") is None

    response = await client.post(
        "/api/options/auto-assign", json={"enabled": False}, headers={"X-CSRF-Token": csrf}
    )
    assert await response.json() == {"enabled": False}
    assert await (await client.get("/api/options/auto-assign")).json() == {"enabled": False}
    assert (await (await client.get("/api/team")).json())["auto_assign"] is False
    # Switched off, a new ticket stays open although ann is online.
    rules = AssignmentRules(default_on=True, ticket_limit=5, online_seconds=60)
    async with sessions() as session, session.begin():
        ticket, _ = await open_ticket(
            session,
            "web-off",
            EscalationReason.REQUESTED,
            "hi",
            [],
            "socketio",
            {},
            "",
            None,
            rules,
        )
        assert ticket.assigned_agent_id is None and ticket.status == "open"


async def test_the_team_page_lists_agents_and_switches_status(client, sessions):
    csrf = await sign_in(client, "bob")
    page = await client.get("/console/team")
    html = await page.text()
    assert page.status == 200
    assert 'data-status="online"' in html and "Ann" in html and "Bob" in html
    assert 'id="auto-assign-toggle"' not in html  # not an admin
    response = await client.post(
        "/console/team/status", data={"status": "away", "csrf_token": csrf}, allow_redirects=False
    )
    assert response.status == 303 and response.headers["Location"] == "/console/team"
    assert await status_of(sessions, "bob") == "away"
    response = await client.post(
        "/console/team/status", data={"status": "asleep", "csrf_token": csrf}
    )
    assert response.status == 400
    assert await status_of(sessions, "bob") == "away"
    response = await client.post(
        "/console/team/auto-assign", data={"enabled": "off", "csrf_token": csrf}
    )
    assert response.status == 403


async def test_an_admin_switches_assignment_on_the_team_page(client, sessions):
    csrf = await sign_in(client, "ann")
    html = await (await client.get("/console/team")).text()
    assert 'id="auto-assign-toggle"' in html and 'data-enabled="on"' in html
    response = await client.post(
        "/console/team/auto-assign", data={"enabled": "off", "csrf_token": csrf}
    )
    assert response.status == 200  # followed back to the page
    assert 'data-enabled="off"' in await response.text()
    response = await client.post("/console/team/auto-assign", data={"enabled": "off"})
    assert response.status == 403  # no CSRF token
