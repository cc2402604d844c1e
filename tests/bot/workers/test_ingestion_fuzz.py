"""Whatever the broker delivers, ingestion goes on: a property-based fuzz of ``drain_once``.

Arbitrary Unicode (lone surrogates, control characters), bytes that are not UTF-8, JSON of any
type and size as broker rows and as event fields go through :meth:`~bot.workers.sql_broker.IngestionWorker.drain_once`:
no exception escapes, every row is consumed, every message is stored once (a second delivery
stores nothing) or set aside as a dead letter, and a good event after a poison one in the same
batch is stored.
"""

from __future__ import annotations

import asyncio
import json
import time

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text

from bot.domain.identity import sign
from bot.store.db import create_engine, session_factory
from bot.store.models import BrokerEvent, Conversation, Customer, DeadLetter, Identity, Interaction
from bot.workers.ingestion import Ingestor, event_key
from bot.workers.sanitise import SURROGATES, clean_text, decode_payload, parse_event
from bot.workers.sql_broker import IngestionWorker
from tests.bot.workers.test_ingestion import SECRET

EXAMPLES = {"sqlite": 100, "postgresql": 80}
ODD = ["\udc80", "\ud800", "\udfff", "\ud83d", "\x00", "\x1b", "\x7f", "\x85", "\ufffd", "\u2028"]

