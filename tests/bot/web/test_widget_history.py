"""The widget's history: only for the holder of the conversation id, a signed-in customer's only
with their signature, agents' replies with their names, and a limit on requests. The secret
comes in a POST body: in a URL it would end up in browser histories and proxies' logs."""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.domain.identity import sign
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.widget import STATIC
from bot.workers.ingestion import Ingestor
from connectors.widget_session import widget_sender_id
from tests.bot.workers.test_ingestion import SECRET, bot, drain, publish, user

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


async def history(client, **fields):
    response = await client.post("/api/widget/history", json=fields)
    body = await response.text()
    return response.status, (json.loads(body) if body.startswith("{") else body)


async def test_the_holder_of_the_id_gets_the_conversation(widget_client):
    status, body = await history(widget_client, session_id=ANON)
    assert status == 200
    assert [(m["direction"], m["text"], m["agent"], m["choice"]) for m in body["messages"]] == [
        ("customer", "where is my parcel?", None, False),
        ("bot", "It left yesterday.", None, False),
        ("agent", "Hi, Nina here.", "Nina", False),
        ("customer", "/feedback_helpful", None, True),
    ]  # a button's payload, which the widget shows by the title it remembers


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
    "session_id",
    ["", "short", "Z" * 32, "a" * 65, "a' OR 1=1 --", widget_sender_id(ANON), None, 7, [ANON]],
)
async def test_a_malformed_id_is_refused(widget_client, session_id):
    status, _ = await history(widget_client, session_id=session_id)
    assert status == 400


async def test_requests_are_rate_limited(widget_client):
    statuses = [(await history(widget_client, session_id="c" * 32))[0] for _ in range(35)]
    assert statuses[:30] == [200] * 30 and statuses[-1] == 429


async def test_the_secret_in_the_url_is_refused_and_reads_nothing(widget_client):
    for params in ({"session_id": ANON}, {}):
        response = await widget_client.get("/api/widget/history", params=params)
        assert response.status == 400
        body = await response.json()
        assert "must not be in the URL" in body["error"] and "messages" not in body
        assert response.headers["Access-Control-Allow-Origin"] == "*"  # the widget may read it
    signed = {"customer_id": "c-5", "customer_hash": sign("c-5", SECRET)}
    for params in ({"session_id": ANON}, signed):  # with a good body too
        response = await widget_client.post(
            "/api/widget/history", params=params, json={"session_id": SIGNED, **signed}
        )
        assert response.status == 400, params
        assert "messages" not in await response.json()


@pytest.mark.parametrize(
    "body",
    [b"", b"session_id=" + ANON.encode(), b"[1]", b'"' + ANON.encode() + b'"', b"\xff\xfe"],
)
async def test_a_body_that_is_no_json_object_is_refused(widget_client, body):
    response = await widget_client.post("/api/widget/history", data=body)
    assert response.status == 400
    assert "error" in await response.json()


async def test_a_large_body_is_refused_before_it_is_read(widget_client):
    padding = "x" * 5000
    status, body = await history(widget_client, session_id=ANON, padding=padding)
    assert status == 413 and body["error"] == "the body is too large"

    async def chunked():  # no Content-Length to go by
        yield json.dumps({"session_id": ANON, "padding": ""})[:-2].encode()
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    response = await widget_client.post("/api/widget/history", data=chunked())
    assert response.status == 413


async def test_pages_on_other_origins_may_post_to_it(widget_client):
    response = await widget_client.options(
        "/api/widget/history",
        headers={
            "Origin": "https://shop.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "POST"
    assert response.headers["Access-Control-Allow-Headers"] == "Content-Type"
    answer = await widget_client.post("/api/widget/history", json={"session_id": ANON})
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.headers["Cache-Control"] == "no-store"


async def test_refused_requests_count_against_the_limit(widget_client):
    for _ in range(30):
        assert (await widget_client.get("/api/widget/history?session_id=" + ANON)).status == 400
    status, body = await history(widget_client, session_id=ANON)
    assert status == 429 and body == {"error": "too many requests"}


def test_the_widget_script_posts_the_secret_and_puts_nothing_in_the_url():
    script = (STATIC / "widget.js").read_text(encoding="utf-8")
    call = script[script.index("async function restoreHistory()") :]
    call = call[: call.index("\n  }\n")]
    assert "fetch(`${host}/api/widget/history`, {" in call
    assert 'method: "POST"' in call and "body: JSON.stringify(ask)" in call
    assert "URLSearchParams" not in call and "?" not in call.split("fetch(")[1].split(",")[0]
