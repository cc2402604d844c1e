"""``action_answer_faq``: search the FAQ index and answer, clarify, or say it found nothing."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from functools import cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.database import database
from actions.escalation import escalate
from bot.models import EscalationReason
from faq_index import Decision, FaqEntry, FaqSearcher, QueryError, SearchResult, SearchSettings

log = logging.getLogger(__name__)

CLARIFY_OPTIONS = 3
# Ask "did this help?" after the first answer, then after every third answer at most.
FEEDBACK_PROMPT_EVERY = 3


_searcher_lock = threading.Lock()


@cache
def _load_searcher() -> FaqSearcher:
    settings = SearchSettings()
    searcher = FaqSearcher(settings.index_dir, settings)
    searcher.watch()
    log.info("FAQ index %s loaded from %s", searcher.version, settings.index_dir)
    return searcher


def faq_searcher() -> FaqSearcher:
    """The process-wide searcher; follows newly published index versions."""
    with _searcher_lock:
        return _load_searcher()


def _preload() -> None:
    try:
        faq_searcher()
    except Exception:
        log.exception("cannot load the FAQ index; questions will fail until it is built")


# rasa_sdk imports this module in its main process and again in the Sanic worker that serves
# requests; load the model and index in the worker right away, so that the first customer does
# not wait for them.
if os.environ.get("SANIC_WORKER_NAME"):
    threading.Thread(target=_preload, name="faq-preload", daemon=True).start()


def choice_payload(entry_id: str) -> str:
    return "/choose_faq" + json.dumps({"faq_choice": entry_id})


def answer_text(entry: FaqEntry, language: str) -> str:
    _, localized = entry.localized(language)
    return "\n".join([localized.answer, *entry.links])


def clarify_options(result: SearchResult) -> list[dict[str, Any]]:
    """The top 2-3 candidates, dropping those far behind the best one."""
    best = result.matches[0].score
    kept = [m for m in result.matches[:CLARIFY_OPTIONS] if m.score >= 0.75 * best]
    return [
        {"id": m.id, "score": round(m.score, 4)}
        for m in (kept if len(kept) >= 2 else result.matches[:2])
    ]


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = tracker.get_slot("language") or "en"
        searcher = faq_searcher()
        choice = tracker.get_slot("faq_choice")
        if tracker.get_intent_of_latest_message() == "choose_faq" and choice:
            return self._answer_choice(dispatcher, tracker, searcher, choice, language)

        try:
            result = await asyncio.to_thread(
                searcher.search, tracker.latest_message.get("text") or ""
            )
        except QueryError as error:
            log.info("query not searched: %s", error)
            dispatcher.utter_message(response="utter_rephrase")
            return [SlotSet("faq_decision", None)]

        if result.decision is Decision.ANSWER:
            top = result.matches[0]
            return self._answer(
                dispatcher, tracker, searcher.index.entry(top.id), top.score, language
            )
        if result.decision is Decision.CLARIFY:
            options = clarify_options(result)
            buttons = [
                {
                    "title": searcher.index.entry(o["id"]).localized(language)[1].questions[0],
                    "payload": choice_payload(o["id"]),
                }
                for o in options
            ]
            buttons.append(
                {"title": "都不是" if language == "zh" else "None of these", "payload": "/deny"}
            )
            dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
            return [
                SlotSet("faq_decision", Decision.CLARIFY.value),
                SlotSet("faq_id", None),
                SlotSet("faq_category", None),
                SlotSet("faq_score", options[0]["score"]),
                SlotSet("faq_candidates", options),
                SlotSet("pending_offer", "clarify"),
            ]
        best = result.matches[0].score if result.matches else 0.0
        not_found = int(tracker.get_slot("not_found_in_a_row") or 0) + 1
        found_nothing = [
            SlotSet("faq_decision", Decision.ESCALATE.value),
            SlotSet("faq_id", None),
            SlotSet("faq_category", None),
            SlotSet("faq_score", round(best, 4)),
            SlotSet(
                "faq_candidates", [{"id": m.id, "score": round(m.score, 4)} for m in result.matches]
            ),
        ]
        if not_found >= database()[1].escalate_after_not_found:
            return found_nothing + await escalate(dispatcher, tracker, EscalationReason.NOT_FOUND)
        dispatcher.utter_message(response="utter_not_found")
        return [
            *found_nothing,
            SlotSet("pending_offer", "human"),
            SlotSet("not_found_in_a_row", float(not_found)),
        ]

    def _answer_choice(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        searcher: FaqSearcher,
        choice: str,
        language: str,
    ) -> list[EventType]:
        offered = {c["id"]: c["score"] for c in tracker.get_slot("faq_candidates") or []}
        try:
            entry = searcher.index.entry(choice)
        except KeyError:
            dispatcher.utter_message(response="utter_not_found")
            return [SlotSet("faq_choice", None), SlotSet("pending_offer", "human")]
        events = self._answer(dispatcher, tracker, entry, offered.get(choice), language)
        return [SlotSet("faq_choice", None), *events]

    def _answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        entry: FaqEntry,
        score: float | None,
        language: str,
    ) -> list[EventType]:
        dispatcher.utter_message(text=answer_text(entry, language))
        events: list[EventType] = [
            SlotSet("faq_decision", Decision.ANSWER.value),
            SlotSet("faq_id", entry.id),
            SlotSet("faq_category", entry.category),
            SlotSet("faq_score", None if score is None else round(score, 4)),
            SlotSet("faq_candidates", None),
            SlotSet("faq_feedback", None),
            SlotSet("not_found_in_a_row", 0.0),
        ]
        since_prompt = tracker.get_slot("answers_since_feedback_prompt")
        if since_prompt is None or since_prompt + 1 >= FEEDBACK_PROMPT_EVERY:
            dispatcher.utter_message(response="utter_ask_feedback")
            events += [
                SlotSet("answers_since_feedback_prompt", 0.0),
                SlotSet("pending_offer", "feedback"),
            ]
        else:
            events += [
                SlotSet("answers_since_feedback_prompt", since_prompt + 1),
                SlotSet("pending_offer", None),
            ]
        return events
