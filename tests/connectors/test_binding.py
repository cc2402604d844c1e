"""A conversation's binding to its channel and customer: refused moves, and what is remembered.

``connectors.binding`` runs inside Rasa (Python 3.10, Rasa's own events and tracker stores),
which the test venv does not have. So the scenarios below run under Rasa's python
(``.venv-rasa/bin/python tests/connectors/test_binding.py NAME...``) against Rasa's real
``InMemoryTrackerStore``, counting its reads; each pytest test checks one scenario's outcome.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sys
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from tests.support.rasa_python import run_under_rasa

SECRET = "binding-test-secret"


# --- the scenarios (Rasa's python) --------------------------------------------------------------


class Store:
    """Rasa's in-memory tracker store, counting the reads of each conversation."""

    def __init__(self) -> None:
        from rasa.core.tracker_store import InMemoryTrackerStore
        from rasa.shared.core.domain import Domain

        self.rasa = InMemoryTrackerStore(Domain.empty())
        self.reads: dict[str, int] = {}

    async def retrieve(self, sender_id: str) -> Any:
        self.reads[sender_id] = self.reads.get(sender_id, 0) + 1
        return await self.rasa.retrieve(sender_id)

    async def retrieve_full_tracker(self, sender_id: str) -> Any:
        self.reads[sender_id] = self.reads.get(sender_id, 0) + 1
        return await self.rasa.retrieve_full_tracker(sender_id)

    async def store(self, sender_id: str, channel: str, metadata: dict | None = None) -> None:
        """What Rasa does with an admitted message: append it to the conversation."""
        from rasa.shared.core.events import UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        tracker = await self.rasa.retrieve_full_tracker(sender_id)
        tracker = tracker or DialogueStateTracker(sender_id, [])
        tracker.update(UserUttered("hello", input_channel=channel, metadata=metadata or {}))
        await self.rasa.save(tracker)

    async def new_session(self, sender_id: str) -> None:
        """The session expired (the domain's session_expiration_time): Rasa starts a new one."""
        from rasa.shared.core.events import ActionExecuted, SessionStarted

        tracker = await self.rasa.retrieve_full_tracker(sender_id)
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
        await self.rasa.save(tracker)


def proof(customer_id: str) -> dict[str, str]:
    import hashlib
    import hmac

    digest = hmac.new(SECRET.encode(), customer_id.encode(), hashlib.sha256).hexdigest()
    return {"customer_id": customer_id, "customer_hash": digest}


async def send(binding: Any, store: Store, sender: str, channel: str, metadata=None) -> str:
    """ "ok" (and the message is stored, as Rasa would) or the refusal's code."""
    from connectors.gate import Refused

    try:
        await binding.check(store, sender, channel, metadata or {}, "en")
    except Refused as refused:
        return refused.code
    await store.store(sender, channel, metadata)
    return "ok"


async def known_channel_is_not_read_again() -> None:
    from connectors.binding import ConversationBinding

    store, binding = Store(), ConversationBinding()
    assert await send(binding, store, "c1", "rest") == "ok"  # a new conversation
    assert await send(binding, store, "c1", "rest") == "ok"  # its binding is read, and kept
    assert store.reads["c1"] == 2
    for _ in range(5):
        assert await send(binding, store, "c1", "rest") == "ok"
    assert await send(binding, store, "c1", "socketio") == "wrong_channel"
    assert store.reads["c1"] == 2


async def known_owner_is_not_read_again() -> None:
    from connectors.binding import ConversationBinding

    store, binding = Store(), ConversationBinding(SECRET)
    assert await send(binding, store, "c2", "socketio", proof("c-42")) == "ok"
    assert await send(binding, store, "c2", "socketio", proof("c-42")) == "ok"
    reads = store.reads["c2"]
    assert await send(binding, store, "c2", "socketio", proof("c-42")) == "ok"
    assert await send(binding, store, "c2", "socketio", proof("c-7")) == "wrong_identity"
    assert await send(binding, store, "c2", "socketio") == "wrong_identity"
    assert await send(binding, store, "c2", "rest", proof("c-42")) == "wrong_channel"
    assert store.reads["c2"] == reads


async def an_anonymous_conversation_is_read_until_a_customer_claims_it() -> None:
    # With an identity secret, an anonymous conversation may still be claimed by a proving
    # message (on another Rasa server too): it is read every time until then.
    from connectors.binding import ConversationBinding

    store, binding = Store(), ConversationBinding(SECRET)
    for _ in range(3):
        assert await send(binding, store, "c3", "socketio") == "ok"
    assert store.reads["c3"] == 3
    assert await send(binding, store, "c3", "socketio", proof("c-42")) == "ok"
    assert await send(binding, store, "c3", "socketio") == "wrong_identity"
    assert await send(binding, store, "c3", "socketio", proof("c-7")) == "wrong_identity"
    reads = store.reads["c3"]
    assert await send(binding, store, "c3", "socketio", proof("c-42")) == "ok"
    assert store.reads["c3"] == reads


