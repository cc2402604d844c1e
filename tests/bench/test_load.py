"""The load benchmark's own checks: what it counts as lost, doubled or out of order, the
questions its customers ask, how a handed-over conversation is told and left, and what its
report says."""

from __future__ import annotations

import argparse
import functools
import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from bench.load import check_stored, escalating_intents, parse_systems, question_pool
from bench.load_customers import REPO, CustomerRun, HandoffReplies, Reply, Turn, converse
from bench.load_report import BARE, CLUSTER, LevelResult, table
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


# --- handed-over conversations ---------------------------------------------------------------


class ScriptedCustomer:
    """A customer whose every turn gets the next reply of a shared script."""

    def __init__(self, script: list[Reply], said: list[tuple[str, str]], sender_id: str) -> None:
        self.script, self.said, self.sender_id = script, said, sender_id

    async def __aenter__(self) -> ScriptedCustomer:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def turn(self, text: str) -> Reply:
        self.said.append((self.sender_id, text))
        return self.script.pop(0)


@functools.cache
def responses() -> dict:
    return yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))["responses"]


def domain_text(response: str, language: str | None = None) -> str:
    for variant in responses()[response]:
        conditions = variant.get("condition") or []
        if [c["value"] for c in conditions] == ([language] if language else []):
            return variant["text"]
    raise AssertionError(f"no {response} for {language}")


HANDOFF = domain_text("utter_handoff_later").format(ticket=42, hours="09:00-18:00")
ANSWER = "You can create an account from the sign-in page."


async def talk(script: list[Reply], texts: list[str]) -> tuple[list[CustomerRun], list]:
    said: list[tuple[str, str]] = []
    senders = (f"fake-{n}" for n in itertools.count())
    runs = await converse(
        lambda: ScriptedCustomer(script, said, next(senders)),
        "rest",
        texts,
        time.monotonic() + 60,
        0,
        HandoffReplies(),
    )
    return runs, said


async def test_a_customer_handed_over_goes_on_in_a_new_conversation():
    script = [
        Reply(True, (ANSWER,)),
        Reply(True, (HANDOFF, "Shall I email you?")),
        Reply(True, (ANSWER,)),
    ]
    runs, said = await talk(script, ["one", "two", "three"])
    assert said == [("fake-0", "one"), ("fake-0", "two"), ("fake-1", "three")]
    assert [r.sender_id for r in runs] == ["fake-0", "fake-1"]
    assert [t.handoff for t in runs[0].turns] == [False, True]


async def test_a_quiet_turn_ends_the_conversation_and_is_not_timed():
    script = [Reply(True, (ANSWER,)), Reply(True, (), answered=False), Reply(True, (ANSWER,))]
    runs, said = await talk(script, ["one", "two", "three"])
    assert [sender for sender, _ in said] == ["fake-0", "fake-0", "fake-1"]
    quiet = runs[0].turns[1]
    assert quiet.quiet and not quiet.timed and not quiet.handoff


async def test_a_refused_message_keeps_the_conversation():
    script = [Reply(False, error="HTTP 503"), Reply(True, (ANSWER,))]
    runs, said = await talk(script, ["one", "two"])
    assert [sender for sender, _ in said] == ["fake-0", "fake-0"]
    assert not runs[0].turns[0].quiet


@pytest.mark.parametrize(
    ("response", "language"),
    [
        ("utter_handoff_soon", None),
        ("utter_handoff_closed", "zh"),
        ("utter_handoff_later", "zh-TW"),
        ("utter_handoff_ack_later", None),
    ],
)
def test_the_handoff_reply_is_told_in_every_language(response, language):
    text = domain_text(response, language).format(ticket=7, hours="00:00-24:00")
    assert HandoffReplies()([ANSWER, text])


def test_answers_and_a_failed_handoff_are_not_handoffs():
    unavailable = domain_text("utter_handoff_unavailable")
    assert not HandoffReplies()([ANSWER, "我们的退货政策是30天内可以退货。", unavailable])


def test_the_pool_leaves_out_what_the_rules_hand_over():
    assert escalating_intents() == {"request_human", "complain"}


# --- the report -------------------------------------------------------------------------------


def level(system: str, conversations: int, *turns: Turn, seconds: float = 10.0) -> LevelResult:
    return LevelResult(system, conversations, seconds, list(turns), None)


def answered(ms: float) -> Turn:
    return Turn("q", ms / 1000, True, True)


def test_quiet_turns_are_counted_apart_from_the_times_and_the_throughput():
    quiet = Turn("q", 0.01, True, False)
    handoff = Turn("q", 0.4, True, True, handoff=True)
    result = level("assistant", 1, answered(200), answered(300), handoff, quiet, quiet)
    assert result.throughput == pytest.approx(0.3)
    assert result.percentile_ms(0.5) == pytest.approx(300)
    assert result.percentile_ms(0.0) == pytest.approx(200)
    cells = [c.strip() for c in result.row().strip("|").split("|")]
    assert cells[:10] == ["assistant", "1", "5", "0.3", "300", "400", "400", "400", "1", "2"]


def test_the_report_compares_the_assistant_and_the_cluster_with_the_bare_rasa():
    results = [
        level(BARE, 10, answered(100), answered(200)),
        level(CLUSTER, 10, answered(300), answered(600)),
        level("assistant", 10, answered(200), answered(400), seconds=20.0),
    ]
    text = "\n".join(table(results))
    rows = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ")]
    assert rows[1:4] == ["assistant", "cluster", BARE]
    assert "| quiet turns |" in text
    assert "| ratio to the bare Rasa | assistant / bare | cluster / bare |" in text
    assert "| throughput ceiling (best level of each) | 0.50 | 1.00 |" in text
    assert "| 10 conversations: p50 / p99 | 2.00 / 2.00 | 3.00 / 3.00 |" in text


def test_systems_are_chosen_by_name_and_baseline_adds_the_bare_rasa():
    assert parse_systems("assistant", baseline=True) == ["assistant", BARE]
    assert parse_systems("assistant,cluster,bare", baseline=False) == ["assistant", CLUSTER, BARE]
    with pytest.raises(argparse.ArgumentTypeError):
        parse_systems("assistant,replica", baseline=False)
