"""Export, deletion, retention and redaction of customers' data, on both databases."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from bot.domain.auth import create_agent
from bot.domain.customers import find_customer
from bot.domain.identity import sign
from bot.domain.privacy import delete_customer, export_customer, purge
from bot.domain.redaction import redact
from bot.domain.tickets import Actor, add_note, open_ticket, reply
from bot.store.db import create_engine, session_factory
from tests.bot.workers.test_ingestion import SECRET, answered_turn, drain, publish, signed, user
from tests.conftest import tables_containing
from vocabulary import EscalationReason

RASA_TRACKER_TABLE = """
CREATE TABLE events (
    id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT
)
"""


@pytest.fixture()
async def tracker(tmp_path):
    """A tracker store database shaped like Rasa's SQLTrackerStore."""
    engine = create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    async with engine.begin() as connection:
        await connection.execute(text(RASA_TRACKER_TABLE))
    yield engine
    await engine.dispose()


async def track(tracker, sender: str, said: str, when: datetime) -> None:
    async with tracker.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO events (sender_id, type_name, timestamp, data) "
                "VALUES (:s, 'user', :t, :d)"
            ),
            {"s": sender, "t": when.timestamp(), "d": json.dumps({"text": said})},
        )


async def set_aside(sessions, sender: str | None, data: str, days_ago: int = 0) -> None:
    """A dead letter, as the ingestion worker writes one for an event it cannot store."""
    from bot.store.models import DeadLetter

    async with sessions() as session, session.begin():
        when = datetime.now(UTC) - timedelta(days=days_ago)
        session.add(
            DeadLetter(source="sql", sender_id=sender, data=data, reason="x", created_at=when)
        )


async def test_export_holds_the_profile_and_every_interaction(sessions):
    await publish(sessions, "web-e", answered_turn("where is my parcel?"))
    await drain(sessions)
    await set_aside(sessions, "web-e", '{"text": "set aside"}')
    await set_aside(sessions, "web-other", '{"text": "not theirs"}')
    async with sessions() as session:
        document = await export_customer(session, await find_customer(session, "web-e"))
    exported = document["customer"]
    assert [i["text"] for i in exported["interactions"]] == [
        "where is my parcel?",
        "answer to where is my parcel?",
    ]
    assert exported["identities"][0]["value"] == "web-e"
    assert [d["data"] for d in document["dead_letters"]] == ['{"text": "set aside"}']
    json.dumps(document)  # JSON-ready all the way down


async def test_export_holds_the_customers_email_consent_and_mails(sessions):
    from bot.domain.mail.consent import record_consent, withdraw_consent
    from bot.store.models import Conversation, MailOutboxMessage, ReceivedMail

    await publish(sessions, "web-m", [user("my parcel is late")])
    await publish(sessions, "web-n", [user("someone else's")])
    await drain(sessions)
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        mine, theirs = [await find_customer(session, sender) for sender in ("web-m", "web-n")]
        await record_consent(session, mine.id, "old@example.com", "chat", now)
        await withdraw_consent(session, mine.id, now)
        await record_consent(session, mine.id, "Ann@Example.com", "widget", now)
        await record_consent(session, theirs.id, "bo@example.com", "chat", now)
        for number, customer in enumerate((mine, theirs)):
            chat = await session.scalar(
                select(Conversation).where(Conversation.customer_id == customer.id)
            )
            session.add(
                MailOutboxMessage(
                    conversation_id=chat.id,
                    recipient=f"to-{number}@example.com",
                    subject=f"Your question {number}",
                    text_body=f"reply {number}",
                    html_body="<p>reply</p>",
                    language="en",
                    message_id=f"m{number}@shop.example.com",
                    created_at=now,
                    next_attempt_at=now,
                    sent_at=now,
                )
            )
            session.add(
                ReceivedMail(
                    key=f"k{number}",
                    conversation_id=chat.id,
                    sender=f"from-{number}@example.com",
                    size=100,
                    attachments=[{"name": "photo.jpg", "type": "image/jpeg", "size": 9}],
                    received_at=now,
                )
            )

    async with sessions() as session:
        exported = (await export_customer(session, await find_customer(session, "web-m")))[
            "customer"
        ]

    assert exported["email_consent"]["address"] == "Ann@example.com"
    assert exported["email_consent"]["source"] == "widget"
    assert exported["email_consent"]["withdrawn_at"] is None
    assert [(m["to"], m["text"]) for m in exported["mails"]["sent"]] == [
        ("to-0@example.com", "reply 0")
    ]
    assert [m["from"] for m in exported["mails"]["received"]] == ["from-0@example.com"]
    json.dumps(exported)


