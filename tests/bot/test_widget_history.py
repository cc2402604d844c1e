"""The widget's history: only for the holder of the conversation id, a signed-in customer's only
with their signature, agents' replies with their names, and a limit on requests."""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.identity import sign
from bot.ingestion import Ingestor
from bot.settings import Settings
from bot.web import create_app
from connectors.widget_session import widget_sender_id
from tests.bot.test_ingestion import SECRET, bot, drain, publish, user

ANON = "a" * 32  # the widget's secrets; conversations are named by their digests
SIGNED = "b" * 32


@pytest.fixture()
async def widget_client(sessions, database_url):
    signed = {"customer_id": "c-5", "customer_hash": sign("c-5", SECRET)}
    anon, signed_in = widget_sender_id(ANON), widget_sender_id(SIGNED)
    await publish(sessions, anon, [user("where is my parcel?"), bot("It left yesterday.")])
    agent_reply = {**bot("Hi, Nina here."), "metadata": {"agent_name": "Nina", "outbox_id": 1}}
    await publish(sessions, anon, [agent_reply, user("/feedback_helpful", "feedback_helpful")])
    await publish(sessions, signed_in, [user("my private question", metadata=signed)])
    await drain(sessions, Ingestor(SECRET))
    settings = Settings(database_url=database_url, identity_secret=SECRET, rasa_port=1)
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


async def history(client, **params):
    response = await client.get("/api/widget/history", params=params)
    body = await response.text()
    return response.status, (json.loads(body) if body.startswith("{") else body)


async def test_the_holder_of_the_id_gets_the_conversation(widget_client):
    status, body = await history(widget_client, session_id=ANON)
    assert status == 200
    assert [(m["direction"], m["text"], m["agent"]) for m in body["messages"]] == [
        ("customer", "where is my parcel?", None),
        ("bot", "It left yesterday.", None),
        ("agent", "Hi, Nina here.", "Nina"),
    ]  # button payloads are not shown as messages


async def test_a_signed_in_customers_conversation_needs_their_signature(widget_client):
    status, _ = await history(widget_client, session_id=SIGNED)
    assert status == 403
    forged = sign("c-5", "not the secret")
    status, _ = await history(
        widget_client, session_id=SIGNED, customer_id="c-5", customer_hash=forged
    )
    assert status == 403
    someone_else = sign("c-6", SECRET)
    status, _ = await history(
        widget_client, session_id=SIGNED, customer_id="c-6", customer_hash=someone_else
    )
    assert status == 403
    status, body = await history(
        widget_client, session_id=SIGNED, customer_id="c-5", customer_hash=sign("c-5", SECRET)
    )
    assert status == 200 and body["messages"][0]["text"] == "my private question"


@pytest.mark.parametrize(
    "session_id", ["", "short", "Z" * 32, "a" * 65, "a' OR 1=1 --", widget_sender_id(ANON)]
)
async def test_a_malformed_id_is_refused(widget_client, session_id):
    status, _ = await history(widget_client, session_id=session_id)
    assert status == 400


async def test_requests_are_rate_limited(widget_client):
    statuses = [(await history(widget_client, session_id="c" * 32))[0] for _ in range(35)]
    assert statuses[:30] == [200] * 30 and statuses[-1] == 429
