"""The input gate and conversation binding, against the real Rasa server: hostile requests get
a 4xx and change nothing, and nobody but the conversation's holder gets an agent's reply."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
import uuid

import pytest

from bot.domain.identity import sign
from testkit.agents import add_agent
from testkit.customers import Customer
from tests.integration.conftest import IDENTITY_SECRET, Assistant
from tests.integration.test_handoff import PASSWORD, Console, texts

pytestmark = pytest.mark.integration


def post(assistant: Assistant, body: bytes | dict, token: str | None = "") -> tuple[int, object]:
    """POST to the REST channel; (status, JSON answer). ``token=""``: the stack's token."""
    if token == "":
        token = assistant.settings.rasa.rest_channel_token.get_secret_value()
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{assistant.settings.servers.rasa_url}/webhooks/rest/webhook", data=data, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body or b"null")
        except ValueError:
            return error.code, body.decode("utf-8", "replace")


def user_texts(assistant: Assistant, sender: str) -> list[str]:
    try:
        events = assistant.tracker(sender)["events"]
    except urllib.error.HTTPError:
        return []
    return [e["text"] for e in events if e["event"] == "user"]


def still_answers(assistant: Assistant) -> None:
    replies = assistant.send("How do I reset my password?", f"alive-{uuid.uuid4().hex[:8]}")
    assert "password" in texts(replies)[0].lower()


@pytest.fixture(scope="module")
def console(assistant: Assistant) -> Console:
    """An agent of this module's own (the stack, and its agents, are shared by modules)."""
    asyncio.run(add_agent(assistant.settings.database.database_url, "gatekeeper", "Nina", PASSWORD))
    return Console(assistant.settings.servers.web_url, "gatekeeper")


def test_the_rest_channel_needs_its_token(assistant: Assistant):
    body = {"sender": "no-token", "message": "hello"}
    assert post(assistant, body, token=None)[0] == 401
    assert post(assistant, body, token="wrong")[0] == 401
    assert user_texts(assistant, "no-token") == []


def test_a_sender_id_with_a_lone_surrogate_is_refused_and_rasa_stays_up(assistant: Assistant):
    raw = b'{"sender": "x\\udc80y", "message": "hello"}'
    status, answer = post(assistant, raw)
    assert (status, answer["error"]) == (400, "bad_sender")
    status, answer = post(assistant, b'{"sender": "ok-sender", "message": "hi \\ud800"}')
    assert (status, answer["error"]) == (400, "bad_text")
    still_answers(assistant)


def test_bad_requests_get_a_4xx_and_no_shared_default_conversation(assistant: Assistant):
    assert post(assistant, {"message": "no sender"})[0] == 400
    assert post(assistant, b"not json")[0] == 400
    assert post(assistant, b"[1, 2]")[0] == 400
    status, answer = post(assistant, {"sender": "empty-1", "message": "   "})
    assert (status, answer["error"]) == (400, "empty")  # not "too long"
    assert post(assistant, {"sender": "meta-1", "message": "hi", "metadata": "x"})[0] == 400
    assert user_texts(assistant, "default") == []
    still_answers(assistant)


def test_a_long_message_is_refused_before_nlu_and_nobody_waits(assistant: Assistant):
    sender = f"long-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    status, answer = post(assistant, {"sender": sender, "message": "where is my parcel " * 6000})
    refused_in = time.monotonic() - started
    assert (status, answer["error"]) == (413, "too_long")
    assert "at most 1000 characters" in answer["reply"]
    status, answer = post(assistant, {"sender": sender, "message": "我的包裹在哪里" * 300})
    assert answer["reply"].startswith("您的消息太长了")
    assert user_texts(assistant, sender) == []  # NLU never saw them
    started = time.monotonic()
    still_answers(assistant)
    answered_in = time.monotonic() - started
    assert refused_in < answered_in + 1.0  # refusing costs no more than answering a question