async def test_deleting_a_customer_leaves_their_text_nowhere(sessions, database_url, tracker):
    marker = "MARKER-7f3a my phone is broken"
    await publish(sessions, "web-d1", [user(marker)])
    await publish(sessions, "web-d2", [user("second chat " + marker)])
    await publish(sessions, "web-keep", [user("someone else's question")])
    await drain(sessions)
    signed = {
        "customer_id": "c-9",
        "customer_hash": sign("c-9", SECRET),
    }
    await publish(sessions, "web-d1", [user("signing in", metadata=signed)])
    await publish(sessions, "web-d2", [user("signing in", metadata=signed)])
    await drain(sessions)
    await publish(sessions, "web-d1", [user("not ingested yet " + marker)])  # still in the inbox
    await set_aside(sessions, "web-d2", json.dumps({"text": "set aside " + marker}))
    now = datetime.now(UTC)
    for sender in ("web-d1", "web-d2", "web-keep"):
        await track(tracker, sender, f"{sender} {marker if sender != 'web-keep' else 'other'}", now)

    async with sessions() as session, session.begin():  # a ticket, a note and a reply too
        agent = await create_agent(session, "ann", "Ann", "a long passphrase", "admin")
        ticket, _ = await open_ticket(
            session, "web-d1", EscalationReason.REQUESTED, marker, [], "rest", {}, SECRET
        )
        actor = Actor(agent.id, "Ann", "admin")
        await add_note(session, ticket.id, f"note about {marker}", actor)
        await reply(session, ticket.id, f"reply about {marker}", actor)
    async with sessions() as session, session.begin():
        customer = await find_customer(session, "c-9")
        senders = await delete_customer(session, customer, tracker)
    assert sorted(senders) == ["web-d1", "web-d2"]

    engine = create_engine(database_url)
    try:
        assert await tables_containing(engine, "MARKER-7f3a") == []
        assert await tables_containing(engine, "someone else's question") == ["interactions"]
    finally:
        await engine.dispose()
    assert await tables_containing(tracker, "MARKER-7f3a") == []
    assert await tables_containing(tracker, "web-keep other") == ["events"]
    async with sessions() as session:
        assert await find_customer(session, "c-9") is None
        assert await find_customer(session, "web-d1") is None
        assert await find_customer(session, "web-keep") is not None


async def test_purge_removes_what_is_older_than_the_retention_period(
    sessions, tracker, database_url
):
    await publish(sessions, "web-old", [user("old question")])
    await publish(sessions, "web-new", [user("new question")])
    await drain(sessions)
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                "UPDATE conversations SET last_message_at = :t, started_at = :t "
                "WHERE sender_id = 'web-old'"
            ),
            {"t": datetime.now(UTC) - timedelta(days=40)},
        )
        await session.execute(
            text("UPDATE interactions SET timestamp = :t WHERE text = 'old question'"),
            {"t": datetime.now(UTC) - timedelta(days=40)},
        )
        await session.execute(
            text(
                "UPDATE customers SET last_seen = :t WHERE id IN (SELECT customer_id FROM conversations WHERE sender_id = 'web-old')"
            ),
            {"t": datetime.now(UTC) - timedelta(days=40)},
        )
    await track(tracker, "web-old", "old question", datetime.now(UTC) - timedelta(days=40))
    await track(tracker, "web-new", "new question", datetime.now(UTC))
    await set_aside(sessions, "web-old", "old question, set aside", days_ago=40)
    await set_aside(sessions, "web-new", "new question, set aside")

    async with sessions() as session, session.begin():
        removed = await purge(session, tracker, days=30)
    assert removed == {"conversations": 1, "interactions": 1, "customers": 1, "dead_letters": 1}
    engine = create_engine(database_url)
    try:
        assert await tables_containing(engine, "old question") == []
        assert await tables_containing(engine, "new question, set aside") == ["dead_letters"]
    finally:
        await engine.dispose()
    async with sessions() as session:
        assert await find_customer(session, "web-old") is None
        assert await find_customer(session, "web-new") is not None
    assert await tables_containing(tracker, "old question") == []
    assert await tables_containing(tracker, "new question") == ["events"]


