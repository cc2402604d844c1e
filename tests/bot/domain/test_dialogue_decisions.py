"""What a reply means given the bot's last offer: yes/no, feedback, ratings, handoffs."""

from __future__ import annotations

import pytest

from bot.domain.dialogue.decisions import (
    StepKind,
    feedback_step,
    hand_over_when_not_found,
    rating_in,
    rating_step,
    reply_to_offer,
    settle,
)
from vocabulary import EscalationReason, Offer


@pytest.mark.parametrize(
    ("offer", "yes", "kind", "reason", "feedback"),
    [
        (Offer.HUMAN, True, StepKind.ESCALATE, EscalationReason.REQUESTED, None),
        (Offer.HUMAN, False, StepKind.ANYTHING_ELSE, None, None),
        (Offer.FEEDBACK, True, StepKind.THANK_FOR_FEEDBACK, None, "helpful"),
        (Offer.FEEDBACK, False, StepKind.ESCALATE, EscalationReason.NOT_HELPFUL, "not_helpful"),
        (Offer.CLARIFY, False, StepKind.ESCALATE, EscalationReason.CLARIFICATION_REFUSED, None),
        (Offer.CLARIFY, True, StepKind.ANYTHING_ELSE, None, None),
        (None, True, StepKind.ANYTHING_ELSE, None, None),
        (None, False, StepKind.ANYTHING_ELSE, None, None),
    ],
)
def test_a_bare_yes_or_no_answers_the_offer(offer, yes, kind, reason, feedback):
    step = reply_to_offer(offer, yes=yes, text="yes" if yes else "no")
    assert (step.kind, step.reason, step.feedback) == (kind, reason, feedback)


def test_the_none_of_these_button_refuses_the_clarification():
    step = reply_to_offer(Offer.CLARIFY, yes=False, text="/deny")
    assert step.reason is EscalationReason.CLARIFICATION_REFUSED


@pytest.mark.parametrize(
    ("offer", "yes", "text", "question"),
    [
        (Offer.CLARIFY, False, "no, I meant the refund", "the refund"),
        (
            Offer.FEEDBACK,
            True,
            "ok so how long does the refund take",
            "how long does the refund take",
        ),
        (Offer.HUMAN, False, "不用了，我想问退货地址在哪", "退货地址在哪"),
    ],
)
def test_a_question_after_the_yes_or_no_is_answered_instead(offer, yes, text, question):
    step = reply_to_offer(offer, yes=yes, text=text)
    assert (step.kind, step.question, step.reason) == (StepKind.ANSWER_QUESTION, question, None)


def test_feedback_with_a_new_question_records_the_verdict_and_answers():
    step = feedback_step(helpful=False, text="didn't help, how do I get my money back for order 5?")
    assert step.kind is StepKind.ANSWER_QUESTION and step.feedback == "not_helpful"
    assert "money back" in step.question


@pytest.mark.parametrize(
    "text", ["that didn't help", "not helpful at all", "没有帮助", "/feedback_not_helpful"]
)
def test_a_plain_verdict_is_only_a_verdict(text):
    step = feedback_step(helpful=False, text=text)
    assert (step.kind, step.reason) == (StepKind.ESCALATE, EscalationReason.NOT_HELPFUL)


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("5", 5),
        ("4 stars", 4),
        ("1 out of 5", 1),
        ("I'd rate it 3", 3),
        ("5/5", 5),
        ("five", 5),
        ("打5分", 5),
        ("4分", 4),
        ("给3星", 3),
        ("2星", 2),
    ],
)
def test_typed_ratings(text, rating):
    assert rating_in(text) == rating
    assert rating_step(text).rating == rating


@pytest.mark.parametrize(
    "text",
    [
        "it's been 10 days",
        "I ordered 3 shirts but got 2",
        "已经10天了快递还没到",
        "买了2件想退1件可以吗",
        "5天了还没退款",
        "order 12345",
        "9 stars",
        "0",
        "/rate",
    ],
)
def test_numbers_in_questions_and_out_of_range_are_no_ratings(text):
    assert rating_in(text) is None


def test_a_rating_button_is_read_from_its_entity():
    assert rating_in('/rate{"rating": 4}', [{"entity": "rating", "value": 4}]) == 4
    assert rating_in('/rate{"rating": 7}', [{"entity": "rating", "value": 7}]) is None


def test_replies_to_the_rating_question():
    assert (
        rating_step("it's been 10 days and my parcel is not here").kind is StepKind.ANSWER_QUESTION
    )
    assert rating_step("9 stars").kind is StepKind.ASK_RATING_AGAIN
    assert rating_step("hmm").kind is StepKind.ASK_RATING_AGAIN


def test_the_handoff_comes_after_the_configured_number_of_not_found():
    assert not hand_over_when_not_found(1, 2)
    assert hand_over_when_not_found(2, 2)


def test_off_topic_gets_no_did_you_mean_but_a_confident_answer_stands():
    assert settle("clarify", "out_of_scope") == "escalate"
    assert settle("answer", "out_of_scope") == "answer"
    assert settle("clarify", "ask_question") == "clarify"
    assert settle("escalate", None) == "escalate"
