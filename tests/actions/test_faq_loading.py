"""The FAQ searcher's first load (embedding model and index: seconds) never blocks the loop."""

from __future__ import annotations

import asyncio
import functools
import threading

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import faq
from actions.faq import ActionAnswerFaq, choice_payload
from faq_index import FaqSearcher, SearchSettings


def tracker(text: str, intent: str = "ask_question", **slots) -> Tracker:
    ranked = {"name": intent, "confidence": 1.0}
    message = {"text": text, "intent": ranked, "intent_ranking": [ranked], "metadata": {}}
    return Tracker("customer", slots, message, [], False, None, {}, "action_listen")


def slow_loader(index_dir, other_coroutine_ran: threading.Event, seen: list[bool]):
    """A loader that waits until a coroutine has run meanwhile: on the event loop it would
    wait in vain (nothing else runs while it blocks), in a thread it returns at once."""

    @functools.cache
    def load() -> FaqSearcher:
        seen.append(other_coroutine_ran.wait(timeout=10))
        return FaqSearcher(index_dir, SearchSettings())

    return load


async def answer_beside_another_coroutine(t: Tracker, other_coroutine_ran: threading.Event):
    """Run the action and, concurrently, a coroutine that sets ``other_coroutine_ran``."""

    async def other_coroutine() -> None:
        other_coroutine_ran.set()

    dispatcher = CollectingDispatcher()
    await asyncio.gather(ActionAnswerFaq().run(dispatcher, t, {}), other_coroutine())
    return dispatcher.messages


async def test_the_first_question_loads_the_searcher_off_the_event_loop(small_index, monkeypatch):
    ran, seen = threading.Event(), []
    monkeypatch.setattr(faq, "_load_searcher", slow_loader(small_index, ran, seen))
    t = tracker("How do I reset my password?", language="en")
    messages = await answer_beside_another_coroutine(t, ran)
    assert seen == [True]
    assert "Forgot password" in messages[0]["text"]
    faq.faq_searcher().close()


async def test_a_chosen_entry_loads_the_searcher_off_the_event_loop(small_index, monkeypatch):
    ran, seen = threading.Event(), []
    monkeypatch.setattr(faq, "_load_searcher", slow_loader(small_index, ran, seen))
    t = tracker(choice_payload("invoice"), intent="choose_faq", faq_choice="invoice")
    messages = await answer_beside_another_coroutine(t, ran)
    assert seen == [True]
    assert "e-invoice" in messages[0]["text"]
    faq.faq_searcher().close()


async def test_a_loaded_searcher_is_used_without_a_thread(small_searcher, monkeypatch):
    async def no_thread(*args, **kwargs):
        raise AssertionError("a loaded searcher needs no thread")

    monkeypatch.setattr(faq.asyncio, "to_thread", no_thread)
    assert await faq.searcher_off_the_loop() is small_searcher
