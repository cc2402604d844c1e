"""Fixtures of the web service's tests: two agents and a test client of the whole app."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.domain.auth import create_agent
from bot.domain.tickets import open_ticket
from bot.settings import Settings
from bot.web.app import create_app
from vocabulary import EscalationReason

PASSWORDS = {"ann": "ann's long passphrase", "bob": "bob's long passphrase"}


@pytest.fixture()
async def client(sessions, database_url):
    async with sessions() as session, session.begin():
        await create_agent(session, "ann", "Ann", PASSWORDS["ann"], "admin")
        await create_agent(session, "bob", "Bob", PASSWORDS["bob"], "agent")
    settings = Settings(
        database_url=database_url, rasa_port=1, rasa_api_token="unused", ingest_interval=0.05
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


async def sign_in(client: TestClient, name: str, accept_language: str | None = None) -> str:
    """Sign in as ``name`` (from a browser asking for ``accept_language``); the session's CSRF
    token."""
    client.session.cookie_jar.clear()
    token = (await (await client.get("/api/login")).json())["csrf_token"]
    headers = {"X-CSRF-Token": token}
    if accept_language:
        headers["Accept-Language"] = accept_language
    response = await client.post(
        "/api/login",
        json={"username": name, "password": PASSWORDS[name]},
        headers=headers,
    )
    assert response.status == 200, await response.text()
    return (await response.json())["csrf_token"]


async def a_ticket(sessions, sender="web-t1", question="where is my refund?") -> int:
    async with sessions() as session, session.begin():
        ticket, _ = await open_ticket(
            session, sender, EscalationReason.REQUESTED, question, [], "socketio", {}, ""
        )
        return ticket.id
