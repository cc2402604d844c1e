"""Traditional Chinese in profiles and the agents' console: the locale is stored, labelled, and
every customer text carries its language; FAQ answers come in the customer's script."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.domain.auth import create_agent
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.console.locales import html_lang, locale_label
from faq_index.chinese import to_traditional
from tests.bot.conftest import PASSWORDS, a_ticket, sign_in
from tests.bot.workers.test_ingestion import bot, drain, publish, slot, timeline, user

TAIWANESE = "web-tw"
QUESTION = "我的包裹到哪裡了"


async def a_taiwanese_customers_ticket(sessions) -> int:
    await publish(
        sessions,
        TAIWANESE,
        [user(QUESTION, channel="socketio"), slot("language", "zh-TW"), bot("您的包裹已出貨。")],
    )
    await drain(sessions)
    return await a_ticket(sessions, TAIWANESE, QUESTION)


async def test_profiles_keep_the_reply_locale(sessions):
    await publish(sessions, "web-hk", [user("我嘅包裹幾時到？"), slot("language", "zh-HK")])
    await publish(sessions, "web-x", [user("hello"), slot("language", "zh-CN")])  # not a locale
    await drain(sessions)
    hong_kong = await timeline(sessions, "web-hk")
    assert hong_kong["language"] == "zh-HK"
    assert hong_kong["interactions"][0]["language"] == "zh-HK"
    assert (await timeline(sessions, "web-x"))["language"] is None


@pytest.fixture()
async def console(sessions, database_url, faq_dir, tmp_path, monkeypatch, embedder):
    monkeypatch.setenv("FAQ_INDEX_DIR", str(tmp_path / "index"))
    async with sessions() as session, session.begin():
        await create_agent(session, "ann", "Ann", PASSWORDS["ann"], "admin")
    settings = Settings(
        database_url=database_url, rasa_port=1, rasa_api_token="unused", faq_sources=faq_dir
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        await sign_in(client, "ann")
        yield client


async def test_the_ticket_page_labels_the_locale_and_marks_the_customers_text(console, sessions):
    ticket_id = await a_taiwanese_customers_ticket(sessions)
    html = await (await console.get(f"/console/tickets/{ticket_id}")).text()
    assert f'<span class="text" lang="zh-TW">{QUESTION}</span>' in html
    assert f'<input name="question" required lang="zh-TW" value="{QUESTION}">' in html
    assert '<dd class="locale">繁體中文（台灣） zh-TW</dd>' in html
    assert 'data-locale="zh-TW"' in html
    assert '<option value="zh" selected>' in html  # "Add to FAQ" in Chinese
    detail = await (await console.get(f"/api/tickets/{ticket_id}")).json()
    assert [(m["text"], m["language"]) for m in detail["transcript"]][:2] == [
        (QUESTION, "zh-TW"),
        ("您的包裹已出貨。", "zh-TW"),
    ]


async def test_the_queue_shows_the_customers_locale(console, sessions):
    await a_taiwanese_customers_ticket(sessions)
    html = await (await console.get("/console/")).text()
    assert '<span class="badge locale" title="繁體中文（台灣） zh-TW">zh-TW</span>' in html
    assert f'<td class="question" lang="zh-TW" data-label="Question">{QUESTION}</td>' in html


async def test_faq_answers_come_in_the_customers_script(console, faq_dir):
    from faq_index import load_sources

    zh = next(e for e in load_sources([faq_dir]) if e.id == "password_reset").texts["zh"]

    async def first(**params):
        response = await console.get("/api/faq/search", params=params)
        assert response.status == 200, await response.text()
        return (await response.json())["results"][0]

    taiwan = await first(q="忘記密碼怎麼辦", locale="zh-TW")
    assert taiwan["id"] == "password_reset" and taiwan["language"] == "zh-TW"
    assert taiwan["answer"] == to_traditional(zh.answer, "zh-TW")
    assert taiwan["question"] == to_traditional(zh.questions[0], "zh-TW")
    hong_kong = await first(q="忘记密码怎么办", locale="zh-HK")  # the customer's, not the query's
    assert hong_kong["answer"] == to_traditional(zh.answer, "zh-HK")
    assert (await first(q="忘記密碼怎麼辦"))["answer"] == taiwan["answer"]  # the query's script
    assert (await first(q="忘記密碼怎麼辦", locale="zh"))["answer"] == zh.answer
    english = await first(q="I forgot my password", locale="zh-TW")
    assert english["language"] == "en"  # an English query: English answers to translate
    refused = await console.get("/api/faq/search", params={"q": "x", "locale": "klingon"})
    assert refused.status == 400


def test_locales_are_labelled_and_marked_for_browsers():
    assert locale_label("zh-TW") == "繁體中文（台灣） zh-TW"
    assert locale_label("zh") == "简体中文 zh" and locale_label(None) == ""
    assert locale_label("xx") == "xx"
    assert [html_lang(x) for x in ("en", "zh", "zh-TW", "zh-HK", "xx", None)] == [
        "en",
        "zh-CN",
        "zh-TW",
        "zh-HK",
        "",
        "",
    ]


async def test_an_agents_traditional_answer_becomes_the_entrys_own_traditional_text(
    sessions, faq_dir, tmp_path, monkeypatch, embedder
):
    from bot.domain.knowledge import Addition, add_to_faq, merged_entries, rebuild_index
    from faq_index import FaqSearcher, SearchSettings

    monkeypatch.setenv("FAQ_INDEX_DIR", str(tmp_path / "index"))
    settings = SearchSettings()
    new = Addition(
        "entry", "store_pickup", "zh", "可以超商取貨嗎？", answer="可以，結帳時選擇超商取貨。"
    )
    variant = Addition("variant", "order_track", "zh", "包裹寄到哪裡了")
    async with sessions() as session, session.begin():
        await add_to_faq(session, [faq_dir], new)
        await add_to_faq(session, [faq_dir], variant)
    await rebuild_index(sessions, [faq_dir], settings)
    async with sessions() as session:
        entries = {e.id: e for e in await merged_entries(session, [faq_dir])}
    pickup = entries["store_pickup"]
    assert pickup.texts == {} and pickup.hant.answer == "可以，結帳時選擇超商取貨。"
    assert pickup.localized("zh")[1].answer == "可以，结帐时选择超商取货。"
    searcher = FaqSearcher(settings.index_dir, settings)
    try:
        assert searcher.search("超商取貨").matches[0].id == "store_pickup"
        assert searcher.search("包裹寄到哪里了").matches[0].id == "order_track"
    finally:
        searcher.close()
