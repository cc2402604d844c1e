"""The load benchmark's own checks: what it counts as lost, doubled or out of order, and the
questions its customers ask."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bench.load import CustomerRun, Turn, check_stored, question_pool
from bot.store.db import create_engine, session_factory
from bot.store.models import Conversation, Customer, Direction, Interaction
from tests.support.databases import copy_sqlite


@pytest.fixture()
def database_url(migrated_sqlite, tmp_path) -> str:
    return copy_sqlite(migrated_sqlite, tmp_path / "app.db")


async def store(database_url: str, sender_id: str, texts: list[str]) -> None:
    engine = create_engine(database_url)
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    try:
        async with session_factory(engine)() as session, session.begin():
            customer = Customer(first_seen=start, last_seen=start)
            conversation = Conversation(
                sender_id=sender_id, customer=customer, started_at=start, last_message_at=start
            )
            session.add(conversation)
            await session.flush()
            for n, text in enumerate(texts):
                session.add(
                    Interaction(
                        event_key=f"{sender_id}-{n}",
                        customer_id=customer.id,
                        conversation_id=conversation.id,
                        direction=Direction.CUSTOMER.value,
                        text=text,
                        timestamp=start + timedelta(seconds=n),
                    )
                )
    finally:
        await engine.dispose()


def run_of(sender_id: str, *turns: tuple[str, bool]) -> CustomerRun:
    return CustomerRun(
        "rest",
        sender_id,
        [Turn(text, 0.1, accepted, accepted) for text, accepted in turns],
    )


async def test_every_accepted_message_stored_once_in_order_is_clean(database_url):
    await store(database_url, "a", ["one", "two", "three"])
    ledger = await check_stored(
        database_url, [run_of("a", ("one", True), ("two", True), ("three", True))]
    )
    assert (ledger.lost, ledger.doubled, ledger.out_of_order) == (0, 0, 0)


async def test_lost_doubled_and_reordered_messages_are_counted(database_url, monkeypatch):
    monkeypatch.setattr("bench.load.INGESTION_WAIT", 0.0)
    await store(database_url, "b", ["two", "one", "two"])
    ledger = await check_stored(
        database_url, [run_of("b", ("one", True), ("two", True), ("three", True))]
    )
    assert (ledger.lost, ledger.doubled, ledger.out_of_order) == (1, 1, 1)


async def test_a_refused_message_that_is_not_stored_is_not_lost(database_url, monkeypatch):
    monkeypatch.setattr("bench.load.INGESTION_WAIT", 0.0)
    await store(database_url, "c", ["one"])
    ledger = await check_stored(database_url, [run_of("c", ("one", True), ("two", False))])
    assert ledger.lost == 0


def test_the_questions_are_the_faqs_own_and_never_ask_for_a_person():
    pool = question_pool()
    assert len(pool) == len(set(pool)) > 100
    assert "How do I create an account?" in pool and "怎么注册账号？" in pool
    assert not any("human" in text.lower() or "人工" in text for text in pool)
