"""The widget's options (greeting, pre-chat form, whether people answer now) and its pre-chat
form's contact details: public, without customer data, written only by the conversation's
holder, never over what a profile already holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from bot.domain.auth import create_agent
from bot.domain.identity import sign
from bot.settings import Settings
from bot.store.models import Agent, Conversation, Customer
from bot.web.app import create_app
from bot.workers.ingestion import Ingestor
from connectors.widget_session import widget_sender_id
from tests.bot.workers.test_ingestion import SECRET, drain, publish, user

SESSION = "c" * 32
SIGNED = "d" * 32


def app_settings(database_url: str, **values) -> Settings:
    return Settings(database_url=database_url, identity_secret=SECRET, rasa_port=1, **values)


@pytest.fixture()
async def client(database_url):
    settings = app_settings(
        database_url,
        widget_greeting="Hello! Ask us anything.",
        widget_greeting_zh="您好！有什么可以帮您？",
        widget_prechat_form=True,
        business_hours="00:00-24:00",
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


async def options(client, lang: str | None = None) -> dict:
    response = await client.get("/widget/options", params={"lang": lang} if lang else None)
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "no-store"
    return await response.json()


async def test_the_options_carry_the_greeting_in_the_pages_language(client):
    assert await options(client) == {
        "greeting": "Hello! Ask us anything.",
        "prechat_form": True,
        "agents": "offline",
    }
    assert (await options(client, "zh-CN"))["greeting"] == "您好！有什么可以帮您？"
    assert (await options(client, "zh-Hant-TW"))["greeting"] == "您好！有什麼可以幫您？"
    assert (await options(client, "fr"))["greeting"] == "Hello! Ask us anything."


async def test_the_options_say_when_people_answer(client, sessions):
    async with sessions() as session, session.begin():
        await create_agent(session, "wang", "Wang", "a long enough passphrase", "agent")
    assert (await options(client))["agents"] == "offline"  # never opened the console
    async with sessions() as session, session.begin():
        await session.execute(update(Agent).values(last_seen_at=datetime.now(UTC)))
    assert (await options(client))["agents"] == "online"


async def test_outside_business_hours_the_options_say_closed(database_url):
    settings = app_settings(database_url, business_hours="00:00-00:01")
    async with TestClient(TestServer(create_app(settings))) as client:
        found = await options(client)
    assert found["agents"] in {"closed", "offline"}  # "offline" only in that one minute
    assert found["greeting"] == "" and found["prechat_form"] is False


async def contact(client, **fields):
    response = await client.post("/widget/contact", json=fields)
    return response.status, await response.text()


async def profile(sessions, session_id: str) -> Customer | None:
    async with sessions() as session:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.sender_id == widget_sender_id(session_id))
        )
        if conversation is None:
            return None
        return await session.get(Customer, conversation.customer_id)


async def test_the_form_fills_the_profile_before_the_first_message(client, sessions):
    status, _ = await contact(client, session_id=SESSION, name=" Li  Lei ", email="li@example.com")
    assert status == 204
    customer = await profile(sessions, SESSION)
    assert (customer.name, customer.email) == ("Li Lei", "li@example.com")
    # The customer writes: the conversation, and its profile, stay the same.
    await publish(sessions, widget_sender_id(SESSION), [user("where is my parcel?")])
    await drain(sessions, Ingestor(SECRET))
    assert (await profile(sessions, SESSION)).id == customer.id


async def test_the_form_never_overwrites_what_the_profile_holds(client, sessions):
    first = await contact(client, session_id=SESSION, name="Li Lei", email="li@example.com")
    again = await contact(client, session_id=SESSION, name="Mallory", email="m@evil.example")
    assert first[0] == again[0] == 204
    customer = await profile(sessions, SESSION)
    assert (customer.name, customer.email) == ("Li Lei", "li@example.com")


@pytest.mark.parametrize(
    "fields",
    [
        {"session_id": "guess", "name": "Li", "email": "li@example.com"},
        {"session_id": SESSION, "name": "", "email": "li@example.com"},
        {"session_id": SESSION, "name": "x" * 101, "email": "li@example.com"},
        {"session_id": SESSION, "name": "Li", "email": "not an address"},
        {"session_id": SESSION, "name": "Li", "email": "li@localhost"},
        {"session_id": SESSION, "name": ["Li"], "email": "li@example.com"},
        {"session_id": SESSION, "name": "Li\x00", "email": "li@example.com"},
    ],
)
async def test_a_bad_form_is_refused_and_changes_nothing(client, sessions, fields):
    status, body = await contact(client, **fields)
    assert status == 400 and '"error"' in body
    assert await profile(sessions, SESSION) is None


async def test_a_signed_in_customers_conversation_needs_their_signature(client, sessions):
    signed = {"customer_id": "c-7", "customer_hash": sign("c-7", SECRET)}
    await publish(sessions, widget_sender_id(SIGNED), [user("my question", metadata=signed)])
    await drain(sessions, Ingestor(SECRET))
    status, _ = await contact(client, session_id=SIGNED, name="Mallory", email="m@evil.example")
    assert status == 403
    assert (await profile(sessions, SIGNED)).name is None
    status, _ = await contact(
        client, session_id=SIGNED, name="Han", email="han@example.com", **signed
    )
    assert status == 204
    assert (await profile(sessions, SIGNED)).email == "han@example.com"


async def test_shops_pages_may_post_the_form(client):
    response = await client.options("/widget/contact")
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
