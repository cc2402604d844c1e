"""The actions on their own, with rasa-sdk's real Tracker and dispatcher."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.dialogue import ActionBeginTurn, ActionGreet, ActionHandleYesNo, ActionThank
from actions.faq import ActionAnswerFaq, choice_payload


def tracker(
    text: str, intent: str = "ask_question", metadata: dict | None = None, **slots
) -> Tracker:
    ranked = {"name": intent, "confidence": 1.0}
    message = {
        "text": text,
        "intent": ranked,
        "intent_ranking": [ranked],
        "metadata": metadata or {},
    }
    return Tracker("customer", slots, message, [], False, None, {}, "action_listen")


def slot_values(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def run(action, t: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return events, dispatcher.messages


async def test_language_slot_is_set_only_when_it_changes():
    events, _ = await run(ActionBeginTurn(), tracker("我的订单呢", language="en"))
    assert events == [SlotSet("language", "zh")]
    events, _ = await run(ActionBeginTurn(), tracker("ok", language="zh"))
    assert events == []
    events, _ = await run(ActionBeginTurn(), tracker("👍", metadata={"language": "zh"}))
    assert events == [SlotSet("language", "zh")]


async def test_answer_in_the_slot_language_with_a_feedback_prompt(small_searcher):
    events, messages = await run(ActionAnswerFaq(), tracker("怎么重置密码", language="zh"))
    entry = small_searcher.index.entry("password_reset")
    assert messages[0]["text"] == entry.texts["zh"].answer
    assert messages[1]["response"] == "utter_ask_feedback"
    slots = slot_values(events)
    assert slots["faq_decision"] == "answer" and slots["faq_id"] == "password_reset"
    assert slots["pending_offer"] == "feedback" and slots["answers_since_feedback_prompt"] == 0


async def test_feedback_prompt_waits_for_a_few_answers(small_searcher):
    events, messages = await run(
        ActionAnswerFaq(), tracker("How do I reset my password?", answers_since_feedback_prompt=0.0)
    )
    assert len(messages) == 1
    assert slot_values(events)["answers_since_feedback_prompt"] == 1


async def test_unrelated_question_offers_a_person(small_searcher):
    events, messages = await run(ActionAnswerFaq(), tracker("What is the capital of France?"))
    assert messages == [
        {**messages[0], "response": "utter_not_found"},
    ]
    assert slot_values(events)["faq_decision"] == "escalate"
    assert slot_values(events)["pending_offer"] == "human"


async def test_a_clicked_choice_is_answered_with_its_offered_score(small_searcher):
    offered = [{"id": "invoice", "score": 0.5}, {"id": "refund_time", "score": 0.48}]
    t = tracker(
        choice_payload("invoice"),
        intent="choose_faq",
        faq_choice="invoice",
        faq_candidates=offered,
        language="en",
    )
    events, messages = await run(ActionAnswerFaq(), t)
    assert messages[0]["text"] == small_searcher.index.entry("invoice").texts["en"].answer
    slots = slot_values(events)
    assert (
        slots["faq_id"] == "invoice" and slots["faq_score"] == 0.5 and slots["faq_choice"] is None
    )


async def test_an_unknown_choice_is_not_found(small_searcher):
    t = tracker("/choose_faq", intent="choose_faq", faq_choice="no_such_entry")
    _, messages = await run(ActionAnswerFaq(), t)
    assert messages[0]["response"] == "utter_not_found"


async def test_a_message_too_long_asks_to_rephrase(small_searcher):
    events, messages = await run(ActionAnswerFaq(), tracker("refund " * 500))
    assert messages[0]["response"] == "utter_rephrase"
    assert slot_values(events) == {"faq_decision": None}


@pytest.mark.parametrize(
    ("intent", "offer", "response", "slots"),
    [
        ("affirm", "feedback", "utter_feedback_thanks", {"faq_feedback": "helpful"}),
        ("deny", None, "utter_anything_else", {}),
        ("affirm", None, "utter_anything_else", {}),
    ],
)
async def test_yes_or_no_answers_the_last_offer(intent, offer, response, slots):
    events, messages = await run(
        ActionHandleYesNo(), tracker("yes", intent=intent, pending_offer=offer)
    )
    assert messages[0]["response"] == response
    values = slot_values(events)
    assert values.pop("pending_offer") is None
    assert values == slots


async def test_courtesy_around_a_question_is_left_out_of_the_search(small_searcher):
    plain, _ = await run(ActionAnswerFaq(), tracker("How do I reset my password?"))
    wrapped, _ = await run(
        ActionAnswerFaq(), tracker("thanks! also, how do I reset my password? cheers")
    )
    assert slot_values(wrapped)["faq_id"] == "password_reset"
    # As if asked plainly (the question mark the trailing "cheers" took moves it a little).
    assert slot_values(wrapped)["faq_score"] == pytest.approx(
        slot_values(plain)["faq_score"], abs=0.005
    )


@pytest.mark.parametrize(
    ("text", "intent"), [("yes", "affirm"), ("that helped", "feedback_helpful")]
)
async def test_courtesy_nobody_asked_for_is_not_searched(text, intent):
    # No searcher fixture: a search would load var/faq_index; "ok" must not count as not found.
    events, messages = await run(ActionAnswerFaq(), tracker("ok", intent=intent))
    assert [m["response"] for m in messages] == ["utter_anything_else"]
    assert slot_values(events) == {"pending_offer": None}


async def test_an_answer_makes_the_next_reply_feedback_even_unprompted(small_searcher):
    events, messages = await run(
        ActionAnswerFaq(), tracker("How do I reset my password?", answers_since_feedback_prompt=0.0)
    )
    assert len(messages) == 1  # no prompt this time
    assert slot_values(events)["pending_offer"] == "feedback"


async def test_thanks_is_welcomed_and_a_question_in_it_answered(small_searcher):
    _, messages = await run(ActionThank(), tracker("thanks a lot!", intent="thanks"))
    assert [m["response"] for m in messages] == ["utter_you_are_welcome"]
    events, messages = await run(
        ActionThank(), tracker("thanks, and how do I reset my password?", intent="thanks")
    )
    assert slot_values(events)["faq_id"] == "password_reset"
    _, messages = await run(ActionThank(), tracker("thanks, you too", intent="thanks"))
    assert [m["response"] for m in messages] == ["utter_you_are_welcome"]  # nothing found


async def test_a_greeting_with_a_question_is_answered(small_searcher):
    events, _ = await run(ActionGreet(), tracker("hi, how do I reset my password?", intent="greet"))
    assert slot_values(events)["faq_id"] == "password_reset"
    _, messages = await run(ActionGreet(), tracker("/get_started", intent="get_started"))
    assert [m["response"] for m in messages] == ["utter_greet"]


async def test_no_with_a_question_after_a_did_you_mean_answers_the_question(small_searcher):
    t = tracker("no, I meant how to reset my password", intent="deny", pending_offer="clarify")
    events, _ = await run(ActionHandleYesNo(), t)
    values = slot_values(events)
    assert values["faq_id"] == "password_reset"
    assert "handoff_ticket" not in values
