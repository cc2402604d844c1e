"""What the assistant does with a customer's reply, given what it last offered.

Which action runs for which intent is said by the rules (``data/rules.yml``): a rating, a yes or
no and "that helped" only reach the actions below when the bot asked for them
(``pending_offer``); anywhere else they are searched as questions. Within those actions, these
functions decide; the actions only carry the decision out.

>>> reply_to_offer(Offer.HUMAN, yes=True, text="yes please")
Step(kind=<StepKind.ESCALATE: 'escalate'>, reason=<EscalationReason.REQUESTED: 'requested'>, question=None, feedback=None, rating=None)
>>> reply_to_offer(Offer.CLARIFY, yes=False, text="no, I meant the refund").question
'the refund'
>>> rating_in("5 stars"), rating_in("打4分"), rating_in("it's been 10 days")
(5, 4, None)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.domain.dialogue.courtesy import question_in
from vocabulary import EscalationReason, Offer

RATING_ENTITY = "rating"


class StepKind(str, Enum):
    ESCALATE = "escalate"  # open a ticket (``reason``)
    ANSWER_QUESTION = "answer_question"  # search the FAQ for ``question``
    THANK_FOR_FEEDBACK = "thank_for_feedback"
    ANYTHING_ELSE = "anything_else"  # "OK. Is there anything else I can help with?"
    RECORD_RATING = "record_rating"
    ASK_RATING_AGAIN = "ask_rating_again"


@dataclass(frozen=True)
class Step:
    kind: StepKind
    reason: EscalationReason | None = None
    question: str | None = None
    feedback: str | None = None  # "helpful" / "not_helpful", the verdict on the last answer
    rating: int | None = None


def reply_to_offer(offer: str | None, yes: bool, text: str) -> Step:
    """A yes or no to what the bot offered; a question in the same message wins.

    "no, I meant the refund" after a did-you-mean, and "ok so how long does the refund take"
    after an answer, are new questions: the yes/no only introduces them.
    """
    question = question_in(text or "")
    if question and not question.startswith("/"):
        return Step(StepKind.ANSWER_QUESTION, question=question)
    if offer == Offer.HUMAN and yes:
        return Step(StepKind.ESCALATE, reason=EscalationReason.REQUESTED)
    if offer == Offer.FEEDBACK:
        if yes:
            return Step(StepKind.THANK_FOR_FEEDBACK, feedback="helpful")
        return Step(StepKind.ESCALATE, reason=EscalationReason.NOT_HELPFUL, feedback="not_helpful")
    if offer == Offer.CLARIFY and not yes:
        return Step(StepKind.ESCALATE, reason=EscalationReason.CLARIFICATION_REFUSED)
    return Step(StepKind.ANYTHING_ELSE)


def feedback_step(helpful: bool, text: str) -> Step:
    """The verdict on the last answer; "didn't help, how do I get a refund?" asks again."""
    step = reply_to_offer(Offer.FEEDBACK, yes=helpful, text="")
    question = question_in(text or "")
    if question and not question.startswith("/") and _longer_than_verdict(question):
        return Step(StepKind.ANSWER_QUESTION, question=question, feedback=step.feedback)
    return step


_VERDICT_WORDS = re.compile(
    r"\b(?:that|this|it|was|is|didn'?t|did|not|no|very|so|really|helped|help|helpful|useful"
    r"|useless|answer|solved|problem|thanks|great|at|all|the|wrong|right|clear|now)\b|"
    r"[有没沒用帮幫助解决決了明白懂不这這个個回答清楚很非常]",
    re.IGNORECASE,
)


def _longer_than_verdict(question: str) -> bool:
    return len(_VERDICT_WORDS.sub(" ", question).split()) >= 3


_RATING_TEXT = re.compile(
    r"^\s*(?:i(?:'d| would)? (?:give|rate) (?:it|you|this)?\s*|rating:?\s*|打|给|給|评分|評分)?"
    r"(\d{1,3})\s*(?:/\s*\d+|out of \d+|stars?|分|星|颗星|顆星)?\s*[.!。！]?\s*$",
    re.IGNORECASE,
)
_RATING_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def rating_in(text: str, entities: Iterable[Mapping[str, Any]] = ()) -> int | None:
    """The 1-5 rating a reply gives, when the reply is a rating and nothing else.

    A rating button sends it as an entity; typed, it is a bare number ("4", "5 stars", "打5分").
    Numbers inside questions ("it's been 10 days", "I ordered 3 shirts") are not ratings.
    """
    for entity in entities:
        if entity.get("entity") == RATING_ENTITY:
            try:
                value = int(float(entity.get("value")))  # type: ignore[arg-type]  # None: TypeError below
            except (TypeError, ValueError):
                return None
            return value if 1 <= value <= 5 else None
    if (text or "").startswith("/"):
        return None
    match = _RATING_TEXT.match(text or "")
    if match:
        value = int(match.group(1))
        return value if 1 <= value <= 5 else None
    word = (text or "").strip().lower().rstrip(".!")
    return _RATING_WORDS.get(word)


def rating_step(text: str, entities: Iterable[Mapping[str, Any]] = ()) -> Step:
    """A reply to "How would you rate the help you got?"."""
    rating = rating_in(text, entities)
    if rating is not None:
        return Step(StepKind.RECORD_RATING, rating=rating)
    if _RATING_TEXT.match(text or "") or (text or "").startswith("/"):  # "9 stars", "10/10"
        return Step(StepKind.ASK_RATING_AGAIN)
    question = question_in(text or "")
    if question and not question.startswith("/"):
        return Step(StepKind.ANSWER_QUESTION, question=question)
    return Step(StepKind.ASK_RATING_AGAIN)


def hand_over_when_not_found(not_found_in_a_row: int, limit: int) -> bool:
    """Whether the bot's latest "not found" should become a handoff (after ``limit`` in a row)."""
    return not_found_in_a_row >= limit


OUT_OF_SCOPE_INTENT = "out_of_scope"


def settle(search_decision: str, intent: str | None) -> str:
    """The FAQ search's decision, given what NLU made of the message.

    A message NLU reads as something the shop does not cover ("tell me a joke", "明天天气怎么样")
    gets no did-you-mean: the entries on the buttons would be ones the customer did not ask
    about. A confident answer still stands, because the FAQ knows its own entries best.

    >>> settle("clarify", "out_of_scope"), settle("answer", "out_of_scope"), settle("clarify", "ask_question")
    ('escalate', 'answer', 'clarify')
    """
    if intent == OUT_OF_SCOPE_INTENT and search_decision == "clarify":
        return "escalate"
    return search_decision