odd_text = st.lists(
    st.one_of(st.characters(exclude_categories=[]), st.sampled_from(ODD)), max_size=12
).map("".join)
texts = st.one_of(
    odd_text,
    st.text(max_size=20),
    st.binary(max_size=12).map(lambda raw: raw.decode("utf-8", "surrogateescape")),
    st.binary(max_size=12).map(lambda raw: raw.decode("utf-8", "replace")),
    st.sampled_from(["", " ", "c-42", "x" * 300, "١٢", "²"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
anything = st.one_of(texts, json_values)
metadata = st.one_of(
    json_values,
    st.builds(
        lambda customer, name, junk: {
            "customer_id": customer,
            "customer_hash": sign(clean_text(customer), SECRET),  # valid once cleaned
            "name": name,
            **junk,
        },
        texts,
        texts,
        st.dictionaries(
            st.sampled_from(["email", "phone", "agent_name", "customer_hash"]), anything
        ),
    ),
)
events = st.fixed_dictionaries(
    {"event": st.one_of(st.sampled_from(["user", "bot", "slot", "action"]), texts)},
    optional={
        "sender_id": anything,
        "text": anything,
        "timestamp": st.one_of(st.floats(), st.integers(), anything),
        "metadata": metadata,
        "input_channel": anything,
        "parse_data": st.one_of(
            anything,
            st.fixed_dictionaries(
                {"intent": st.fixed_dictionaries({"name": anything, "confidence": anything})}
            ),
        ),
        "name": st.one_of(
            st.sampled_from(["faq_id", "faq_score", "faq_decision", "faq_feedback", "language"]),
            st.just("handoff_ticket"),
            anything,
        ),
        "value": anything,
    },
)
# Messages as Rasa writes them, but with anything in their fields: most should be stored.
messages = st.fixed_dictionaries(
    {
        "event": st.sampled_from(["user", "bot"]),
        "sender_id": st.one_of(texts.filter(str.strip), st.sampled_from(["web-1", "oWeChat"])),
        "text": texts,
        "timestamp": st.one_of(st.integers(0, 2_000_000_000), st.floats()),
    },
    optional={
        "metadata": metadata,
        "input_channel": st.one_of(st.sampled_from(["socketio", "wechat", "rest"]), anything),
        "parse_data": st.fixed_dictionaries(
            {"intent": st.fixed_dictionaries({"name": texts, "confidence": anything})}
        ),
    },
)
# What a broker row's sender id column holds: text the database takes as it is.
row_senders = st.one_of(st.none(), st.text(max_size=30), st.just("c-42"))
rows = st.one_of(
    st.tuples(st.just("event"), st.none(), messages, st.booleans()),
    st.tuples(st.just("event"), row_senders, events, st.booleans()),
    st.tuples(st.just("bytes"), row_senders, st.binary(max_size=40), st.booleans()),
    st.tuples(st.just("json"), row_senders, json_values, st.booleans()),
    st.tuples(st.just("text"), row_senders, texts, st.booleans()),
)


def _payload(kind: str, value, raw: bool, sqlite: bool) -> bytes | str:
    """The row's data: on SQLite ``raw`` rows go in as bytes, as any writer can put them."""
    if kind == "bytes":
        data = value if sqlite else value.decode("utf-8", "replace")
    elif kind == "text":
        data = value.encode("utf-8", "surrogatepass") if sqlite and raw else value
    else:
        dumped = json.dumps(value, ensure_ascii=not raw)
        data = dumped.encode("utf-8", "surrogatepass") if sqlite and raw else dumped
    if isinstance(data, str):  # no driver binds lone surrogates; PostgreSQL refuses NUL
        data = SURROGATES.sub("\ufffd", data)
        data = data if sqlite else data.replace("\x00", "")
    return data


def _storable_sender(sender: str | None) -> str | None:
    return None if sender is None else sender.replace("\x00", "")


async def _insert(sessions, published: list[tuple[str | None, bytes | str]]) -> None:
    """What Rasa's SQL broker (or any writer) does; bytes go in unchecked, as SQLite allows."""
    async with sessions() as session, session.begin():
        for sender, data in published:
            await session.execute(
                text("INSERT INTO events (sender_id, data) VALUES (:s, CAST(:d AS TEXT))")
                if isinstance(data, bytes)
                else text("INSERT INTO events (sender_id, data) VALUES (:s, :d)"),
                {"s": sender, "d": data},
            )


async def _reset(sessions) -> None:
    async with sessions() as session, session.begin():
        for model in (Interaction, Conversation, Identity, Customer, DeadLetter, BrokerEvent):
            await session.execute(delete(model))


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


def _expected_key(sender: str | None, data: bytes | str) -> str | None:
    """The digest of a message row, as delivered; None for rows that hold no message."""
    try:
        event = parse_event(data)
    except ValueError:
        return None
    if event.get("event") not in ("user", "bot"):
        return None
    return event_key(sender or event.get("sender_id"), event)


async def _publish(sessions, batch, sqlite: bool) -> list[tuple[str | None, bytes | str]]:
    published = []
    for kind, sender, value, raw in batch:
        row = (_storable_sender(sender), _payload(kind, value, raw, sqlite))
        published.append(row)
    published.append(("fuzz-poison", "{not json"))
    good = json.dumps({"event": "user", "text": "good", "timestamp": time.time()})
    published.append(("fuzz-good", good))
    await _insert(sessions, published)
    return published


async def _drain(worker: IngestionWorker) -> None:
    while await worker.drain_once():  # no exception may escape
        pass


async def _check(sessions, batch, sqlite: bool) -> None:
    await _reset(sessions)
    published = await _publish(sessions, batch, sqlite)
    worker = IngestionWorker(sessions, Ingestor(SECRET), batch=1000)
    await _drain(worker)
    assert await _count(sessions, BrokerEvent) == 0  # every row consumed
    async with sessions() as session:
        keys = set((await session.scalars(select(Interaction.event_key))).all())
        letters = set((await session.scalars(select(DeadLetter.data))).all())
        good = await session.scalar(select(func.count()).where(Interaction.text == "good"))
    assert good == 1  # after the poison, in the same batch
    for sender, data in published:
        key = _expected_key(sender, data)
        if key is not None:  # a message: stored, or set aside
            assert key in keys or clean_text(decode_payload(data)) in letters, (sender, data)
    stored = await _count(sessions, Interaction)
    assert stored == len(keys)
    event(f"messages stored besides the good one: {min(stored - 1, 3)}")  # to see the spread
    event(f"dead letters besides the known poison: {min(len(letters) - 1, 3)}")
    event(f"rows as bytes: {any(isinstance(data, bytes) for _, data in published)}")
    await _insert(sessions, published)  # the broker delivers everything again
    await _drain(IngestionWorker(sessions, Ingestor(SECRET), batch=1000))
    assert await _count(sessions, BrokerEvent) == 0
    assert await _count(sessions, Interaction) == stored  # stored exactly once


def test_whatever_the_broker_delivers_ingestion_goes_on(database_url):
    sqlite = database_url.startswith("sqlite")
    with asyncio.Runner() as runner:
        engine = create_engine(database_url)
        sessions = session_factory(engine)

        @settings(
            max_examples=EXAMPLES["sqlite" if sqlite else "postgresql"],
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(batch=st.lists(rows, max_size=8))
        def check(batch):
            runner.run(_check(sessions, batch, sqlite))

        try:
            check()
        finally:
            runner.run(engine.dispose())
