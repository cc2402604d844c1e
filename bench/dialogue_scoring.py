"""How the conversation benchmark judges a conversation: pure functions, no servers.

- :func:`turns` cuts a Rasa tracker's events into turns; :func:`observe` says what the bot did
  in one turn (answered an entry, clarified, found nothing, handed over, greeted, ...), from
  the slots the actions set and the actions and responses Rasa ran in it.
- :func:`classify` compares that with the expected outcome: right, right entry among the
  buttons, wrong answer, needless "not found", or other; :func:`judge` does both for an item.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.dialogue_data import ANSWER, Expectation, Item
from faq_index.chinese import script_counts

# Which observed kinds satisfy an expectation other than an answer.
ACCEPTED = {
    "not_answered": {"not_found", "handoff", "default"},
    "handoff": {"handoff"},
    "greet": {"greet"},
    "welcome": {"welcome"},
    "goodbye": {"goodbye"},
    "acknowledged": {"acknowledged", "welcome"},
    "feedback_helpful": {"feedback_helpful"},
}
# From the customer's side, each of these means "the bot could not help me".
NOT_FOUND_KINDS = {"not_found", "handoff", "default"}

RIGHT, BUTTONS, WRONG, NEEDLESS, OTHER = (
    "right",
    "buttons",
    "wrong_answer",
    "needless_not_found",
    "other",
)
CATEGORIES = (RIGHT, BUTTONS, WRONG, NEEDLESS, OTHER)

CHOICE_PREFIX = "/choose_faq"


@dataclass(frozen=True)
class Observation:
    """What the bot did in one turn."""

    kind: str  # answer, clarify, not_found, handoff, greet, welcome, ... (see observe)
    faq_id: str | None = None
    offered: tuple[str, ...] = ()  # the entries of a clarification's buttons
    candidates: tuple[tuple[str, float], ...] = ()  # the faq_candidates slot, as set
    score: float | None = None
    intent: str | None = None
    intent_confidence: float | None = None
    entities: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    responses: tuple[str, ...] = ()
    replies: tuple[str, ...] = ()

    def signature(self) -> str:
        """The outcome in one string, to compare channels: ``answer:order_track``, ..."""
        if self.kind == "answer":
            return f"answer:{self.faq_id}"
        if self.kind == "clarify":
            return f"clarify:{','.join(self.offered)}"
        return self.kind

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "faq_id": self.faq_id,
            "offered": list(self.offered),
            "candidates": [list(c) for c in self.candidates],
            "score": self.score,
            "intent": self.intent,
            "intent_confidence": self.intent_confidence,
            "entities": list(self.entities),
            "actions": list(self.actions),
            "responses": list(self.responses),
            "replies": list(self.replies),
        }


def turns(events: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """The tracker's events cut into turns, each starting with its user event (events
    before the first user message, such as the session start, are dropped)."""
    cut: list[list[Mapping[str, Any]]] = []
    for event in events:
        if event.get("event") == "user":
            cut.append([event])
        elif cut:
            cut[-1].append(event)
    return cut


def turn_complete(events: Sequence[Mapping[str, Any]], user_messages: int) -> bool:
    """Whether the tracker holds ``user_messages`` messages and the bot finished the last
    turn (it listens again)."""
    cut = turns(events)
    if len(cut) < user_messages or len(cut[-1]) < 2:
        return False
    last = cut[-1][-1]
    return last.get("event") == "action" and last.get("name") == "action_listen"


def _choice(payload: str) -> str | None:
    if not payload.startswith(CHOICE_PREFIX):
        return None
    try:
        return json.loads(payload[len(CHOICE_PREFIX) :]).get("faq_choice")
    except (ValueError, AttributeError):
        return None


def _candidates(value: object) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, list):
        return ()
    return tuple(
        (str(c.get("id")), float(c.get("score") or 0.0)) for c in value if isinstance(c, dict)
    )


def _kind(slots: Mapping[str, Any], said: set[str], responses: Sequence[str], replies: int) -> str:
    handed_over = any(
        r.startswith("utter_handoff_") and not r.startswith("utter_handoff_ack_") for r in responses
    )
    decision = slots.get("faq_decision", "unset")
    feedback = slots.get("faq_feedback")
    for kind, happened in (
        ("handoff", bool(slots.get("handoff_ticket")) or handed_over),
        ("answer", decision == "answer" and bool(slots.get("faq_id"))),
        ("clarify", decision == "clarify"),
        ("not_found", decision == "escalate"),
        ("rating_recorded", bool(said & {"action_record_rating", "utter_rating_thanks"})),
        ("feedback_helpful", feedback == "helpful"),
        ("feedback_not_helpful", feedback == "not_helpful"),
        ("greet", bool(said & {"action_greet", "utter_greet", "utter_greet_returning"})),
        ("welcome", "utter_you_are_welcome" in said),
        ("goodbye", "utter_goodbye" in said),
        ("acknowledged", "utter_anything_else" in said),
        ("default", "utter_default" in said),
        ("rephrase", "utter_rephrase" in said or decision is None),
        ("relayed", any(r.startswith("utter_handoff_ack_") for r in responses)),
        ("silent", replies == 0),
    ):
        if happened:
            return kind
    return "other"


def observe(turn: Sequence[Mapping[str, Any]]) -> Observation:
    """What the bot did in one turn (a user event and what followed it).

    The kind is the first of: ``handoff`` (a ticket opened), ``answer``, ``clarify``,
    ``not_found`` (the FAQ decision, as set in this turn), ``rating_recorded``,
    ``feedback_helpful``/``feedback_not_helpful``, ``greet``, ``welcome``, ``goodbye``,
    ``acknowledged`` ("OK, anything else?"), ``default`` ("I didn't get that"), ``rephrase``,
    ``relayed`` (during a handoff), ``silent`` (no reply), ``other``.
    """
    parse = (turn[0].get("parse_data") or {}) if turn else {}
    intent = parse.get("intent") or {}
    slots: dict[str, Any] = {}
    actions: list[str] = []
    responses: list[str] = []
    replies: list[str] = []
    offered: list[str] = []
    for event in turn[1:]:
        kind = event.get("event")
        if kind == "slot":
            slots[event.get("name")] = event.get("value")
        elif kind == "action" and event.get("name") != "action_listen":
            actions.append(str(event.get("name")))
        elif kind == "bot":
            replies.append(event.get("text") or "")
            responses.append((event.get("metadata") or {}).get("utter_action") or "")
            for button in (event.get("data") or {}).get("buttons") or []:
                choice = _choice(str(button.get("payload") or ""))
                if choice:
                    offered.append(choice)
    candidates = _candidates(slots.get("faq_candidates"))
    kind = _kind(slots, set(actions) | set(responses), responses, len(replies))
    if kind == "clarify" and not offered:
        offered = [c[0] for c in candidates]
    score = slots.get("faq_score")
    return Observation(
        kind=kind,
        faq_id=slots.get("faq_id") if kind == "answer" else None,
        offered=tuple(offered) if kind == "clarify" else (),
        candidates=candidates,
        score=float(score) if isinstance(score, int | float) else None,
        intent=intent.get("name"),
        intent_confidence=intent.get("confidence"),
        entities=tuple(f"{e.get('entity')}={e.get('value')}" for e in parse.get("entities") or []),
        actions=tuple(actions),
        responses=tuple(responses),
        replies=tuple(replies),
    )


def classify(expect: Expectation, seen: Observation) -> str:
    """One of :data:`CATEGORIES`: what the customer got against what they should have got."""
    if expect.kind == ANSWER:
        if seen.kind == "answer":
            return RIGHT if seen.faq_id in expect.entries else WRONG
        if seen.kind == "clarify":
            return BUTTONS if set(expect.entries) & set(seen.offered) else OTHER
        return NEEDLESS if seen.kind in NOT_FOUND_KINDS else OTHER
    if seen.kind in ACCEPTED[expect.kind]:
        return RIGHT
    return WRONG if seen.kind == "answer" else OTHER


def context_reached(after: Expectation, seen: Observation) -> bool:
    """Whether the turn before the judged one set up the context the item is about (for
    ``not_answered``: the bot said it found nothing, and so offered a person)."""
    if after.kind == "not_answered":
        return seen.kind == "not_found"
    return classify(after, seen) == RIGHT


def failure_kind(expect: Expectation, seen: Observation) -> str:
    """A short name for what went wrong, to count failures of the same kind."""
    category = classify(expect, seen)
    if expect.kind == ANSWER and seen.kind == "answer":
        what = "another entry"
    elif category == BUTTONS:
        what = "clarify with the entry among the buttons"
    elif expect.kind == ANSWER and seen.kind == "clarify":
        what = "clarify without the entry"
    elif seen.kind == "clarify":
        what = "clarify"
    else:
        what = seen.kind
    expected = "an entry" if expect.kind == ANSWER else expect.kind
    return f"expected {expected}, got {what} (NLU: {seen.intent})"


@dataclass
class Result:
    item: Item
    seen: Observation
    category: str
    latencies: list[float] = field(default_factory=list)  # seconds, one per message sent
    earlier: list[Observation] = field(default_factory=list)  # the turns before the judged one

    @property
    def context_reached(self) -> bool | None:
        """None when the item names no context (``after``)."""
        if self.item.after is None:
            return None
        return bool(self.earlier) and context_reached(self.item.after, self.earlier[-1])

    def failure_kind(self) -> str:
        kind = failure_kind(self.item.expect, self.seen)
        if self.context_reached is False:
            before = self.earlier[-1].kind if self.earlier else "nothing"
            return f"{kind}; context not reached (the turn before: {before})"
        return kind

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.item.id,
            "group": self.item.group,
            "split": self.item.split,
            "lang": self.item.lang,
            "turns": list(self.item.turns),
            "expect": self.item.expect.describe(),
            "category": self.category,
            "context_reached": self.context_reached,
            "latencies_ms": [round(s * 1000, 1) for s in self.latencies],
            "seen": self.seen.as_dict(),
            "earlier": [o.as_dict() for o in self.earlier],
        }


def judge(item: Item, events: Sequence[Mapping[str, Any]], latencies: Sequence[float]) -> Result:
    """The result of one item from its conversation's tracker events: the last turn is judged
    (``refused`` when the tracker holds fewer messages than were sent: a channel refused one)."""
    observed = [observe(turn) for turn in turns(events)]
    if len(observed) < len(item.turns):
        return Result(item, Observation("refused"), OTHER, list(latencies), observed)
    seen = observed[-1]
    return Result(item, seen, classify(item.expect, seen), list(latencies), observed[:-1])


CJK = re.compile(r"[\u3400-\u9fff]")


def reply_fits(lang: str, replies: Sequence[str]) -> bool | None:
    """Whether the bot's replies are in the customer's language, and for Taiwan and Hong Kong
    in Traditional characters (None: no text to judge)."""
    text = "".join(replies)
    if not text.strip():
        return None
    chinese = CJK.search(text) is not None
    if lang == "en":
        return not chinese
    if lang in ("zh-TW", "zh-HK"):
        return chinese and script_counts(text).simplified == 0
    return chinese


def failure_kinds(results: Sequence[Result]) -> list[tuple[str, list[Result]]]:
    """Failures grouped by :func:`failure_kind`, the most frequent first."""
    kinds: dict[str, list[Result]] = {}
    for result in results:
        if result.category != RIGHT:
            kinds.setdefault(result.failure_kind(), []).append(result)
    return sorted(kinds.items(), key=lambda pair: (-len(pair[1]), pair[0]))
