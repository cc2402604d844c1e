"""Actions that read the customer's profile: greeting by name, keeping their language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rasa_sdk.events import SlotSet

from actions import services
from actions.dialogue import ActionBeginTurn, ActionGreet
from bot.domain.identity import sign
from bot.store.models import Conversation, Customer, Identity
from tests.actions.test_actions import run, tracker

SECRET = "greeting-secret"


@pytest.fixture()
async def profiles(sessions, database_url, monkeypatch, actions_database):
    """A database with one verified customer, Li Lei, who last wrote in Chinese."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("IDENTITY_SECRET", SECRET)
    services.reset()
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        li = Customer(name="Li Lei", language="zh", tags=[])
        session.add(li)
        await session.flush()
        session.add(Identity(customer_id=li.id, kind="shop", value="c-1", verified=True))
        session.add(
            Conversation(
                sender_id="old-chat", customer_id=li.id, started_at=now, last_message_at=now
            )
        )
    yield
    await services.close()


def signed(customer_id: str, secret: str = SECRET) -> dict:
    return {"customer_id": customer_id, "customer_hash": sign(customer_id, secret)}


async def test_a_verified_returning_customer_is_welcomed_by_name(profiles):
    _, messages = await run(ActionGreet(), tracker("hi", "greet", metadata=signed("c-1")))
    assert messages[0]["response"] == "utter_greet_returning"
    assert messages[0]["name"] == "Li Lei"


async def test_a_returning_conversation_is_welcomed_by_name(profiles):
    t = tracker("hello", "greet")
    t.sender_id = "old-chat"
    _, messages = await run(ActionGreet(), t)
    assert messages[0]["response"] == "utter_greet_returning"


@pytest.mark.parametrize(
    "metadata", [{}, signed("c-1", "wrong secret"), signed("c-2"), {"customer_id": "c-1"}]
)
async def test_strangers_and_forged_ids_get_the_plain_greeting(profiles, metadata):
    _, messages = await run(ActionGreet(), tracker("hi", "greet", metadata=metadata))
    assert messages == [{**messages[0], "response": "utter_greet"}]
    assert "name" not in messages[0] or messages[0]["name"] is None


async def test_a_returning_customer_keeps_the_language_they_used_last(profiles):
    events, _ = await run(ActionBeginTurn(), tracker("hi", "greet", metadata=signed("c-1")))
    assert events == [SlotSet("language", "zh")]
    # Their message decides when it is clearly in a language of its own.
    events, _ = await run(ActionBeginTurn(), tracker("where is my order", metadata=signed("c-1")))
    assert events == [SlotSet("language", "en")]


async def test_without_a_database_the_greeting_still_works(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'app.db'}")
    await services.close()
    _, messages = await run(ActionGreet(), tracker("hi", "greet"))
    assert messages[0]["response"] == "utter_greet"
