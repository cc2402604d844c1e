"""The cached SQL tracker store hands out what the database holds: after another Rasa server's
turn, after a customer's deletion, after a turn that failed half-way; and it publishes each
turn's events once, as Rasa's own store does.

The store runs inside Rasa (Python 3.10), which the test venv does not have, so the scenario
runs under Rasa's python (``.venv-rasa/bin/python tests/connectors/test_tracker_store.py DB``)
and prints what it saw as JSON.
"""

from __future__ import annotations

import json
import sys

from tests.support.rasa_python import run_under_rasa

# --- the scenario (Rasa's python) ---------------------------------------------------------------


async def _scenario(db: str) -> dict:
    import sqlite3

    from rasa.core.brokers.broker import EventBroker
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import BotUttered, UserUttered

    from connectors.tracker_store import CachedSqlTrackerStore

    class Collected(EventBroker):
        def __init__(self) -> None:
            self.published: list[str] = []

        def publish(self, event: dict) -> None:
            if event["event"] in ("user", "bot"):
                self.published.append(event["text"])

    def texts(tracker) -> list[str]:
        return [e.text for e in tracker.events if isinstance(e, (UserUttered, BotUttered))]

    domain = Domain.empty()
    broker = Collected()
    ours = CachedSqlTrackerStore(domain=domain, dialect="sqlite", db=db, event_broker=broker)
    other_server = SQLTrackerStore(domain=domain, dialect="sqlite", db=db)
    seen: dict = {}

    async def turn(store, said: str) -> None:
        tracker = await store.get_or_create_tracker("s")
        tracker.update(UserUttered(said))
        tracker.update(BotUttered(f"re: {said}"))
        await store.save(tracker)

    await turn(ours, "one")
    await turn(ours, "two")
    seen["after our turns"] = texts(await ours.retrieve("s"))
    seen["kept between turns"] = (await ours.retrieve("s")) is (await ours.retrieve("s"))

    await turn(other_server, "three")  # another Rasa server's turn on the same conversation
    seen["after another server's turn"] = texts(await ours.retrieve("s"))
    await turn(ours, "four")
    seen["published"] = broker.published

    failed = await ours.retrieve("s")  # a turn that fails before it is saved
    failed.update(UserUttered("never saved"))
    seen["after a failed turn"] = texts(await ours.retrieve("s"))

    with sqlite3.connect(db) as connection:  # `python -m bot customers delete`
        connection.execute("DELETE FROM events WHERE sender_id = 's'")
    seen["after the deletion"] = await ours.retrieve("s")
    return seen


# --- the test (the test venv) -------------------------------------------------------------------


def test_the_kept_tracker_is_always_what_the_database_holds(tmp_path):
    seen = run_under_rasa(__file__, str(tmp_path / "tracker.db"), timeout=180)
    assert seen["after our turns"] == ["one", "re: one", "two", "re: two"]
    assert seen["kept between turns"] is True
    assert seen["after another server's turn"] == [
        *seen["after our turns"],
        "three",
        "re: three",
    ]
    # What our store saved, published once each (the other server has no broker here).
    assert seen["published"] == ["one", "re: one", "two", "re: two", "four", "re: four"]
    assert seen["after a failed turn"] == [
        *seen["after another server's turn"],
        "four",
        "re: four",
    ]
    assert seen["after the deletion"] is None


if __name__ == "__main__":
    import asyncio

    print(json.dumps(asyncio.run(_scenario(sys.argv[1]))))
