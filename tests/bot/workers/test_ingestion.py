"""The ingestion worker turns Rasa's broker rows into interactions, once each, on both databases."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from bot.domain.customers import find_customer
from bot.domain.identity import sign
from bot.domain.profiles import profile_document
from bot.store.models import BrokerEvent, Conversation, Customer, Identity, Interaction
from bot.workers.ingestion import Ingestor
from bot.workers.sql_broker import IngestionWorker

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
        {"event": "action", "timestamp": next(_clock), "name": "action_begin_turn"},
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
    # including what was written in savepoints (SQLite's driver would commit a first savepoint)
    for model in (Customer, Conversation, Identity):
        assert await count(sessions, model) == 0, model
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

    from bot.domain.customers import resolve_conversation

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


# --- poison events: bad text is cleaned, what still fails is set aside, the rest goes on --------


async def publish_raw(sessions, sender_id, data):
    """One broker row exactly as given; bytes go in unchecked, as SQLite lets any writer do."""
    async with sessions() as session, session.begin():
        if isinstance(data, bytes):
            await session.execute(
                text("INSERT INTO events (sender_id, data) VALUES (:s, CAST(:d AS TEXT))"),
                {"s": sender_id, "d": data},
            )
        else:
            session.add(BrokerEvent(sender_id=sender_id, data=data))


async def dead_letters(sessions):
    from bot.store.models import DeadLetter

    async with sessions() as session:
        return (await session.scalars(select(DeadLetter).order_by(DeadLetter.id))).all()


class PoisonedIngestor(Ingestor):
    """Fails on the message "poison", as an event that no code could store would."""

    def __init__(self, error: type[Exception] = ValueError) -> None:
        super().__init__(SECRET)
        self.error = error

    async def store(self, session, sender_id, event):
        if event.get("text") == "poison":
            raise self.error("cannot store this event")
        return await super().store(session, sender_id, event)


def signed(customer_id, **contact):
    return {"customer_id": customer_id, "customer_hash": sign(customer_id, SECRET), **contact}


@pytest.mark.parametrize(
    ("event", "sender", "field", "stored"),
    [
        (user("broken \udc80 text"), "web-s1", "text", "broken \ufffd text"),
        (
            user("hi", metadata=signed("c-s1", name="Li \ud800Lei")),
            "web-s1",
            "name",
            "Li \ufffdLei",
        ),
        (user("from a broken sender id"), "web-\udc80", "text", "from a broken sender id"),
    ],
)
async def test_a_lone_surrogate_neither_stalls_ingestion_nor_is_lost(
    sessions, event, sender, field, stored
):
    # json.dumps escapes it as "\udc80": valid JSON, but no UTF-8 encoder takes the string
    await publish_raw(sessions, None, json.dumps({"sender_id": sender, **event}))
    await publish(sessions, "web-s2", [user("someone else, after it")])
    await drain(sessions)
    assert await count(sessions, BrokerEvent) == 0
    profile = await timeline(sessions, sender.replace("\udc80", "\ufffd"))
    value = profile["name"] if field == "name" else profile["interactions"][0]["text"]
    assert value == stored
    texts = [i["text"] for i in (await timeline(sessions, "web-s2"))["interactions"]]
    assert texts == ["someone else, after it"]


async def test_raw_bytes_that_are_not_utf8_in_a_broker_row_are_replaced(sessions, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL refuses text that is not UTF-8 when it is written")
    row = json.dumps({"sender_id": "web-b1", **user("bad XXX bytes")}).encode()
    await publish_raw(sessions, "web-b1", row.replace(b"XXX", b"\xed\xa0\x80"))
    await publish_raw(sessions, "web-b2", b"\xff\xfe not even JSON")
    await publish(sessions, "web-b3", [user("after the bad bytes")])
    await drain(sessions)
    assert await count(sessions, BrokerEvent) == 0
    texts = [i["text"] for i in (await timeline(sessions, "web-b1"))["interactions"]]
    assert texts == ["bad \ufffd\ufffd\ufffd bytes"]  # each undecodable byte
    assert [i["text"] for i in (await timeline(sessions, "web-b3"))["interactions"]] == [
        "after the bad bytes"
    ]
    (letter,) = await dead_letters(sessions)
    assert letter.data == "\ufffd\ufffd not even JSON" and letter.sender_id == "web-b2"


async def test_control_characters_are_removed_from_what_is_stored(sessions):
    said = "a\x00b\x07c\x1b[0md\ne\tf\r\x7fg\x85h"
    await publish(sessions, "web-cc", [user(said, metadata=signed("c-cc", name="Li\x00 Lei\x1b"))])
    await drain(sessions)
    profile = await timeline(sessions, "web-cc")
    assert profile["interactions"][0]["text"] == "abc[0md\ne\tf\rgh"
    assert profile["name"] == "Li Lei"


async def test_an_event_that_cannot_be_stored_is_set_aside_and_the_batch_goes_on(sessions):
    await publish(sessions, "web-p1", [user("before the poison")])
    await publish(sessions, "web-p2", [user("poison")])
    too_long = {"sender_id": "x" * 300, **user("a sender id longer than any conversation's")}
    await publish_raw(sessions, None, json.dumps(too_long))
    await publish_raw(sessions, None, json.dumps(user("a message from nobody")))
    await publish_raw(sessions, "web-p3", "{not json")
    await publish(sessions, "web-p1", [user("after the poison")])
    worker = IngestionWorker(sessions, PoisonedIngestor(), batch=100)
    assert await worker.drain_once() == 6  # one batch, one transaction, every row consumed
    assert await count(sessions, BrokerEvent) == 0
    texts = [i["text"] for i in (await timeline(sessions, "web-p1"))["interactions"]]
    assert texts == ["before the poison", "after the poison"]
    letters = await dead_letters(sessions)
    assert [(d.source, d.sender_id) for d in letters] == [
        ("sql", "web-p2"),
        ("sql", "x" * 255),
        ("sql", None),
        ("sql", "web-p3"),
    ]
    assert letters[0].reason == "ValueError: cannot store this event"
    assert json.loads(letters[0].data)["text"] == "poison"  # the payload, to replay by hand
    assert letters[3].data == "{not json" and letters[3].reason.startswith("JSONDecodeError")
    assert all(d.created_at is not None for d in letters)
    assert await worker.drain_once() == 0  # nothing is retried
    assert await count(sessions, Interaction) == 2


async def test_an_event_that_keeps_crashing_the_worker_is_set_aside_after_a_few_attempts(
    sessions,
):
    from bot.workers.deadletters import MAX_ATTEMPTS

    await publish(sessions, "web-k1", [user("poison")])
    await publish(sessions, "web-k2", [user("fine")])
    worker = IngestionWorker(sessions, PoisonedIngestor(RuntimeError), batch=100)
    for _ in range(MAX_ATTEMPTS - 1):  # perhaps the worker was killed: the batch is retried
        with pytest.raises(RuntimeError):
            await worker.drain_once()
        assert await count(sessions, BrokerEvent) == 2
    assert await worker.drain_once() == 2  # but not forever
    assert [d.reason for d in await dead_letters(sessions)] == [
        "RuntimeError: cannot store this event"
    ]
    assert [i["text"] for i in (await timeline(sessions, "web-k2"))["interactions"]] == ["fine"]


async def test_a_dead_letter_holds_only_what_can_be_stored(sessions):
    sender = "web-\udc80" + "y" * 400
    await publish_raw(sessions, None, json.dumps({"sender_id": sender, **user("poison\u0000")}))
    await drain(sessions, PoisonedIngestor())
    (letter,) = await dead_letters(sessions)
    assert letter.sender_id == "web-\ufffd" + "y" * 250  # cleaned, cut to the column
    assert letter.reason.startswith("InvalidEvent: ") and len(letter.reason) <= 500
    assert json.loads(letter.data)["sender_id"] == sender  # JSON escapes are kept as they came


async def test_a_handed_over_ticket_is_announced_with_the_agent_it_went_to(sessions):
    from bot.domain.auth import create_agent
    from bot.store.models import Ticket

    await publish(sessions, "web-assigned", [user("hello")])
    await drain(sessions)
    async with sessions() as session, session.begin():
        agent = await create_agent(session, "ann", "Ann", "a long passphrase", "agent")
        chat = await session.scalar(
            select(Conversation).where(Conversation.sender_id == "web-assigned")
        )
        now = datetime.now(UTC)
        assigned, waiting = (
            Ticket(
                customer_id=chat.customer_id,
                conversation_id=chat.id,
                reason="requested",
                created_at=now,
                status=status,
                assigned_agent_id=agent_id,
            )
            for status, agent_id in (("assigned", agent.id), ("open", None))
        )
        session.add_all([assigned, waiting])
        await session.flush()
        ids = assigned.id, waiting.id, agent.id
    await publish(
        sessions,
        "web-assigned",
        [slot("handoff_ticket", ids[0]), slot("handoff_ticket", ids[1])],
    )
    announced = []
    worker = IngestionWorker(sessions, Ingestor(SECRET), notify=announced.append)

    await worker.drain_once()

    assert announced[0].handoffs == {ids[0]: ids[2], ids[1]: None}


async def test_a_message_a_channel_undid_and_sent_again_is_in_the_timeline_once(sessions):
    """The action server failed during the first turn: the channel rewound it (naming the
    message) and ran the message again. Rasa's own rewind (the core fallback) names none: that
    customer's message stays."""
    first = user("where is my parcel?")
    undone = {"undone_message_id": first["message_id"], "undone_at": first["timestamp"]}
    events = [
        user("hello"),
        bot("Hi!"),
        first,
        {"event": "action", "timestamp": next(_clock), "name": "action_begin_turn"},
        {"event": "rewind", "timestamp": next(_clock), "metadata": undone},
        *answered_turn("where is my parcel?"),
        user("hmm"),
        {"event": "rewind", "timestamp": next(_clock)},  # Rasa's core fallback
    ]
    await publish(sessions, "web-undo", events)
    await drain(sessions)
    texts = [i["text"] for i in (await timeline(sessions, "web-undo"))["interactions"]]
    assert texts == ["hello", "Hi!", "where is my parcel?", "answer to where is my parcel?", "hmm"]