def test_the_caller_cannot_pick_another_input_channel(assistant: Assistant):
    sender = f"spoof-{uuid.uuid4().hex[:8]}"
    body = {"sender": sender, "message": "hello", "input_channel": "wechat"}
    assert post(assistant, body)[0] == 200
    events = assistant.tracker(sender)["events"]
    assert [e["input_channel"] for e in events if e["event"] == "user"] == ["rest"]


async def test_socket_io_session_ids_that_are_not_secrets_get_a_new_conversation(
    assistant: Assistant,
):
    url = assistant.settings.servers.rasa_url
    async with Customer(url) as victim:
        await victim.say("Where is my order?")
        await victim.hear("")
        for stolen in (victim.sender_id, "x\udc80y", "oAbCdEfGhIjKlMnOpQrStUvWxYz0"):
            async with Customer(url, session_id="0" * 32) as probe:  # a valid, other secret
                await probe.client.emit("session_request", {"session_id": stolen})
                await asyncio.sleep(0.5)
                await probe.say("hello from the attacker")
                await probe.hear("")
        assert user_texts(assistant, victim.sender_id) == ["Where is my order?"]
    still_answers(assistant)


async def test_an_agents_reply_reaches_only_the_conversations_own_socket(
    assistant: Assistant,
    console: Console,
):
    url = assistant.settings.servers.rasa_url
    async with Customer(url) as victim, Customer(url, session_id=None) as attacker:
        await victim.say("I want to talk to a human")
        opened = await victim.hear("I've passed this to our team")
        ticket_id = int(opened["text"].split("ticket ")[1].split(")")[0])
        # The attacker knows the conversation's id: over REST ...
        status, answer = post(assistant, {"sender": victim.sender_id, "message": "hi, me again"})
        assert (status, answer["error"]) == (409, "wrong_channel")
        # ... and over socket.io, where it is not a secret that opens the room.
        await attacker.client.emit("session_request", {"session_id": victim.sender_id})
        await asyncio.sleep(0.5)
        assert attacker.sender_id != victim.sender_id
        console.call("POST", f"/api/tickets/{ticket_id}/claim", {})
        console.call("POST", f"/api/tickets/{ticket_id}/reply", {"text": "Nina here, for you."})
        heard = await victim.hear("Nina here, for you.")
        assert heard["metadata"] == {"agent_name": "Nina"}
        assert set(heard) == {"text", "metadata"}  # what every Rasa socket.io client shows
        await asyncio.sleep(1.0)
        leaked = [attacker.received.get_nowait() for _ in range(attacker.received.qsize())]
        assert not [m for m in leaked if "Nina" in (m.get("text") or "")]
        assert user_texts(assistant, victim.sender_id) == ["I want to talk to a human"]


async def test_a_signed_in_customers_conversation_cannot_be_taken_over(assistant: Assistant):
    alice = {"customer_id": "c-alice", "customer_hash": sign("c-alice", IDENTITY_SECRET)}
    mallory = {"customer_id": "c-mallory", "customer_hash": sign("c-mallory", IDENTITY_SECRET)}
    async with Customer(assistant.settings.servers.rasa_url) as device:
        await device.say("Where is my order?", metadata=alice)
        await device.hear("")
        await device.say("What did I ask?", metadata=mallory)
        refused = await asyncio.wait_for(device.refusals.get(), 30)
        assert refused["code"] == "wrong_identity"
        await device.hear("This conversation belongs to another account")
        await device.say("And anonymously?")
        assert (await asyncio.wait_for(device.refusals.get(), 30))["code"] == "wrong_identity"
        assert user_texts(assistant, device.sender_id) == ["Where is my order?"]


def test_a_huge_body_is_refused_before_anything_reads_it(assistant: Assistant):
    status, _ = post(assistant, b'{"sender": "big", "message": "' + b"x" * 2_000_000 + b'"}', None)
    assert status == 413
    still_answers(assistant)
