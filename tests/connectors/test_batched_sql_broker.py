"""Rasa's SQL broker, batched: what a channel waited for before answering is in the ``events``
table, in order, even when the database was locked meanwhile and the server died right after.

The broker runs inside Rasa (Python 3.10), which the test venv does not have, so the scenario
runs under Rasa's python (``.venv-rasa/bin/python tests/connectors/test_batched_sql_broker.py DB``): it
publishes turns of two conversations as Rasa does (a save's events one after another, then the
event loop's turn), while another connection holds the database's write lock for a while; it
waits as a channel does before answering (:func:`connectors.durable_broker.events_settled`) and
dies at once (``os._exit``, like ``kill -9``). The test then reads the table.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from pathlib import Path
from types import SimpleNamespace

from tests.support.rasa_python import run_under_rasa

TURNS = 20
EVENTS_PER_SAVE = 7
LOCKED_SECONDS = 1.0


def _turn_events(sender: str, turn: int) -> list[dict]:
    return [
        {"event": "slot", "sender_id": sender, "name": "n", "value": f"{turn}.{n}"}
        for n in range(EVENTS_PER_SAVE)
    ]


# --- the scenario (Rasa's python) ---------------------------------------------------------------


async def _publish_settle_and_die(db: str) -> None:
    from rasa.core.tracker_store import (
        AwaitableTrackerStore,
        FailSafeTrackerStore,
        InMemoryTrackerStore,
    )
    from rasa.shared.core.domain import Domain

    from connectors.durable_broker import events_settled
    from connectors.sql_broker import BatchedSqlEventBroker

    broker = BatchedSqlEventBroker(dialect="sqlite", db=db)
    broker.publish({"event": "session_started", "sender_id": "a"})  # before the loop's turn
    locker = sqlite3.connect(db, isolation_level=None)
    loop_turns = 0

    async def count_loop_turns() -> None:
        nonlocal loop_turns
        while True:
            await asyncio.sleep(0.01)
            loop_turns += 1

    counting = asyncio.create_task(count_loop_turns())
    for turn in range(TURNS):
        if turn == TURNS // 2:
            locker.execute("BEGIN IMMEDIATE")  # another writer holds the lock for a while
            asyncio.get_running_loop().call_later(LOCKED_SECONDS, locker.execute, "COMMIT")
        for sender in ("a", "b"):
            for event in _turn_events(sender, turn):  # a save publishes without yielding
                broker.publish(event)
            await asyncio.sleep(0)
    store = AwaitableTrackerStore(
        FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty(), broker))
    )
    await events_settled(SimpleNamespace(tracker_store=store), "b", timeout=30)
    counting.cancel()
    print(json.dumps({"loop_turns": loop_turns}), flush=True)
    os._exit(0)  # no close, no flush of anything in flight: a kill -9 right after answering


def _publish_outside_a_loop(db: str) -> None:
    from connectors.sql_broker import BatchedSqlEventBroker

    BatchedSqlEventBroker(dialect="sqlite", db=db).publish({"event": "user", "sender_id": "c"})
    print(json.dumps(None), flush=True)  # nothing to report: the test reads the table
    os._exit(0)


# --- the tests (the test venv) ------------------------------------------------------------------


def _stored(db: Path) -> list[dict]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT sender_id, data FROM events ORDER BY id").fetchall()
    events = [json.loads(data) for _, data in rows]
    assert all(
        sender == event["sender_id"] for (sender, _), event in zip(rows, events, strict=True)
    )
    return events


def test_what_a_channel_waited_for_is_written_in_order_despite_a_lock_and_a_crash(tmp_path):
    db = tmp_path / "app.db"
    seen = run_under_rasa(__file__, str(db), "settle")
    expected = [{"event": "session_started", "sender_id": "a"}] + [
        event
        for turn in range(TURNS)
        for sender in ("a", "b")
        for event in _turn_events(sender, turn)
    ]
    assert _stored(db) == expected
    # The writes waited for the lock in a thread: the event loop kept turning meanwhile.
    assert seen["loop_turns"] >= LOCKED_SECONDS / 0.01 / 4


def test_outside_an_event_loop_an_event_is_written_at_once(tmp_path):
    db = tmp_path / "app.db"
    run_under_rasa(__file__, str(db), "once")
    assert _stored(db) == [{"event": "user", "sender_id": "c"}]


if __name__ == "__main__":
    if sys.argv[2] == "settle":
        asyncio.run(_publish_settle_and_die(sys.argv[1]))
    else:
        _publish_outside_a_loop(sys.argv[1])