@pytest.mark.parametrize(
    ("said", "stored"),
    [
        ("mail me at li.lei@example.com", "mail me at [email]"),
        ("手机13912345678，身份证11010519491231002X", "手机[phone]，身份证[id-card]"),
        ("call +86 138 0013 8000 or (415) 555-2671", "call [phone] or [phone]"),
        ("landline 010-12345678", "landline [phone]"),
        ("order 2024112400012345 has not arrived", "order 2024112400012345 has not arrived"),
        ("my order 12345678", "my order 12345678"),
    ],
)
def test_redaction_masks_contacts_and_id_numbers_but_not_order_numbers(said, stored):
    assert redact(said) == stored


async def test_with_redaction_on_stored_text_is_masked(sessions):
    from bot.workers.ingestion import Ingestor

    await publish(sessions, "web-r", [user("reach me on 13912345678 or li@example.com")])
    await drain(sessions, Ingestor(SECRET, redact_pii=True))
    async with sessions() as session:
        customer = await find_customer(session, "web-r")
        document = await export_customer(session, customer)
    assert document["customer"]["interactions"][0]["text"] == "reach me on [phone] or [email]"


# --- which customer a key names: a conversation named like a shop id is never taken for it -----

VICTIM, DECOY = "VICTIM-7c1e", "DECOY-2b9d"


def on_database(database_url: str, work) -> object:
    """Run ``work(sessions)`` on the database, from a test that is not async (like the CLI)."""

    async def run():
        engine = create_engine(database_url)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def victim_and_decoy(database_url: str) -> None:
    """The shop customer c-42 chats signed in; someone else opens a conversation named "c-42"."""

    async def work(sessions):
        await publish(
            sessions, "web-victim", [user(f"{VICTIM} my address", metadata=signed("c-42"))]
        )
        await publish(sessions, "c-42", [user(f"{DECOY} hello")])
        await publish(sessions, "oWeChat1", [user("你好", channel="wechat")])
        await drain(sessions)

    on_database(database_url, work)


def stored_texts(database_url: str) -> tuple[list[str], list[str]]:
    """The tables holding the victim's text and the decoy's."""

    async def run():
        engine = create_engine(database_url)
        try:
            return await tables_containing(engine, VICTIM), await tables_containing(engine, DECOY)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@pytest.fixture()
def cli(database_url, monkeypatch, capsys):
    """``python -m bot ARGS`` on the test database: (exit status, stdout, stderr)."""
    from bot.__main__ import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("IDENTITY_SECRET", SECRET)

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


@pytest.mark.parametrize(
    "command", [("customers", "delete"), ("customers", "export"), ("profile",)]
)
def test_a_key_naming_different_customers_is_refused_and_changes_nothing(
    database_url, cli, command
):
    victim_and_decoy(database_url)
    status, out, err = cli(*command, "c-42")
    assert status == 2 and out == ""
    assert "conversation 'c-42'" in err and "shop 'c-42'" in err and "--by" in err
    assert stored_texts(database_url) == (["interactions"], ["interactions"])


def test_by_shop_deletes_the_shop_customer_and_keeps_the_decoy(database_url, cli):
    victim_and_decoy(database_url)
    status, _, err = cli("customers", "delete", "c-42", "--by", "shop")
    assert status == 0, err
    assert stored_texts(database_url) == ([], ["interactions"])


def test_by_conversation_exports_only_the_conversation_owner(database_url, cli):
    victim_and_decoy(database_url)
    status, out, err = cli("customers", "export", "c-42", "--by", "conversation")
    assert status == 0, err
    assert DECOY in out and VICTIM not in out
    status, out, err = cli("profile", "c-42", "--by", "shop", "--json")
    assert status == 0, err
    assert VICTIM in out and DECOY not in out


def test_a_key_naming_one_customer_needs_no_by(database_url, cli):
    victim_and_decoy(database_url)
    status, out, _ = cli("customers", "export", "web-victim")
    assert status == 0 and VICTIM in out and DECOY not in out
    status, out, _ = cli("customers", "export", "oWeChat1", "--by", "wechat")
    assert status == 0 and "你好" in out
    status, _, err = cli("customers", "export", "c-42", "--by", "wechat")
    assert status == 1 and "no wechat 'c-42'" in err
    status, _, err = cli("customers", "delete", "c-43")
    assert status == 1 and "no customer or conversation 'c-43'" in err
