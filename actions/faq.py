"""``action_answer_faq``: search the FAQ index and answer, clarify, or say it found nothing."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from functools import cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.escalation import escalate
from actions.services import ServiceAction, Services
from bot.domain.dialogue.courtesy import question_in
from bot.domain.dialogue.decisions import hand_over_when_not_found, settle
from faq_index import Decision, FaqEntry, FaqSearcher, QueryError, SearchResult, SearchSettings
from vocabulary import EscalationReason, Offer, Slot, base_language

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
    """The process-wide searcher; follows newly published index versions. The first call
    loads the embedding model and the index (seconds): from async code, use
    :func:`searcher_off_the_loop`."""
    with _searcher_lock:
        return _load_searcher()


async def searcher_off_the_loop() -> FaqSearcher:
    """:func:`faq_searcher` for async code: until the searcher is loaded, it is loaded (or
    waited for) in a thread, so that the event loop keeps serving other requests meanwhile."""
    if _load_searcher.cache_info().currsize:
        return faq_searcher()
    return await asyncio.to_thread(faq_searcher)


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
    """The answer to send, with the entry's links, in the reply locale ``language``.

    For ``zh-TW`` and ``zh-HK`` that is the entry's own ``zh-Hant`` answer when it has one,
    else its Simplified answer in Taiwan's or Hong Kong's characters and words (OpenCC's
    ``s2twp`` / ``s2hk``); an entry without the language answers in the other one.
    """
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


async def answer_question(
    services: Services,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    text: str,
    *,
    if_not_found: str | None = None,
) -> list[EventType]:
    """Search the FAQ for the question in ``text`` and answer, clarify or say it found nothing.

    Courtesy around the question is left out of the search ("thanks. also how do I return a
    jacket?"); a message that is only courtesy gets "anything else?". With ``if_not_found``
    (a response name), a search that finds nothing utters that response instead of "not
    found" and does not count towards the handoff: for greetings and thanks that carry a few
    words more.
    """
    language = tracker.get_slot(Slot.LANGUAGE) or "en"
    question = question_in(text)
    if question is None or question.startswith("/"):  # courtesy, or a button out of context
        dispatcher.utter_message(response=if_not_found or "utter_anything_else")
        return [SlotSet(Slot.PENDING_OFFER, None)]
    searcher = await searcher_off_the_loop()
    try:
        result = await asyncio.to_thread(searcher.search, question)
    except QueryError as error:
        log.info("query not searched: %s", error)
        dispatcher.utter_message(response="utter_rephrase")
        return [SlotSet(Slot.FAQ_DECISION, None)]

    decision = Decision(settle(result.decision.value, tracker.get_intent_of_latest_message()))
    if decision is Decision.ANSWER:
        top = result.matches[0]
        return _answer(dispatcher, tracker, searcher.index.entry(top.id), top.score, language)
    if decision is Decision.CLARIFY:
        return _clarify(dispatcher, searcher, result, language)
    if if_not_found is not None:
        dispatcher.utter_message(response=if_not_found)
        return [SlotSet(Slot.PENDING_OFFER, None)]
    best = result.matches[0].score if result.matches else 0.0
    not_found = int(tracker.get_slot(Slot.NOT_FOUND_IN_A_ROW) or 0) + 1
    found_nothing = [
        SlotSet(Slot.FAQ_DECISION, Decision.ESCALATE.value),
        SlotSet(Slot.FAQ_ID, None),
        SlotSet(Slot.FAQ_CATEGORY, None),
        SlotSet(Slot.FAQ_SCORE, round(best, 4)),
        SlotSet(
            Slot.FAQ_CANDIDATES,
            [{"id": m.id, "score": round(m.score, 4)} for m in result.matches],
        ),
    ]
    if hand_over_when_not_found(not_found, services.settings.handoff.escalate_after_not_found):
        return found_nothing + await escalate(
            services, dispatcher, tracker, EscalationReason.NOT_FOUND
        )
    dispatcher.utter_message(response="utter_not_found")
    return [
        *found_nothing,
        SlotSet(Slot.PENDING_OFFER, Offer.HUMAN.value),
        SlotSet(Slot.NOT_FOUND_IN_A_ROW, float(not_found)),
    ]


def _clarify(
    dispatcher: CollectingDispatcher, searcher: FaqSearcher, result: SearchResult, language: str
) -> list[EventType]:
    options = clarify_options(result)
    buttons = [
        {
            "title": searcher.index.entry(o["id"]).localized(language)[1].questions[0],
            "payload": choice_payload(o["id"]),
        }
        for o in options
    ]
    buttons.append(
        {
            "title": "都不是" if base_language(language) == "zh" else "None of these",
            "payload": "/deny",
        }
    )
    dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
    return [
        SlotSet(Slot.FAQ_DECISION, Decision.CLARIFY.value),
        SlotSet(Slot.FAQ_ID, None),
        SlotSet(Slot.FAQ_CATEGORY, None),
        SlotSet(Slot.FAQ_SCORE, options[0]["score"]),
        SlotSet(Slot.FAQ_CANDIDATES, options),
        SlotSet(Slot.PENDING_OFFER, Offer.CLARIFY.value),
    ]


class ActionAnswerFaq(ServiceAction):
    """Answers the latest message from the FAQ, or the entry a did-you-mean button chose."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        choice = tracker.get_slot(Slot.FAQ_CHOICE)
        if tracker.get_intent_of_latest_message() == "choose_faq" and choice:
            language = tracker.get_slot(Slot.LANGUAGE) or "en"
            searcher = await searcher_off_the_loop()
            return _answer_choice(dispatcher, tracker, searcher, choice, language)
        text = tracker.latest_message.get("text") or ""
        return await answer_question(self.services, dispatcher, tracker, text)


def _answer_choice(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    searcher: FaqSearcher,
    choice: str,
    language: str,
) -> list[EventType]:
    offered = {c["id"]: c["score"] for c in tracker.get_slot(Slot.FAQ_CANDIDATES) or []}
    try:
        entry = searcher.index.entry(choice)
    except KeyError:
        dispatcher.utter_message(response="utter_not_found")
        return [SlotSet(Slot.FAQ_CHOICE, None), SlotSet(Slot.PENDING_OFFER, Offer.HUMAN.value)]
    events = _answer(dispatcher, tracker, entry, offered.get(choice), language)
    return [SlotSet(Slot.FAQ_CHOICE, None), *events]


def _answer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    entry: FaqEntry,
    score: float | None,
    language: str,
) -> list[EventType]:
    """Answer with ``entry``. Whatever the customer says next about it is feedback on it
    (``pending_offer`` feedback), asked for or not; the question is asked now and then."""
    dispatcher.utter_message(text=answer_text(entry, language))
    events: list[EventType] = [
        SlotSet(Slot.FAQ_DECISION, Decision.ANSWER.value),
        SlotSet(Slot.FAQ_ID, entry.id),
        SlotSet(Slot.FAQ_CATEGORY, entry.category),
        SlotSet(Slot.FAQ_SCORE, None if score is None else round(score, 4)),
        SlotSet(Slot.FAQ_CANDIDATES, None),
        SlotSet(Slot.FAQ_FEEDBACK, None),
        SlotSet(Slot.NOT_FOUND_IN_A_ROW, 0.0),
        SlotSet(Slot.PENDING_OFFER, Offer.FEEDBACK.value),
    ]
    since_prompt = tracker.get_slot(Slot.ANSWERS_SINCE_FEEDBACK_PROMPT)
    if since_prompt is None or since_prompt + 1 >= FEEDBACK_PROMPT_EVERY:
        dispatcher.utter_message(response="utter_ask_feedback")
        events.append(SlotSet(Slot.ANSWERS_SINCE_FEEDBACK_PROMPT, 0.0))
    else:
        events.append(SlotSet(Slot.ANSWERS_SINCE_FEEDBACK_PROMPT, since_prompt + 1))
    return events
