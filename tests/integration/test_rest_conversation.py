"""Conversations over Rasa's REST channel with the real Rasa server and action server."""

from __future__ import annotations

import os
import uuid

import pytest

from faq_index import load_index

pytestmark = pytest.mark.integration


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def faq(assistant):
    return load_index(os.environ["FAQ_INDEX_DIR"])  # the stack's copy


def slots(assistant, sender: str) -> dict:
    return assistant.tracker(sender)["slots"]


def test_english_question_gets_the_english_answer(assistant, faq):
    sender = new_sender()
    replies = assistant.send("How can I track my package?", sender)
    assert replies[0]["text"].startswith(faq.entry("order_track").texts["en"].answer)
    # The first answer of a conversation asks whether it helped.
    assert [b["payload"] for b in replies[-1]["buttons"]] == [
        "/feedback_helpful",
        "/feedback_not_helpful",
    ]
    state = slots(assistant, sender)
    assert state["faq_id"] == "order_track"
    assert state["faq_decision"] == "answer"
    assert state["faq_score"] > 0.5
    assert state["language"] == "en"


def test_chinese_question_gets_the_chinese_answer(assistant, faq):
    sender = new_sender()
    replies = assistant.send("退款一般多久能到账？", sender)
    assert replies[0]["text"].startswith(faq.entry("return_refund_time").texts["zh"].answer)
    assert replies[-1]["text"] == "这个回答对您有帮助吗？"
    state = slots(assistant, sender)
    assert state["language"] == "zh"
    assert state["faq_id"] == "return_refund_time"


def test_feedback_is_not_asked_after_every_answer(assistant):
    sender = new_sender()
    first = assistant.send("How do I reset my password?", sender)
    second = assistant.send("Which payment methods do you accept?", sender)
    assert any(m.get("buttons") for m in first)
    assert not any(m.get("buttons") for m in second)


def test_vague_question_is_clarified_with_buttons_and_a_click_answers(assistant, faq):
    sender = new_sender()
    replies = assistant.send("coupon", sender)
    assert replies[0]["text"] == "I'm not sure which of these you mean. Please pick one:"
    buttons = replies[0]["buttons"]
    choices = [b for b in buttons if b["payload"].startswith("/choose_faq")]
    assert 2 <= len(choices) <= 3
    assert buttons[-1]["payload"] == "/deny"
    state = slots(assistant, sender)
    assert state["faq_decision"] == "clarify"
    assert [c["id"] for c in state["faq_candidates"]][: len(choices)]

    picked = choices[1]
    picked_id = picked["payload"].split('"faq_choice": "')[1].rstrip('"}')
    assert picked["title"] == faq.entry(picked_id).texts["en"].questions[0]
    answer = assistant.send(picked["payload"], sender)
    assert answer[0]["text"].startswith(faq.entry(picked_id).texts["en"].answer)
    assert slots(assistant, sender)["faq_id"] == picked_id


def test_unknown_question_says_so_and_offers_a_person(assistant):
    sender = new_sender()
    replies = assistant.send("What is the airspeed velocity of an unladen swallow?", sender)
    assert replies[0]["text"].startswith("Sorry, I couldn't find an answer")
    assert [b["payload"] for b in replies[0]["buttons"]] == ["/request_human", "/deny"]
    assert slots(assistant, sender)["faq_decision"] == "escalate"
    handoff = assistant.send("yes please", sender)
    assert handoff[0]["text"].startswith("I've passed this to our team (ticket ")
    assert slots(assistant, sender)["handoff_ticket"]


def test_greeting_follows_the_customers_language(assistant):
    sender = new_sender()
    assert assistant.send("你好", sender)[0]["text"].startswith("您好")
    assert assistant.send("hello there", sender)[0]["text"].startswith("Hi!")
    # A single Latin word ("ok", "hi") keeps the conversation's language.
    assert assistant.send("你好", sender)[0]["text"].startswith("您好")
    assert assistant.send("hi", sender)[0]["text"].startswith("您好")


@pytest.mark.parametrize(
    "question",
    [
        "my parcel hasn't arrived yet, it's been 10 days",
        "已经10天了快递还没到",
        "I ordered 3 shirts",
    ],
)
def test_a_number_in_a_question_is_no_rating(assistant, question):
    sender = new_sender()
    replies = assistant.send(question, sender)
    state = slots(assistant, sender)
    assert state["faq_decision"] is not None, replies  # searched in the FAQ
    assert state["rating"] is None and state["pending_offer"] != "rating"
    assert not replies[0]["text"].startswith(("Your request has been resolved", "Thank you for"))


@pytest.mark.parametrize(
    "question", ["thanks. also how do I return a jacket?", "好的，那退款多久能到账"]
)
def test_a_question_wrapped_in_courtesy_is_answered(assistant, question):
    sender = new_sender()
    replies = assistant.send(question, sender)
    assert slots(assistant, sender)["faq_decision"] in ("answer", "clarify"), replies


@pytest.mark.parametrize("payload", ["/get_started", "/start", "/greet"])
def test_start_payloads_of_chat_clients_greet(assistant, payload):
    sender = new_sender()
    assert assistant.send(payload, sender)[0]["text"].startswith("Hi!")
    assert slots(assistant, sender)["not_found_in_a_row"] is None  # not an unanswered question


def test_no_with_a_question_after_an_answer_answers_it(assistant, faq):
    sender = new_sender()
    assistant.send("How can I track my package?", sender)
    assert slots(assistant, sender)["pending_offer"] == "feedback"
    assistant.send("no, I meant how long does a refund take", sender)
    state = slots(assistant, sender)
    assert state["handoff_ticket"] is None  # not taken as "did not help"
    assert state["faq_decision"] in ("answer", "clarify")
