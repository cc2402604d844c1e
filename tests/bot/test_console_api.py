"""The console's JSON API: sign-in, CSRF, roles, and the life of a ticket, on both databases."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from bot.models import OutboxMessage
from tests.bot.conftest import PASSWORDS, a_ticket, sign_in


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/tickets"),
        ("GET", "/api/tickets/1"),
        ("POST", "/api/tickets/1/claim"),
        ("POST", "/api/tickets/1/reply"),
        ("POST", "/api/tickets/1/resolve"),
        ("GET", "/api/customers/1"),
        ("GET", "/api/customers/1/export"),
        ("GET", "/api/faq/search?q=refund"),
        ("POST", "/api/faq"),
    ],
)
async def test_the_api_refuses_calls_without_a_session(client, method, path):
    response = await client.request(method, path, json={})
    assert response.status == 401
    assert (await response.json())["error"] == "sign in first"


async def test_sign_in_needs_the_login_csrf_token_and_the_right_password(client):
    response = await client.post("/api/login", json={"username": "ann", "password": "x"})
    assert response.status == 403
    token = (await (await client.get("/api/login")).json())["csrf_token"]
    response = await client.post(
        "/api/login",
        json={"username": "ann", "password": "wrong password!"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status == 401
    assert (await client.get("/api/tickets")).status == 401


async def test_repeated_failures_lock_the_account_for_a_while(client):
    token = (await (await client.get("/api/login")).json())["csrf_token"]
    for _ in range(5):
        await client.post(
            "/api/login",
            json={"username": "bob", "password": "guess"},
            headers={"X-CSRF-Token": token},
        )
    response = await client.post(
        "/api/login",
        json={"username": "bob", "password": PASSWORDS["bob"]},
        headers={"X-CSRF-Token": token},
    )
    assert response.status == 429


async def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(client, sessions):
    ticket_id = await a_ticket(sessions)
    await sign_in(client, "ann")
    response = await client.post(f"/api/tickets/{ticket_id}/reply", json={"text": "hello"})
    assert response.status == 403
    response = await client.post(
        f"/api/tickets/{ticket_id}/reply", json={"text": "hello"}, headers={"X-CSRF-Token": "x"}
    )
    assert response.status == 403
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    detail = await (await client.get(f"/api/tickets/{ticket_id}")).json()
    assert detail["status"] == "open" and detail["replies"] == []


async def test_the_life_of_a_ticket(client, sessions):
    ticket_id = await a_ticket(sessions, question="<script>alert(1)</script> refund?")
    csrf = await sign_in(client, "bob")
    headers = {"X-CSRF-Token": csrf}

    listed = (await (await client.get("/api/tickets?status=open")).json())["tickets"]
    assert [t["id"] for t in listed] == [ticket_id]
    assert listed[0]["question"] == "<script>alert(1)</script> refund?"  # data, as it came
    assert (await (await client.get("/api/tickets?reason=complaint")).json())["tickets"] == []

    claimed = await (await client.post(f"/api/tickets/{ticket_id}/claim", headers=headers)).json()
    assert claimed["status"] == "assigned" and claimed["assigned_to"] == "Bob"

    answered = await client.post(
        f"/api/tickets/{ticket_id}/reply", json={"text": "Your refund left today."}, headers=headers
    )
    detail = await answered.json()
    assert detail["replies"][0]["text"] == "Your refund left today."
    assert detail["replies"][0]["agent"] == "Bob" and detail["first_reply_at"]

    empty = await client.post(
        f"/api/tickets/{ticket_id}/reply", json={"text": " "}, headers=headers
    )
    assert empty.status == 409

    noted = await client.post(
        f"/api/tickets/{ticket_id}/notes", json={"text": "refund id R-1"}, headers=headers
    )
    assert (await noted.json())["notes"][0]["text"] == "refund id R-1"

    resolved = await client.post(
        f"/api/tickets/{ticket_id}/resolve", json={"note": "refunded"}, headers=headers
    )
    detail = await resolved.json()
    assert detail["status"] == "resolved" and detail["resolution_note"] == "refunded"
    again = await client.post(f"/api/tickets/{ticket_id}/resolve", json={}, headers=headers)
    assert again.status == 409
    async with sessions() as session:
        kinds = (await session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id))).all()
    assert kinds == ["reply", "resume"]  # the bot takes over after the reply

    reopened = await client.post(f"/api/tickets/{ticket_id}/reopen", headers=headers)
    assert (await reopened.json())["status"] == "assigned"

    customer = (await (await client.get(f"/api/tickets/{ticket_id}")).json())["customer"]["id"]
    assert (await client.get(f"/api/customers/{customer}")).status == 200


async def test_an_agent_cannot_take_anothers_ticket_or_do_what_only_an_admin_may(client, sessions):
    ticket_id = await a_ticket(sessions)
    bob = {"X-CSRF-Token": await sign_in(client, "bob")}
    assert (await client.post(f"/api/tickets/{ticket_id}/claim", headers=bob)).status == 200
    bob_id = (await (await client.get(f"/api/tickets/{ticket_id}")).json())["assigned_agent_id"]

    customer = (await (await client.get(f"/api/tickets/{ticket_id}")).json())["customer"]["id"]
    assert (await client.get(f"/api/customers/{customer}/export")).status == 403
    assign = await client.post(
        f"/api/tickets/{ticket_id}/assign", json={"agent_id": bob_id}, headers=bob
    )
    assert assign.status == 403

    ann = {"X-CSRF-Token": await sign_in(client, "ann")}
    taken = await client.post(f"/api/tickets/{ticket_id}/claim", headers=ann)
    assert taken.status == 409  # Bob has it; an admin reassigns instead
    exported = await client.get(f"/api/customers/{customer}/export")
    assert exported.status == 200 and "customer" in await exported.json()


async def test_passwords_never_reach_the_logs(client, caplog):
    with caplog.at_level(logging.DEBUG):
        token = (await (await client.get("/api/login")).json())["csrf_token"]
        for password in ("a wrong password 123", PASSWORDS["ann"]):
            await client.post(
                "/api/login",
                json={"username": "ann", "password": password},
                headers={"X-CSRF-Token": token},
            )
    assert "a wrong password 123" not in caplog.text
    assert PASSWORDS["ann"] not in caplog.text


async def test_answers_carry_a_strict_content_security_policy(client):
    response = await client.get("/api/tickets")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_an_admin_assigns_a_ticket_to_an_agent(client, sessions):
    ticket_id = await a_ticket(sessions)
    ann = {"X-CSRF-Token": await sign_in(client, "ann")}
    agents = (await (await client.get("/api/agents")).json())["agents"]
    bob = next(a for a in agents if a["username"] == "bob")
    assigned = await client.post(
        f"/api/tickets/{ticket_id}/assign", json={"agent_id": bob["id"]}, headers=ann
    )
    detail = await assigned.json()
    assert detail["assigned_to"] == "Bob" and detail["status"] == "assigned"
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert 'id="assign-form"' in page  # admins see the assign form; agents do not
    await sign_in(client, "bob")
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert 'id="assign-form"' not in page
