"""Saved replies through the console's API and page: any agent reads, admins write (CSRF),
bad input is refused with a clear 400 and changes nothing; on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.store.models import SavedReply
from tests.bot.conftest import sign_in

REFUND = {"code": "refund", "language": "en", "text": "Refunds take 1-7 business days."}


async def count(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(SavedReply)) or 0


async def add(client, csrf: str, **fields) -> dict:
    response = await client.post(
        "/api/saved-replies", json={**REFUND, **fields}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 201, await response.text()
    return await response.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/saved-replies"),
        ("POST", "/api/saved-replies"),
        ("PUT", "/api/saved-replies/1"),
        ("DELETE", "/api/saved-replies/1"),
    ],
)
async def test_saved_replies_need_a_session(client, method, path):
    assert (await client.request(method, path, json=REFUND)).status == 401


async def test_admins_write_and_every_agent_reads(client, sessions):
    csrf = await sign_in(client, "ann")
    refund = await add(client, csrf)
    await add(client, csrf, language="zh", text="退款 1-7 个工作日到账。")
    assert refund["code"] == "refund" and refund["updated_by"] is not None

    await sign_in(client, "bob")
    listed = (await (await client.get("/api/saved-replies")).json())["saved_replies"]
    assert [(r["code"], r["language"]) for r in listed] == [("refund", "en"), ("refund", "zh")]
    chinese = (await (await client.get("/api/saved-replies?language=zh")).json())["saved_replies"]
    assert [r["text"] for r in chinese] == ["退款 1-7 个工作日到账。"]

    csrf = await sign_in(client, "ann")
    changed = {**REFUND, "text": "Refunds take up to 7 days."}
    response = await client.put(
        f"/api/saved-replies/{refund['id']}", json=changed, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 200 and (await response.json())["text"] == changed["text"]
    response = await client.delete(
        f"/api/saved-replies/{refund['id']}", headers={"X-CSRF-Token": csrf}
    )
    assert await response.json() == {"deleted": refund["id"]}
    assert await count(sessions) == 1
    response = await client.delete(
        f"/api/saved-replies/{refund['id']}", headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 404


async def test_agents_may_not_write(client, sessions):
    reply = await add(client, await sign_in(client, "ann"))
    csrf = await sign_in(client, "bob")
    headers = {"X-CSRF-Token": csrf}
    calls = [
        client.post("/api/saved-replies", json={**REFUND, "code": "x"}, headers=headers),
        client.put(f"/api/saved-replies/{reply['id']}", json=REFUND, headers=headers),
        client.delete(f"/api/saved-replies/{reply['id']}", headers=headers),
    ]
    for call in calls:
        response = await call
        assert response.status == 403
        assert (await response.json())["error"] == "only an admin may do this"
    async with sessions() as session:
        [stored] = (await session.scalars(select(SavedReply))).all()
    assert stored.text == REFUND["text"]


async def test_changes_need_the_csrf_token(client, sessions):
    await sign_in(client, "ann")
    assert (await client.post("/api/saved-replies", json=REFUND)).status == 403
    assert await count(sessions) == 0


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"code": ""}, "code is 1-32 characters: a-z, 0-9, _ and -"),
        ({"code": "Refund"}, "code is 1-32 characters"),
        ({"code": "r" * 33}, "code is 1-32 characters"),
        ({"code": "<script>"}, "code is 1-32 characters"),
        ({"code": 7}, "code is 1-32 characters"),
        ({"language": "de"}, "language is one of en, zh, zh-TW, zh-HK"),
        ({"text": ""}, "text is 1-4000 characters"),
        ({"text": "x" * 4001}, "text is 1-4000 characters"),
        ({"text": "bell\x07"}, "not allowed"),
    ],
)
async def test_bad_fields_are_refused_and_nothing_is_stored(client, sessions, fields, complaint):
    csrf = await sign_in(client, "ann")
    response = await client.post(
        "/api/saved-replies", json={**REFUND, **fields}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 400
    assert complaint in (await response.json())["error"]
    assert await count(sessions) == 0


async def test_a_taken_code_is_refused_and_the_stored_text_stays(client, sessions):
    csrf = await sign_in(client, "ann")
    await add(client, csrf)
    other = await add(client, csrf, code="hello", text="Hello!")
    response = await client.post(
        "/api/saved-replies", json={**REFUND, "text": "other"}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 400
    assert (await response.json())["error"] == "/refund already has a text in en"
    response = await client.put(
        f"/api/saved-replies/{other['id']}", json=REFUND, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 400
    async with sessions() as session:
        texts = sorted((await session.scalars(select(SavedReply.text))).all())
    assert texts == ["Hello!", REFUND["text"]]


@pytest.mark.parametrize("query", ["language=fr", "language=" + "x" * 100])
async def test_a_bad_language_filter_is_refused(client, query):
    await sign_in(client, "bob")
    response = await client.get(f"/api/saved-replies?{query}")
    assert response.status == 400


async def test_the_page_shows_replies_escaped_and_forms_only_to_admins(client, sessions):
    csrf = await sign_in(client, "ann")
    await add(client, csrf, text="<b>bold</b> & more")
    html = await (await client.get("/console/saved-replies")).text()
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in html and "<b>bold</b>" not in html
    assert 'action="/console/saved-replies"' in html
    response = await client.post(
        "/console/saved-replies",
        data={"code": "BAD CODE", "language": "en", "text": "x", "csrf_token": csrf},
    )
    assert response.status == 400
    assert "code is 1-32 characters" in await response.text()
    assert await count(sessions) == 1
    response = await client.post(
        "/console/saved-replies",
        data={"code": "thanks", "language": "zh-TW", "text": "謝謝！", "csrf_token": csrf},
    )
    assert response.status == 200 and 'data-code="thanks"' in await response.text()

    csrf = await sign_in(client, "bob")
    html = await (await client.get("/console/saved-replies")).text()
    assert "/refund" in html and 'action="/console/saved-replies"' not in html
    assert "data-saved-replies" in html
    response = await client.post(
        "/console/saved-replies",
        data={"code": "mine", "language": "en", "text": "x", "csrf_token": csrf},
    )
    assert response.status == 403
    assert await count(sessions) == 2


async def test_admins_edit_and_delete_on_the_page(client, sessions):
    csrf = await sign_in(client, "ann")
    reply = await add(client, csrf)
    edited = {"code": "refund", "language": "en", "text": "Up to 7 days.", "csrf_token": csrf}
    response = await client.post(f"/console/saved-replies/{reply['id']}", data=edited)
    assert response.status == 200 and "Up to 7 days." in await response.text()
    bad = {**edited, "language": "xx"}
    response = await client.post(f"/console/saved-replies/{reply['id']}", data=bad)
    assert response.status == 400
    response = await client.post("/console/saved-replies/999/delete", data={"csrf_token": csrf})
    assert response.status == 404
    response = await client.post(f"/console/saved-replies/{reply['id']}/delete", data={})
    assert response.status == 403  # no CSRF token
    assert await count(sessions) == 1
    response = await client.post(
        f"/console/saved-replies/{reply['id']}/delete", data={"csrf_token": csrf}
    )
    assert response.status == 200 and await count(sessions) == 0
