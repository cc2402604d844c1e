"""Agents' answers become FAQ entries: stored, merged with the source files, searchable."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import func, select

from bot.domain import knowledge
from bot.domain.knowledge import Addition, KnowledgeError, add_to_faq, merged_entries, rebuild_index
from bot.store.models import FaqAddition
from faq_index import FaqSearcher, SearchSettings


@pytest.fixture()
def index_settings(tmp_path, monkeypatch, embedder) -> SearchSettings:
    monkeypatch.setenv("FAQ_INDEX_DIR", str(tmp_path / "index"))
    return SearchSettings()


async def test_a_new_question_for_an_entry_is_answered_after_the_rebuild(
    sessions, faq_dir, index_settings
):
    question = "is my parcel stuck at customs"
    async with sessions() as session, session.begin():
        await add_to_faq(session, [faq_dir], Addition("variant", "order_track", "en", question))
    result = await rebuild_index(sessions, [faq_dir], index_settings)
    assert result.built
    searcher = FaqSearcher(index_settings.index_dir, index_settings)
    entry = searcher.index.entry("order_track")
    assert entry.texts["en"].questions[-1] == question
    assert searcher.search(question).matches[0].id == "order_track"
    # The same FAQ again: nothing is embedded again.
    assert not (await rebuild_index(sessions, [faq_dir], index_settings)).built


async def test_a_new_entry_joins_the_faq(sessions, faq_dir, index_settings):
    addition = Addition(
        "entry",
        "gift_wrap",
        "en",
        "Can you gift wrap my order?",
        answer="Yes: tick 'gift wrap' at checkout; it costs 5 yuan.",
        category="orders",
    )
    async with sessions() as session, session.begin():
        await add_to_faq(session, [faq_dir], addition)
    await rebuild_index(sessions, [faq_dir], index_settings)
    searcher = FaqSearcher(index_settings.index_dir, index_settings)
    result = searcher.search("do you offer gift wrapping")
    assert result.matches[0].id == "gift_wrap"
    async with sessions() as session:
        ids = [e.id for e in await merged_entries(session, [faq_dir])]
    assert ids[-1] == "gift_wrap" and "order_track" in ids


@pytest.mark.parametrize(
    ("addition", "message"),
    [
        (Addition("variant", "no_such_entry", "en", "hello?"), "no entry 'no_such_entry'"),
        (Addition("entry", "order_track", "en", "q?", answer="a"), "exists already"),
        (Addition("entry", "bad id!", "en", "q?", answer="a"), "invalid id"),
        (Addition("entry", "new_one", "en", "q?", answer=" "), "needs an answer"),
        (Addition("variant", "order_track", "fr", "où est mon colis"), "zh or en"),
        (Addition("variant", "order_track", "en", "   "), "question is empty"),
        (Addition("other", "order_track", "en", "q?"), "kind is"),
    ],
)
async def test_a_bad_addition_is_refused_and_stores_nothing(sessions, faq_dir, addition, message):
    with pytest.raises(KnowledgeError, match=message):
        async with sessions() as session, session.begin():
            await add_to_faq(session, [faq_dir], addition)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FaqAddition)) == 0


async def test_the_source_files_are_parsed_off_the_event_loop(sessions, faq_dir, monkeypatch):
    # The parser waits until a coroutine has run meanwhile: on the event loop it would wait
    # in vain (nothing else runs while it blocks), in a thread it returns at once.
    other_coroutine_ran = threading.Event()
    seen: list[bool] = []

    def slow_parse(paths):
        seen.append(other_coroutine_ran.wait(timeout=10))
        return knowledge_load_sources(paths)

    async def other_coroutine() -> None:
        other_coroutine_ran.set()

    knowledge_load_sources = knowledge.load_sources
    monkeypatch.setattr(knowledge, "load_sources", slow_parse)
    async with sessions() as session:
        entries, _ = await asyncio.gather(merged_entries(session, [faq_dir]), other_coroutine())
    assert seen == [True]
    assert "order_track" in [e.id for e in entries]
