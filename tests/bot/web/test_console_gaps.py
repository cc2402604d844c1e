"""The knowledge gaps page and API: access, escaping, teaching the FAQ a group, dismissing one."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.domain.auth import create_agent
from bot.domain.knowledge import rebuild_index
from bot.settings import Settings
from bot.web.app import create_app
from faq_index import FaqSearcher, SearchSettings
from tests.bot.conftest import PASSWORDS, sign_in
from tests.bot.domain.test_knowledge_gaps import conversation, message, populate

RANGE = {"from": "2026-11-01", "to": "2026-11-30"}
HOSTILE = "<script>alert('paypal')</script> do you take PayPal payment"


@pytest.fixture()
async def gaps_client(sessions, database_url, faq_dir, tmp_path, monkeypatch, embedder):
    monkeypatch.setenv("FAQ_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("FAQ_ONNX_CACHE_DIR", "")
    await rebuild_index(sessions, [faq_dir], SearchSettings())
    async with sessions() as session, session.begin():
        await create_agent(session, "ann", "Ann", PASSWORDS["ann"], "admin")
        await create_agent(session, "bob", "Bob", PASSWORDS["bob"], "agent")
    await populate(sessions)
    async with sessions() as session, session.begin():
        chat = await conversation(session, "web-hostile")
        await message(session, chat, HOSTILE, 60, faq_decision="escalate")
    settings = Settings(
        database_url=database_url, rasa_port=1, rasa_api_token="unused", faq_sources=faq_dir
    )
    async with TestClient(TestServer(create_app(settings))) as client:
        yield client


async def groups(client) -> list[dict]:
    response = await client.get("/api/gaps", params=RANGE)
    assert response.status == 200, await response.text()
    return (await response.json())["groups"]


def paypal(found: list[dict]) -> dict:
    return next(g for g in found if "Do you accept PayPal payments?" in g["questions"])


async def test_anonymous_callers_are_refused(gaps_client):
    assert (await gaps_client.get("/api/gaps")).status == 401
    assert (await gaps_client.post("/api/gaps/dismiss", json={"key": "x"})).status == 401
    page = await gaps_client.get("/console/gaps", allow_redirects=False)
    assert page.status == 303 and page.headers["Location"] == "/console/login"


async def test_an_agent_sees_the_groups_with_hostile_text_escaped(gaps_client):
    await sign_in(gaps_client, "bob")
    found = await groups(gaps_client)
    assert found[0]["count"] == 5 and HOSTILE in found[0]["questions"]
    page = await (await gaps_client.get("/console/gaps", params=RANGE)).text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(" in page
    assert 'id="nav-gaps"' in page and found[0]["key"] in page
    assert "Add as variants" not in page  # only admins publish, by default
    assert (await gaps_client.get("/api/gaps", params={"from": "yesterday"})).status == 400
    assert (await gaps_client.get("/console/gaps", params={"to": "2026-13-01"})).status == 400


async def test_accepting_a_group_as_variants_makes_the_bot_answer_it(gaps_client):
    question = "Do you accept PayPal payments?"
    bob = {"X-CSRF-Token": await sign_in(gaps_client, "bob")}
    group = paypal(await groups(gaps_client))
    body = {**RANGE, "key": group["key"], "entry_id": "invoice"}
    refused = await gaps_client.post("/api/gaps/variants", json=body, headers=bob)
    assert refused.status == 403

    settings = SearchSettings()
    searcher = FaqSearcher(settings.index_dir, settings)
    try:
        before = searcher.search(question)
        assert (before.matches[0].id, before.decision.value) != ("invoice", "answer")
    finally:
        searcher.close()

    ann = {"X-CSRF-Token": await sign_in(gaps_client, "ann")}
    assert (await gaps_client.post("/api/gaps/variants", json=body)).status == 403  # no CSRF
    added = await gaps_client.post("/api/gaps/variants", json=body, headers=ann)
    assert added.status == 201, await added.text()
    assert question in (await added.json())["added"]
    searcher = FaqSearcher(settings.index_dir, settings)
    try:
        result = searcher.search(question)
        assert result.matches[0].id == "invoice" and result.decision.value == "answer"
    finally:
        searcher.close()
    assert group["key"] not in [g["key"] for g in await groups(gaps_client)]
    again = await gaps_client.post("/api/gaps/variants", json=body, headers=ann)
    assert again.status == 404


async def test_a_new_entry_needs_an_answer(gaps_client):
    ann = {"X-CSRF-Token": await sign_in(gaps_client, "ann")}
    group = paypal(await groups(gaps_client))
    body = {**RANGE, "key": group["key"], "entry_id": "paypal", "answer": "  "}
    refused = await gaps_client.post("/api/gaps/entry", json=body, headers=ann)
    assert refused.status == 400


async def test_a_dismissed_group_stays_dismissed(gaps_client):
    token = await sign_in(gaps_client, "bob")
    found = await groups(gaps_client)
    canada = next(g for g in found if "shipping to canada" in g["questions"])
    form = {**RANGE, "csrf_token": token, "action": "dismiss", "key": canada["key"]}
    done = await gaps_client.post("/console/gaps/action", data=form, allow_redirects=False)
    assert done.status == 303 and done.headers["Location"].startswith("/console/gaps?from=")
    await sign_in(gaps_client, "ann")
    after = await groups(gaps_client)
    assert canada["key"] not in [g["key"] for g in after] and len(after) == len(found) - 1
    missing = {**RANGE, "key": "no such group"}
    token = await sign_in(gaps_client, "ann")
    gone = await gaps_client.post(
        "/api/gaps/dismiss", json=missing, headers={"X-CSRF-Token": token}
    )
    assert gone.status == 404
