"""The ingestion worker turns Rasa's broker rows into interactions, once each, on both databases."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import pytest
from sqlalchemy import func, select

from bot.identity import sign
from bot.ingestion import IngestionWorker, Ingestor
from bot.models import BrokerEvent, Conversation, Customer, Identity, Interaction
from bot.profiles import find_customer, profile_document

SECRET = "test-identity-secret"
_clock = itertools.count(int(time.time()) - 86_400)  # one event a second, from yesterday


def user(text, intent="ask_question", confidence=0.9, channel="rest", metadata=None):
    return {
        "event": "user",
        "timestamp": next(_clock),
        "text": text,
        "parse_data": {"intent": {"name": intent, "confidence": confidence}, "text": text},
        "input_channel": channel,
        "message_id": f"m{next(_clock)}",
        "metadata": metadata or {},
    }


def bot(text):
    return {"event": "bot", "timestamp": next(_clock), "text": text, "data": {}, "metadata": {}}


def slot(name, value):
    return {"event": "slot", "timestamp": next(_clock), "name": name, "value": value}


def answered_turn(question, faq_id="order_track", category="orders", language="en"):
    return [
        user(question),
        {"event": "action", "timestamp": next(_clock), "name": "action_detect_language"},
        slot("language", language),
        bot(f"answer to {question}"),
        slot("faq_decision", "answer"),
        slot("faq_id", faq_id),
        slot("faq_category", category),
        slot("faq_score", 0.71),
    ]


async def publish(sessions, sender_id, events):
    """What Rasa's SQL event broker does: one row per event."""
    async with sessions() as session, session.begin():
        for event in events:
            body = {"sender_id": sender_id, **event}
            session.add(BrokerEvent(sender_id=sender_id, data=json.dumps(body)))


async def drain(sessions, ingestor=None):
    worker = IngestionWorker(sessions, ingestor or Ingestor(SECRET), batch=7)
    while await worker.drain_once():
        pass
    return worker


async def timeline(sessions, key):
    async with sessions() as session:
        customer = await find_customer(session, key)
        return await profile_document(session, customer)


async def count(sessions, model):
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_a_turn_lands_with_what_the_bot_understood_and_decided(sessions):
    await publish(sessions, "web-1", answered_turn("where is my parcel?"))
    await drain(sessions)

    profile = await timeline(sessions, "web-1")
    question, answer = profile["interactions"]
    assert question["direction"] == "customer" and question["text"] == "where is my parcel?"
    assert question["intent"] == "ask_question" and question["intent_confidence"] == 0.9
    assert answer["direction"] == "bot" and answer["text"] == "answer to where is my parcel?"
    for item in (question, answer):
        assert item["faq_id"] == "order_track" and item["faq_decision"] == "answer"
        assert item["faq_score"] == pytest.approx(0.71) and item["language"] == "en"
        assert item["channel"] == "rest" and item["conversation"] == "web-1"
    assert profile["counts"] == {
        "conversations": 1,
        "messages": 1,
        "questions": 1,
        "answered_by_bot": 1,
        "escalations": 0,
    }
    assert profile["faq_categories"] == {"orders": 1}
    assert profile["language"] == "en"
    assert profile["identities"] == [{"kind": "visitor", "value": "web-1", "verified": False}]
    assert await count(sessions, BrokerEvent) == 0  # the inbox is drained


async def test_a_redelivered_event_is_stored_once(sessions):
    turn = answered_turn("refund please", faq_id="refund_time", category="returns")
    await publish(sessions, "web-2", turn)
    await drain(sessions)
    await publish(sessions, "web-2", turn[:4])  # the broker delivers the same events again
    await drain(sessions)
    assert [i["text"] for i in (await timeline(sessions, "web-2"))["interactions"]] == [
        "refund please",
        "answer to refund please",
    ]


class CrashingIngestor(Ingestor):
    def __init__(self, crash_at: int) -> None:
        super().__init__(SECRET)
        self.calls, self.crash_at = 0, crash_at

    async def store(self, session, sender_id, event):
        self.calls += 1
        if self.calls == self.crash_at:
            raise RuntimeError("worker killed")
        return await super().store(session, sender_id, event)


async def test_a_crash_mid_batch_loses_and_doubles_nothing(sessions):
    for n in range(3):
        await publish(sessions, f"web-c{n}", answered_turn(f"question {n}"))
    with pytest.raises(RuntimeError):
        await IngestionWorker(sessions, CrashingIngestor(crash_at=12), batch=100).drain_once()
    assert await count(sessions, Interaction) == 0  # the batch rolled back as a whole
    assert await count(sessions, BrokerEvent) == 24  # and every row is still waiting
    await drain(sessions)
    for n in range(3):
        texts = [i["text"] for i in (await timeline(sessions, f"web-c{n}"))["interactions"]]
        assert texts == [f"question {n}", f"answer to question {n}"]
    assert await count(sessions, Interaction) == 6


async def test_a_valid_signature_links_the_conversation_to_the_shop_customer(sessions):
    metadata = {
        "customer_id": "c-42",
        "customer_hash": sign("c-42", SECRET),
        "name": "Li Lei",
        "email": "li@example.com",
    }
    await publish(sessions, "web-a", [user("hello", "greet", metadata=metadata)])
    await publish(sessions, "web-b", [user("hi again", "greet", metadata=metadata)])
    await drain(sessions)
    profile = await timeline(sessions, "c-42")
    assert profile["name"] == "Li Lei" and profile["email"] == "li@example.com"
    assert [c["sender_id"] for c in profile["conversations"]] == ["web-a", "web-b"]
    assert {"kind": "shop", "value": "c-42", "verified": True} in profile["identities"]
    assert await count(sessions, Customer) == 1


