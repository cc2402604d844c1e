"""Escalation triggers, the quiet bot during handoff, delivery of agents' replies, ratings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from sqlalchemy import select

from actions import services
from actions.dialogue import (
    ActionBeginTurn,
    ActionHandleYesNo,
    ActionRecordFeedback,
    ActionRecordRating,
)
from actions.escalation import ActionDeliverOutbox, ActionEscalate
from actions.faq import ActionAnswerFaq
from bot.domain.tickets import Actor, reply, resolve
from bot.store.models import Agent, Ticket
from tests.actions.test_actions import run, slot_values


def conversation(
    *turns: tuple[str, str], sender="web-esc", metadata: dict | None = None, **slots
) -> Tracker:
    """A tracker whose history holds ``turns`` of (text, intent), the last one latest."""
    events = []
    for text, intent in turns:
        ranked = {"name": intent, "confidence": 0.9}
        events.append(
            {
                "event": "user",
                "text": text,
                "parse_data": {"intent": ranked, "intent_ranking": [ranked]},
                "metadata": {},
                "input_channel": "socketio",
            }
        )
    latest = events[-1]
    message = {
        "text": latest["text"],
        "intent": latest["parse_data"]["intent"],
        "intent_ranking": latest["parse_data"]["intent_ranking"],
        "metadata": metadata or {},
    }
    return Tracker(sender, slots, message, events, False, None, {}, "action_listen")


async def agent(name: str = "Ann", role: str = "admin", online: bool = False) -> Actor:
    sessions = services.shared().sessions
    async with sessions() as session, session.begin():
        row = Agent(
            username=name.lower(),
            display_name=name,
            password_hash="not used here",
            role=role,
            created_at=datetime.now(UTC),
            last_seen_at=datetime.now(UTC) if online else None,
        )
        session.add(row)
        await session.flush()
        return Actor(row.id, row.display_name, row.role)


async def tickets() -> list[Ticket]:
    sessions = services.shared().sessions
    async with sessions() as session:
        return list((await session.scalars(select(Ticket).order_by(Ticket.id))).all())


async def test_asking_for_a_person_opens_a_ticket_with_the_question():
    t = conversation(
        ("my parcel arrived broken and the box was wet", "ask_question"),
        ("talk to a human", "request_human"),
        faq_candidates=[{"id": "return_policy", "score": 0.31}],
    )
    events, messages = await run(ActionEscalate(), t)
    [ticket] = await tickets()
    assert ticket.reason == "requested" and ticket.status == "open"
    assert ticket.question == "my parcel arrived broken and the box was wet"
    assert ticket.candidates == [{"id": "return_policy", "score": 0.31}]
    assert ticket.channel == "socketio" and ticket.priority == "normal"
    assert messages[0]["response"] == "utter_handoff_later"  # open hours, nobody online
    assert slot_values(events)["handoff_ticket"] == str(ticket.id)


async def test_the_promise_is_honest_about_agents_online_and_hours(monkeypatch):
    await agent(online=True)
    _, messages = await run(ActionEscalate(), conversation(("agent please", "request_human")))
    assert messages[0]["response"] == "utter_handoff_soon"

    monkeypatch.setenv("BUSINESS_HOURS", "00:00-00:01")  # closed (but for one minute a day)
    await services.close()
    _, messages = await run(
        ActionEscalate(), conversation(("agent please", "request_human"), sender="web-late")
    )
    if datetime.now(UTC).astimezone().strftime("%H:%M") != "00:00":
        assert messages[0]["response"] == "utter_handoff_closed"


async def test_a_second_escalation_joins_the_open_ticket():
    await run(ActionEscalate(), conversation(("agent please", "request_human")))
    await run(ActionEscalate(), conversation(("this is terrible service", "complain")))
    assert len(await tickets()) == 1


async def test_one_address_cannot_flood_the_queue_with_tickets(monkeypatch):
    monkeypatch.setenv("TICKETS_PER_ADDRESS_PER_HOUR", "3")
    await services.close()
    said = []
    for n in range(5):
        asking = conversation(
            ("human!", "request_human"), sender=f"web-{n}", metadata={"origin": "o1"}
        )
        said.append((await run(ActionEscalate(), asking))[1][0]["response"])
    other = conversation(("human!", "request_human"), sender="web-x", metadata={"origin": "o2"})
    said.append((await run(ActionEscalate(), other))[1][0]["response"])
    assert said == ["utter_handoff_later"] * 3 + ["utter_handoff_limited"] * 2 + [
        "utter_handoff_later"
    ]
    assert [t.origin for t in await tickets()] == ["o1", "o1", "o1", "o2"]


async def test_one_conversation_cannot_open_ticket_after_ticket(monkeypatch):
    monkeypatch.setenv("TICKETS_PER_CONVERSATION_PER_HOUR", "2")
    await services.close()
    admin = await agent()
    sessions = services.shared().sessions
    for _ in range(3):
        events, messages = await run(ActionEscalate(), conversation(("human!", "request_human")))
        if messages[0]["response"] == "utter_handoff_limited":
            break
        async with sessions() as session, session.begin():
            await resolve(session, int(slot_values(events)["handoff_ticket"]), None, admin)
    assert messages[0]["response"] == "utter_handoff_limited"
    assert len(await tickets()) == 2


async def test_a_complaint_is_escalated_with_high_priority():
    await run(ActionEscalate(), conversation(("this is terrible service", "complain")))
    [ticket] = await tickets()
    assert ticket.reason == "complaint" and ticket.priority == "high"


@pytest.mark.parametrize(
    ("action", "intent", "slots", "reason"),
    [
        (ActionHandleYesNo, "affirm", {"pending_offer": "human"}, "requested"),
        (ActionHandleYesNo, "deny", {"pending_offer": "feedback"}, "not_helpful"),
        (ActionHandleYesNo, "deny", {"pending_offer": "clarify"}, "clarification_refused"),
        (ActionRecordFeedback, "feedback_not_helpful", {}, "not_helpful"),
    ],
)
async def test_every_trigger_records_its_reason(action, intent, slots, reason):
    t = conversation(("how do I return a gift", "ask_question"), ("/x", intent), **slots)
    _, messages = await run(action(), t)
    [ticket] = await tickets()
    assert ticket.reason == reason
    assert ticket.question == "how do I return a gift"
    assert messages[-1]["response"] == "utter_handoff_later"


async def test_two_not_found_in_a_row_escalate(small_searcher):
    question = "can I bring my llama to the pickup point"
    events, messages = await run(ActionAnswerFaq(), conversation((question, "ask_question")))
    assert messages[0]["response"] == "utter_not_found" and await tickets() == []
    assert slot_values(events)["not_found_in_a_row"] == 1.0

    events, messages = await run(
        ActionAnswerFaq(),
        conversation((question, "ask_question"), (question, "ask_question"), not_found_in_a_row=1),
    )
    [ticket] = await tickets()
    assert ticket.reason == "not_found"
    assert messages[-1]["response"] == "utter_handoff_later"


async def test_while_people_have_it_the_bot_acknowledges_once_then_stays_quiet():
    events, _ = await run(ActionEscalate(), conversation(("agent please", "request_human")))
    ticket_id = slot_values(events)["handoff_ticket"]

    t = conversation(("hello? anyone?", "greet"), handoff_ticket=ticket_id, language="en")
    events, messages = await run(ActionBeginTurn(), t)
    assert [m["response"] for m in messages] == ["utter_handoff_ack_later"]
    assert SlotSet("handoff_acknowledged", True) in events
    assert events[-1] == FollowupAction("action_listen")

    t = conversation(
        ("where is my order", "ask_question"),
        handoff_ticket=ticket_id,
        handoff_acknowledged=True,
        language="en",
    )
    events, messages = await run(ActionBeginTurn(), t)
    assert messages == [] and events == [FollowupAction("action_listen")]


async def test_after_the_ticket_is_resolved_the_bot_answers_again():
    events, _ = await run(ActionEscalate(), conversation(("agent please", "request_human")))
    ticket_id = int(slot_values(events)["handoff_ticket"])
    sessions = services.shared().sessions
    async with sessions() as session, session.begin():
        await resolve(session, ticket_id, "done", await agent())
    t = conversation(("where is my order", "ask_question"), handoff_ticket=str(ticket_id))
    events, messages = await run(ActionBeginTurn(), t)
    assert messages == []
    assert FollowupAction("action_listen") not in events
    assert SlotSet("handoff_ticket", None) in events


async def test_outbox_replies_are_uttered_one_per_run_in_order_then_the_rating_prompt():
    events, _ = await run(ActionEscalate(), conversation(("agent please", "request_human")))
    ticket_id = int(slot_values(events)["handoff_ticket"])
    sessions = services.shared().sessions
    ann = await agent()
    async with sessions() as session, session.begin():
        first = await reply(session, ticket_id, "Hi, I'm Ann. Let me check.", ann)
        second = await reply(session, ticket_id, "Your refund is on its way.", ann)
        refused = await reply(session, ticket_id, "Anything else?", ann)
        refused.failed_at = datetime.now(UTC)  # the channel refused it for good
        await resolve(session, ticket_id, None, ann)  # queues the bot's return
    t = conversation(("agent please", "request_human"), handoff_ticket=str(ticket_id))
    t.events.append({"event": "bot", "text": first.text, "metadata": {"outbox_id": first.id}})
    events, messages = await run(ActionDeliverOutbox(), t)
    assert [(m.get("text"), m["outbox_id"], m["agent_name"]) for m in messages] == [
        (second.text, second.id, "Ann")  # the first went out already; one per run
    ]
    assert slot_values(events) == {}
    t.events.append({"event": "bot", "text": second.text, "metadata": {"outbox_id": second.id}})
    events, messages = await run(ActionDeliverOutbox(), t)
    assert [m["response"] for m in messages] == ["utter_ask_rating"]  # the refused one skipped
    assert slot_values(events) == {
        "handoff_ticket": None,
        "handoff_acknowledged": None,
        "pending_offer": "rating",
    }


async def test_a_rating_lands_on_the_resolved_ticket():
    events, _ = await run(ActionEscalate(), conversation(("agent please", "request_human")))
    ticket_id = int(slot_values(events)["handoff_ticket"])
    ann = await agent()
    sessions = services.shared().sessions
    async with sessions() as session, session.begin():
        await resolve(session, ticket_id, None, ann)
    button = conversation(('/rate{"rating": 4}', "rate"), pending_offer="rating")
    button.latest_message["entities"] = [{"entity": "rating", "value": 4}]
    events, messages = await run(ActionRecordRating(), button)
    assert messages[0]["response"] == "utter_rating_thanks"
    assert (await tickets())[0].satisfaction == 4
    assert slot_values(events) == {"pending_offer": None, "rating": 4.0}

    _, messages = await run(ActionRecordRating(), conversation(("2 stars", "rate")))
    assert messages[0]["response"] == "utter_rating_thanks"  # typed
    assert (await tickets())[0].satisfaction == 2

    events, messages = await run(ActionRecordRating(), conversation(("9 stars", "rate")))
    assert messages[0]["response"] == "utter_ask_rating"  # out of range: asked again
    assert slot_values(events) == {"pending_offer": "rating"}
    assert (await tickets())[0].satisfaction == 2


async def test_a_question_with_a_number_after_the_rating_prompt_is_answered(small_searcher):
    """Regression: "it's been 10 days" overwrote a resolved ticket's rating with 10 (or 1)."""
    events, _ = await run(ActionEscalate(), conversation(("agent please", "request_human")))
    ticket_id = int(slot_values(events)["handoff_ticket"])
    sessions = services.shared().sessions
    async with sessions() as session, session.begin():
        await resolve(session, ticket_id, None, await agent())
    rated = conversation(("5", "rate"), pending_offer="rating")
    await run(ActionRecordRating(), rated)
    asked = conversation(
        ("my parcel hasn't arrived, it's been 10 days", "rate"), pending_offer="rating"
    )
    events, messages = await run(ActionRecordRating(), asked)
    assert (await tickets())[0].satisfaction == 5
    assert "rating" not in slot_values(events)
    assert messages[0].get("response") != "utter_rating_thanks"


async def test_without_a_database_the_customer_gets_other_ways_to_reach_us(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'nowhere' / 'app.db'}")
    await services.close()
    events, messages = await run(ActionEscalate(), conversation(("agent please", "request_human")))
    assert messages[0]["response"] == "utter_handoff_unavailable"
    assert "handoff_ticket" not in slot_values(events)
