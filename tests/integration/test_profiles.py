"""Every message and reply lands in the customer's profile once, in order, whatever crashes."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.domain.customers import find_customer
from bot.domain.identity import sign
from bot.domain.profiles import profile_document
from bot.store.db import create_engine, session_factory
from tests.integration.conftest import IDENTITY_SECRET, Assistant

pytestmark = pytest.mark.integration

MESSAGES = [
    "hello",
    "Where is my order?",
    "怎么退货？",
    "How long does a refund take?",
    "I want to change my delivery address",
    "发票怎么开",
    "Can I pay with PayPal?",
    "how do I reset my password",
    "thanks",
    "bye",
]
CONVERSATIONS = 20


def profiles(assistant: Assistant, senders: list[str]) -> dict[str, dict]:
    async def read() -> dict[str, dict]:
        engine = create_engine(assistant.settings.database.database_url)
        try:
            async with session_factory(engine)() as session:
                found = {}
                for sender in senders:
                    customer = await find_customer(session, sender)
                    if customer is not None:
                        found[sender] = await profile_document(session, customer)
                return found
        finally:
            await engine.dispose()

    return asyncio.run(read())


def wait_for_ingestion(assistant: Assistant, senders: list[str], expected: int, timeout=60.0):
    """Profiles once the broker table is empty and ``expected`` interactions are stored."""
    deadline = time.monotonic() + timeout
    while True:
        found = profiles(assistant, senders)
        stored = sum(
            1
            for sender, profile in found.items()
            for item in profile["interactions"]
            if item["conversation"] == sender
        )
        health = assistant.health()
        if stored >= expected and health["ingestion"]["pending"] == 0:
            return found
        assert time.monotonic() < deadline, f"{stored} of {expected} interactions stored; {health}"
        time.sleep(0.5)


def bot_cli(assistant: Assistant, *args: str) -> subprocess.CompletedProcess:
    """``python -m bot ARGS`` on the assistant's database, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**os.environ, "DATABASE_URL": assistant.settings.database.database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def bot_texts(replies: list[dict]) -> list[str]:
    return [reply["text"] for reply in replies if reply.get("text")]


@pytest.mark.parametrize("stack", ["assistant", "postgres_assistant", "rabbitmq_assistant"])
def test_every_message_lands_once_in_order_while_ingestion_is_killed(request, stack):
    assistant: Assistant = request.getfixturevalue(stack)
    run = uuid.uuid4().hex[:8]
    senders = [f"load-{run}-{n}" for n in range(CONVERSATIONS)]
    sent = itertools.count(1)
    kill_at = {60, 130}
    crashes = threading.Lock()
    restarts = []
    replies: dict[str, list[str]] = {sender: [] for sender in senders}

    def converse(sender: str) -> None:
        for message in MESSAGES:
            replies[sender] += bot_texts(assistant.send(message, sender))
            if next(sent) in kill_at:
                with crashes:  # crash the worker mid-stream, then bring it back
                    assistant.kill_web()
                    assistant.start_web()
                    restarts.append(assistant.processes["web"].process.pid)

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(converse, sender) for sender in senders]:
            future.result()

    assert len(set(restarts)) == 2  # two crashes, two new worker processes
    expected = CONVERSATIONS * len(MESSAGES) + sum(len(texts) for texts in replies.values())
    found = wait_for_ingestion(assistant, senders, expected)
    for sender in senders:
        timeline = [i for i in found[sender]["interactions"] if i["conversation"] == sender]
        said = [i["text"] for i in timeline if i["direction"] == "customer"]
        answered = [i["text"] for i in timeline if i["direction"] == "bot"]
        assert said == MESSAGES, sender
        assert answered == replies[sender], sender
        # what the bot understood and decided travels with the messages
        question = next(i for i in timeline if i["text"] == "Where is my order?")
        assert question["intent"] == "ask_question" and question["language"] == "en"
        assert question["faq_decision"] in ("answer", "clarify")
        refund = next(i for i in timeline if i["text"] == "怎么退货？")
        assert refund["language"] == "zh" and refund["faq_decision"] is not None


def test_a_returning_customer_is_welcomed_by_name_in_their_language(assistant):
    customer_id = f"shop-{uuid.uuid4().hex[:8]}"
    signed = {
        "customer_id": customer_id,
        "customer_hash": sign(customer_id, IDENTITY_SECRET),
        "name": "李雷",
    }
    first, second = f"first-{customer_id}", f"second-{customer_id}"
    assistant.send("我的快递到哪了？", first, metadata=signed)
    wait_for_ingestion(assistant, [first], expected=2)

    greeting = bot_texts(assistant.send("hi", second, metadata=signed))
    assert greeting and greeting[0].startswith("李雷，欢迎回来")

    forged = {**signed, "customer_hash": sign(customer_id, "not the secret")}
    stranger = bot_texts(assistant.send("hi", f"forged-{customer_id}", metadata=forged))
    assert "李雷" not in " ".join(stranger)


def test_profile_command_prints_the_timeline_as_json(assistant):
    sender = f"cli-{uuid.uuid4().hex[:8]}"
    replies = bot_texts(assistant.send("How do I reset my password?", sender))
    wait_for_ingestion(assistant, [sender], expected=1 + len(replies))
    result = bot_cli(assistant, "profile", sender, "--json")
    assert result.returncode == 0, result.stderr
    profile = json.loads(result.stdout)
    assert [i["text"] for i in profile["interactions"]][:2] == [
        "How do I reset my password?",
        replies[0],
    ]
    assert profile["counts"]["questions"] == 1

    missing = bot_cli(assistant, "profile", "nobody-at-all", "--json")
    assert missing.returncode == 1 and "no customer" in missing.stderr and not missing.stdout


@pytest.mark.parametrize("stack", ["assistant", "postgres_assistant"])
def test_a_deleted_customer_leaves_no_text_in_either_database(request, stack):
    assistant: Assistant = request.getfixturevalue(stack)
    marker = f"MARKER{uuid.uuid4().hex[:10]}"
    run = uuid.uuid4().hex[:8]
    sender, bystander = f"delete-{run}", f"keep-{run}"
    replies = bot_texts(assistant.send(f"my card {marker} was charged twice", sender))
    replies += bot_texts(assistant.send(f"and {marker} again", sender))
    other = bot_texts(assistant.send("where is my order", bystander))
    wait_for_ingestion(assistant, [sender, bystander], expected=2 + len(replies) + 1 + len(other))

    exported = bot_cli(assistant, "customers", "export", sender)
    assert exported.returncode == 0, exported.stderr
    assert marker in exported.stdout and json.loads(exported.stdout)["customer"]["interactions"]

    deleted = bot_cli(assistant, "customers", "delete", sender)
    assert deleted.returncode == 0, deleted.stderr

    async def scan() -> tuple[list[str], ...]:
        from bot.runtime.rasa_stores import tracker_store_engine
        from tests.conftest import tables_containing

        app = create_engine(assistant.settings.database.database_url)
        tracker = await tracker_store_engine(assistant.settings.database)
        assert tracker is not None, "Rasa's tracker store database should exist"
        try:
            return (
                await tables_containing(app, marker) + await tables_containing(app, sender),
                await tables_containing(tracker, marker) + await tables_containing(tracker, sender),
                await tables_containing(tracker, bystander),
            )
        finally:
            await app.dispose()
            await tracker.dispose()

    in_app, in_tracker, bystander_in_tracker = asyncio.run(scan())
    assert in_app == [] and in_tracker == []
    assert bystander_in_tracker == ["events"]  # only the deleted customer's conversations went
    assert profiles(assistant, [bystander])[bystander]["interactions"]