@pytest.mark.parametrize(
    "metadata",
    [
        {"customer_id": "c-42", "customer_hash": sign("c-42", "another secret")},
        {"customer_id": "c-42", "customer_hash": sign("c-43", SECRET)},
        {"customer_id": "c-42"},
        {"customer_id": "c-42", "customer_hash": 12345},
        {"customer_hash": sign("", SECRET), "customer_id": ""},
    ],
)
async def test_a_missing_or_bad_signature_leaves_the_visitor_anonymous(sessions, metadata):
    await publish(sessions, "web-x", [user("hello", "greet", metadata={**metadata, "name": "Eve"})])
    await drain(sessions)
    profile = await timeline(sessions, "web-x")
    assert profile["name"] is None
    assert profile["identities"] == [{"kind": "visitor", "value": "web-x", "verified": False}]
    async with sessions() as session:
        assert await session.scalar(select(Identity).where(Identity.kind == "shop")) is None


async def test_signing_in_mid_conversation_merges_the_anonymous_profile(sessions):
    await publish(sessions, "web-m", answered_turn("where is my parcel?"))
    await drain(sessions)
    signed = {"customer_id": "c-7", "customer_hash": sign("c-7", SECRET), "name": "Han Meimei"}
    await publish(sessions, "web-m", [user("still there?", metadata=signed)])
    await drain(sessions)
    profile = await timeline(sessions, "web-m")
    assert profile["name"] == "Han Meimei"
    assert [i["text"] for i in profile["interactions"]] == [
        "where is my parcel?",
        "answer to where is my parcel?",
        "still there?",
    ]
    kinds = {(i["kind"], i["value"]) for i in profile["identities"]}
    assert kinds == {("visitor", "web-m"), ("shop", "c-7")}
    assert await count(sessions, Customer) == 1


async def test_wechat_senders_are_known_by_their_openid(sessions):
    await publish(
        sessions, "oABC123", [user("退货怎么办", channel="wechat"), slot("language", "zh")]
    )
    await drain(sessions)
    profile = await timeline(sessions, "oABC123")
    assert profile["identities"] == [{"kind": "wechat", "value": "oABC123", "verified": False}]
    assert profile["language"] == "zh"
    assert profile["interactions"][0]["channel"] == "wechat"


async def test_unfollowing_the_wechat_account_is_noted_and_following_again_clears_it(sessions):
    await publish(sessions, "oFollow", [user("/subscribe", intent="subscribe", channel="wechat")])
    await drain(sessions)
    assert (await timeline(sessions, "oFollow"))["unsubscribed_at"] is None
    leaving = user("/unsubscribe", intent="unsubscribe", channel="wechat")
    await publish(sessions, "oFollow", [leaving])
    await drain(sessions)
    profile = await timeline(sessions, "oFollow")
    assert profile["unsubscribed_at"].startswith(
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(leaving["timestamp"]))
    )
    await publish(sessions, "oFollow", [user("/subscribe", intent="subscribe", channel="wechat")])
    await drain(sessions)
    assert (await timeline(sessions, "oFollow"))["unsubscribed_at"] is None


async def test_feedback_is_recorded_against_the_answer_it_rates(sessions):
    events = answered_turn("how do I get an invoice", faq_id="invoice", category="payment")
    events += [user("/feedback_helpful", "feedback_helpful"), slot("faq_feedback", "helpful")]
    await publish(sessions, "web-f", events)
    await drain(sessions)
    profile = await timeline(sessions, "web-f")
    assert profile["feedback"] == [
        {
            "faq_id": "invoice",
            "feedback": "helpful",
            "timestamp": profile["interactions"][2]["timestamp"],
        }
    ]


async def test_rows_that_are_not_events_are_skipped_not_stuck(sessions):
    async with sessions() as session, session.begin():
        session.add(BrokerEvent(sender_id="web-bad", data="{not json"))
        session.add(BrokerEvent(sender_id="web-bad", data="[1, 2]"))
    await publish(sessions, "web-bad", [user("hello", "greet")])
    await drain(sessions)
    assert await count(sessions, BrokerEvent) == 0
    assert [i["text"] for i in (await timeline(sessions, "web-bad"))["interactions"]] == ["hello"]


async def test_conversations_keep_their_order_across_batches(sessions):
    events = []
    for n in range(10):
        events += [user(f"q{n}"), bot(f"a{n}")]
    await publish(sessions, "web-o", events)
    await drain(sessions)  # batches of 7 rows
    texts = [i["text"] for i in (await timeline(sessions, "web-o"))["interactions"]]
    assert texts == [t for n in range(10) for t in (f"q{n}", f"a{n}")]
    async with sessions() as session:
        conversation = await session.scalar(select(Conversation))
        assert conversation.channel == "rest"


async def test_meeting_a_new_customer_in_several_places_at_once_makes_one(sessions):
    """The ingestion worker and the action server may both meet a new conversation first."""
    from datetime import UTC, datetime

    from bot.conversations import resolve_conversation

    async def meet() -> int:
        async with sessions() as session, session.begin():
            conversation = await resolve_conversation(
                session, "web-race", {}, "socketio", datetime.now(UTC), SECRET
            )
            return conversation.id

    ids = await asyncio.gather(*(meet() for _ in range(8)))
    assert len(set(ids)) == 1
    assert await count(sessions, Customer) == 1
    assert await count(sessions, Identity) == 1