async def several_servers_agree() -> None:
    # Two Rasa servers, one tracker store: what one of them remembers never lets through
    # what the other would refuse.
    from connectors.binding import ConversationBinding

    store = Store()
    first, second = ConversationBinding(SECRET), ConversationBinding(SECRET)
    assert await send(first, store, "c4", "socketio") == "ok"
    assert await send(first, store, "c4", "socketio") == "ok"
    assert await send(second, store, "c4", "socketio", proof("c-42")) == "ok"
    assert await send(first, store, "c4", "socketio") == "wrong_identity"
    assert await send(second, store, "c4", "socketio") == "wrong_identity"
    assert await send(first, store, "c4", "rest", proof("c-42")) == "wrong_channel"


async def a_new_session_keeps_the_binding() -> None:
    # Rasa starts a new session after an hour's silence; the conversation stays bound.
    from connectors.binding import ConversationBinding

    store = Store()
    assert await send(ConversationBinding(SECRET), store, "c5", "socketio", proof("c-42")) == "ok"
    await store.new_session("c5")
    assert (await store.rasa.retrieve("c5")).latest_message.text is None  # nothing in it
    fresh = ConversationBinding(SECRET)  # a restarted server remembers nothing
    assert await send(fresh, store, "c5", "socketio") == "wrong_identity"
    assert await send(fresh, store, "c5", "rest", proof("c-42")) == "wrong_channel"


async def the_memory_is_bounded() -> None:
    from connectors.binding import ConversationBinding

    store, binding = Store(), ConversationBinding(remembered=2)
    for sender in ("a", "b", "c"):
        await send(binding, store, sender, "rest")
        await send(binding, store, sender, "rest")  # now remembered
    assert await send(binding, store, "c", "rest") == "ok"
    assert await send(binding, store, "b", "rest") == "ok"
    assert (store.reads["b"], store.reads["c"]) == (2, 2)
    assert await send(binding, store, "a", "socketio") == "wrong_channel"  # forgotten: read
    assert store.reads["a"] == 3


async def no_tracker_store_checks_nothing() -> None:
    from connectors.binding import ConversationBinding

    await ConversationBinding(SECRET).check(None, "c6", "rest", {}, "en")


SCENARIOS: dict[str, Callable[[], Awaitable[None]]] = {
    f.__name__: f
    for f in (
        known_channel_is_not_read_again,
        known_owner_is_not_read_again,
        an_anonymous_conversation_is_read_until_a_customer_claims_it,
        several_servers_agree,
        a_new_session_keeps_the_binding,
        the_memory_is_bounded,
        no_tracker_store_checks_nothing,
    )
}


def main(names: list[str]) -> None:
    """Run the scenarios; print, as one JSON line, each one's traceback (null: it passed)."""
    errors: dict[str, str | None] = {}
    for name in names or SCENARIOS:
        try:
            asyncio.run(SCENARIOS[name]())
            errors[name] = None
        except Exception:
            errors[name] = traceback.format_exc()
    print(json.dumps(errors), flush=True)


# --- the tests (the test venv) ------------------------------------------------------------------


@functools.cache
def outcomes() -> dict[str, str | None]:
    """Every scenario's traceback (None: it passed), from one run of Rasa's python."""
    return run_under_rasa(__file__, *SCENARIOS, timeout=300)


def check(name: str) -> None:
    error = outcomes()[name]
    assert error is None, error


def test_a_known_channel_is_not_read_again_and_a_move_is_still_refused() -> None:
    check("known_channel_is_not_read_again")


def test_a_known_owner_is_not_read_again_and_others_are_still_refused() -> None:
    check("known_owner_is_not_read_again")


def test_an_anonymous_conversation_is_read_until_a_customer_claims_it() -> None:
    check("an_anonymous_conversation_is_read_until_a_customer_claims_it")


def test_several_rasa_servers_agree() -> None:
    check("several_servers_agree")


def test_a_new_session_keeps_the_binding() -> None:
    check("a_new_session_keeps_the_binding")


def test_the_memory_is_bounded() -> None:
    check("the_memory_is_bounded")


def test_without_a_tracker_store_nothing_is_checked() -> None:
    check("no_tracker_store_checks_nothing")


if __name__ == "__main__":
    main(sys.argv[1:])
