"""The queue as agents work it: what needs them first, how long customers have waited against
the first-response target, unread marks per agent, and the counts in the navigation."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from bot.store.models import Ticket
from tests.bot.conftest import sign_in
from tests.bot.workers.test_ingestion import drain, publish, user


async def customer_writes(sessions, sender: str, text: str) -> None:
    await publish(sessions, sender, [{**user(text), "timestamp": time.time()}])
    await drain(sessions)


async def opened_ago(sessions, ticket_id: int, seconds: float) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id)
            .values(created_at=datetime.now(UTC) - timedelta(seconds=seconds))
        )


async def queue(client, query: str = "status=active&order=attention") -> dict:
    response = await client.get(f"/api/tickets?{query}")
    assert response.status == 200, await response.text()
    return {t["id"]: t for t in (await response.json())["tickets"]} | {
        "order": [t["id"] for t in (await response.json())["tickets"]]
    }


async def test_customers_waiting_longest_come_first_and_answered_ones_after(client, sessions):
    from tests.bot.conftest import a_ticket

    old = await a_ticket(sessions, sender="web-old", question="where is my parcel?")
    new = await a_ticket(sessions, sender="web-new", question="refund?")
    answered = await a_ticket(sessions, sender="web-answered", question="invoice?")
    await opened_ago(sessions, old, 400)  # past the 300 s target
    await opened_ago(sessions, new, 200)  # past half of it
    await opened_ago(sessions, answered, 900)
    csrf = await sign_in(client, "bob")
    replied = await client.post(
        f"/api/tickets/{answered}/reply",
        json={"text": "Here it is."},
        headers={"X-CSRF-Token": csrf},
    )
    assert replied.status == 200

    found = await queue(client)
    assert found["order"] == [old, new, answered]
    assert (found[old]["wait_level"], found[new]["wait_level"]) == ("late", "near")
    assert 395 <= found[old]["waiting_seconds"] <= 430
    assert found[answered]["waits_for"] == "customer" and found[answered]["waiting_since"] is None

    await customer_writes(sessions, "web-answered", "It is not the right invoice")
    found = await queue(client)
    assert found[answered]["waits_for"] == "us" and found[answered]["wait_level"] == "ok"
    assert found["order"] == [old, new, answered]  # it waits, but for seconds only

    html = await (await client.get("/console/")).text()  # the page: the same order
    assert [int(i) for i in re.findall(r'<tr data-ticket="(\d+)"', html)] == [old, new, answered]
    assert re.search(rf'data-ticket="{old}"[^>]*>.*?<td class="wait late"', html, re.S)
    assert "What needs you first" in html


async def test_a_ticket_is_unread_until_its_agent_opens_it_and_again_when_the_customer_writes(
    client, sessions
):
    from tests.bot.conftest import a_ticket

    ticket_id = await a_ticket(sessions, sender="web-unread")
    await sign_in(client, "bob")
    assert (await queue(client))[ticket_id]["unread"] is True
    assert 'class="priority-normal unread"' in await (await client.get("/console/")).text()

    assert (await client.get(f"/console/tickets/{ticket_id}")).status == 200
    assert (await queue(client))[ticket_id]["unread"] is False
    await sign_in(client, "ann")  # unread marks are each agent's own
    assert (await queue(client))[ticket_id]["unread"] is True

    await sign_in(client, "bob")
    await customer_writes(sessions, "web-unread", "hello? anyone?")
    assert (await queue(client))[ticket_id]["unread"] is True
    csrf = await sign_in(client, "bob")
    marked = await client.post(f"/api/tickets/{ticket_id}/read", headers={"X-CSRF-Token": csrf})
    assert marked.status == 200 and (await queue(client))[ticket_id]["unread"] is False


async def test_marking_read_needs_csrf_and_a_ticket(client, sessions):
    from tests.bot.conftest import a_ticket

    ticket_id = await a_ticket(sessions, sender="web-mark")
    csrf = await sign_in(client, "bob")
    assert (await client.post(f"/api/tickets/{ticket_id}/read")).status == 403
    assert (await queue(client))[ticket_id]["unread"] is True  # nothing changed
    missing = await client.post("/api/tickets/99999/read", headers={"X-CSRF-Token": csrf})
    assert missing.status == 404
    for bad in ("0", "x", "99999999999999999999"):
        answer = await client.post(f"/api/tickets/{bad}/read", headers={"X-CSRF-Token": csrf})
        assert answer.status in (400, 404), bad


async def test_the_navigation_counts_tickets_per_status_and_mine(client, sessions):
    from tests.bot.conftest import a_ticket

    first = await a_ticket(sessions, sender="web-c1")
    await a_ticket(sessions, sender="web-c2")
    csrf = await sign_in(client, "bob")
    await client.post(f"/api/tickets/{first}/claim", headers={"X-CSRF-Token": csrf})
    counts = await (await client.get("/api/me/counts")).json()
    assert counts == {"open": 1, "assigned": 1, "resolved": 0, "mine": 1}
    html = await (await client.get("/console/")).text()
    assert '<span class="count some" data-count="open">1</span>' in html
    assert '<span class="count" data-count="mine">1</span>' in html
    mine = await queue(client, "status=active&mine=1")
    assert mine["order"] == [first]
    assert (await client.get("/api/tickets?mine=yes")).status == 400


async def test_customers_without_a_name_read_as_visitors_with_channel_and_language(
    client, sessions
):
    from tests.bot.conftest import a_ticket

    ticket_id = await a_ticket(sessions, sender="web-anon")
    await sign_in(client, "bob")
    customer = (await queue(client))[ticket_id]["customer"]
    html = await (await client.get("/console/")).text()
    assert f">Visitor {customer['id']}</a>" in html
    assert '<span class="badge channel">Web chat</span>' in html
    assert f"#{customer['id']}<" not in html.replace(f"#{ticket_id}<", "")
