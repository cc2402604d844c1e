"""Dead letters in the console: admins see the events ingestion set aside, newest first, in
pages, escaped and redacted, and may discard them; other agents get 403, strangers the sign-in."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.store.models import Agent, DeadLetter
from bot.web.console.dead_letters import PREVIEW_CHARS, preview
from bot.web.console.locales import console_language
from bot.workers.ingestion import Ingestor
from bot.workers.sql_broker import IngestionWorker
from tests.bot.conftest import PASSWORDS, sign_in
from tests.bot.workers.test_ingestion import SECRET, publish_raw

ATTACK = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
ESCAPED = "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"
EPOCH = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


async def letters(sessions, count: int, sender: str | None = "web-d", at=EPOCH) -> list[int]:
    """``count`` dead letters, one a minute from ``at`` on; their ids, oldest first."""
    async with sessions() as session, session.begin():
        rows = [
            DeadLetter(
                source="sql",
                sender_id=sender,
                data=f'{{"event": "user", "text": "letter {i}"}}',
                reason=f"ValueError: letter {i}",
                created_at=at + timedelta(minutes=i),
            )
            for i in range(count)
        ]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


async def remaining(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(DeadLetter))


async def page_csrf(client) -> str:
    html = await (await client.get("/console/")).text()
    return re.search(r'name="csrf-token" content="([^"]+)"', html)[1]


@pytest.mark.parametrize("path", ["/console/dead-letters", "/console/dead-letters?cursor=x"])
async def test_strangers_are_sent_to_the_sign_in_form(client, path):
    response = await client.get(path, allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/console/login"


async def test_strangers_get_401_from_the_api_and_discard_nothing(client, sessions):
    (letter,) = await letters(sessions, 1)
    assert (await client.get("/api/dead-letters")).status == 401
    response = await client.post(f"/api/dead-letters/{letter}/discard")
    assert response.status == 401 and (await response.json())["error"] == "sign in first"
    form = await client.post(f"/console/dead-letters/{letter}/discard", allow_redirects=False)
    assert form.status == 303 and form.headers["Location"] == "/console/login"
    assert await remaining(sessions) == 1


async def test_agents_who_are_not_admins_get_403(client, sessions):
    (letter,) = await letters(sessions, 1)
    csrf = await sign_in(client, "bob")
    assert (await client.get("/console/dead-letters")).status == 403
    listed = await client.get("/api/dead-letters")
    assert listed.status == 403 and (await listed.json())["error"] == "only an admin may do this"
    headers = {"X-CSRF-Token": csrf}
    assert (await client.post(f"/api/dead-letters/{letter}/discard", headers=headers)).status == 403
    form = await client.post(
        f"/console/dead-letters/{letter}/discard", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert form.status == 403
    assert await remaining(sessions) == 1
    queue = await (await client.get("/console/")).text()
    assert "nav-dead-letters" not in queue and "Dead letters" not in queue


async def test_an_admin_sees_a_hostile_payload_escaped_and_redacted(client, sessions):
    hostile = f'{{"event": "user", "text": "{ATTACK} mail li@example.com", "sender_id": "web-h1"'
    await publish_raw(sessions, "web-h1", hostile)  # not JSON: ingestion sets it aside
    # Real ingestion sets it aside: this worker, or the app's own, which may have taken the row
    # first (then this one finds none and the letter appears when the app's batch commits).
    await IngestionWorker(sessions, Ingestor(SECRET)).drain_once()
    for _ in range(100):
        if await remaining(sessions):
            break
        await asyncio.sleep(0.05)
    assert await remaining(sessions) == 1
    await sign_in(client, "ann")

    html = await (await client.get("/console/dead-letters")).text()
    assert ATTACK not in html and "<script>alert" not in html
    assert ESCAPED in html
    assert "li@example.com" not in html and "[email]" in html  # contacts masked
    assert "JSONDecodeError" in html and "web-h1" in html  # why, and whose
    assert re.search(
        r'id="nav-dead-letters"[^>]*>\s*Dead letters\s*<span class="count some">1<', html
    )

    body = await (await client.get("/api/dead-letters")).json()
    (shown,) = body["dead_letters"]
    assert shown["conversation"] == "web-h1" and shown["source"] == "sql"
    assert shown["reason"].startswith("JSONDecodeError")
    assert ATTACK in shown["preview"] and "[email]" in shown["preview"]  # data, as JSON text
    assert "li@example.com" not in str(body) and body["total"] == 1


async def test_the_admins_navigation_counts_them(client, sessions):
    await sign_in(client, "ann")
    queue = await (await client.get("/console/")).text()
    assert '<span class="count">0</span>' in queue  # none yet, still there to be found
    await letters(sessions, 3, sender=None)
    queue = await (await client.get("/console/")).text()
    assert '<span class="count some">3</span>' in queue
    page = await (await client.get("/console/dead-letters")).text()
    assert page.count("unknown") == 3  # no conversation known


async def test_pages_go_newest_first_without_repeating_or_skipping(client, sessions):
    ids = await letters(sessions, 55)
    await sign_in(client, "ann")
    first = await (await client.get("/api/dead-letters?limit=20")).json()
    assert [d["id"] for d in first["dead_letters"]] == ids[::-1][:20]
    assert first["total"] == 55 and first["next_cursor"]
    await letters(sessions, 2, at=EPOCH + timedelta(days=1))  # newer ones arrive meanwhile
    second = await (await client.get(first["next"])).json()
    assert [d["id"] for d in second["dead_letters"]] == ids[::-1][20:40]
    third = await (await client.get(second["next"])).json()
    assert [d["id"] for d in third["dead_letters"]] == ids[::-1][40:]
    assert third["next"] is None and third["next_cursor"] is None

    html = await (await client.get("/console/dead-letters")).text()
    rows = [int(r) for r in re.findall(r'<tr data-dead-letter="(\d+)"', html)]
    assert len(rows) == 50 and rows[2:] == ids[::-1][:48]
    older = re.search(r'<a id="older" href="([^"]+)"', html)[1].replace("&amp;", "&")
    html = await (await client.get(older)).text()
    assert [int(r) for r in re.findall(r'<tr data-dead-letter="(\d+)"', html)] == ids[6::-1]
    assert 'id="older"' not in html and 'id="newest"' in html


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=x", "cursor=nope", "cursor=1-0"])
async def test_bad_paging_is_refused(client, sessions, query):
    await sign_in(client, "ann")
    assert (await client.get(f"/console/dead-letters?{query}")).status == 400
    response = await client.get(f"/api/dead-letters?{query}")
    assert response.status == 400 and "error" in await response.json()


async def test_an_admin_discards_with_the_form_and_its_csrf_token(client, sessions):
    ids = await letters(sessions, 55)
    await sign_in(client, "ann")
    csrf = await page_csrf(client)
    refused = await client.post(f"/console/dead-letters/{ids[0]}/discard", allow_redirects=False)
    assert refused.status == 403 and await remaining(sessions) == 55

    html = await (await client.get("/console/dead-letters")).text()
    cursor = re.search(r'<a id="older" href="[^"]*cursor=([^"&]+)', html)[1]
    done = await client.post(
        f"/console/dead-letters/{ids[0]}/discard",
        data={"csrf_token": csrf, "cursor": cursor},
        allow_redirects=False,
    )
    assert done.status == 303  # back to the page it was on
    assert done.headers["Location"] == f"/console/dead-letters?cursor={cursor}"
    assert await remaining(sessions) == 54
    html = await (await client.get(done.headers["Location"])).text()
    assert f'data-dead-letter="{ids[0]}"' not in html and f'data-dead-letter="{ids[1]}"' in html

    again = await client.post(f"/console/dead-letters/{ids[0]}/discard", data={"csrf_token": csrf})
    assert again.status == 404
    odd = await client.post(
        f"/console/dead-letters/{ids[1]}/discard",
        data={"csrf_token": csrf, "cursor": "https://evil.example/"},
        allow_redirects=False,
    )
    assert odd.headers["Location"] == "/console/dead-letters"  # only a cursor of ours


async def test_an_admin_discards_through_the_api(client, sessions):
    first, second = await letters(sessions, 2)
    csrf = await sign_in(client, "ann")
    headers = {"X-CSRF-Token": csrf}
    assert (await client.post(f"/api/dead-letters/{first}/discard")).status == 403  # no token
    done = await client.post(f"/api/dead-letters/{first}/discard", headers=headers)
    assert done.status == 200 and await done.json() == {"discarded": first}
    gone = await client.post(f"/api/dead-letters/{first}/discard", headers=headers)
    assert gone.status == 404 and "no dead letter" in (await gone.json())["error"]
    for bad in ("0", "x", "99999999999"):
        response = await client.post(f"/api/dead-letters/{bad}/discard", headers=headers)
        assert response.status == 400, bad
    listed = await (await client.get("/api/dead-letters")).json()
    assert [d["id"] for d in listed["dead_letters"]] == [second] and listed["total"] == 1


async def test_the_page_speaks_the_agents_language(client, sessions):
    await letters(sessions, 1)
    chinese = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
    async with sessions() as session, session.begin():  # the browser's at sign-in: Chinese
        await session.execute(update(Agent).where(Agent.username == "ann").values(language=None))
    client.session.cookie_jar.clear()
    token = (await (await client.get("/api/login")).json())["csrf_token"]
    signed = await client.post(
        "/api/login",
        json={"username": "ann", "password": PASSWORDS["ann"]},
        headers={"X-CSRF-Token": token, **chinese},
    )
    csrf = (await signed.json())["csrf_token"]
    html = await (await client.get("/console/dead-letters")).text()
    assert "<h1>死信</h1>" in html and "丢弃" in html and '<html lang="zh-CN">' in html
    await client.post(
        "/api/me/preferences", json={"language": "en"}, headers={"X-CSRF-Token": csrf}
    )
    html = await (await client.get("/console/dead-letters", headers=chinese)).text()
    assert "<h1>Dead letters</h1>" in html and "Discard" in html


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-TW", "zh"),
        ("zh-Hant-HK;q=0.7, en;q=0.9", "en"),
        ("fr, zh;q=0.2", "zh"),
        ("en;q=x, zh;q=2", "en"),
        ("zh;q=0", "en"),
    ],
)
def test_the_console_language_follows_the_browser(header, language):
    assert console_language(header) == language


def test_a_preview_is_short_redacted_and_one_line():
    text = "call +86 138 0013 8000\n\n" + "x" * 500
    shown = preview(text)
    assert shown.startswith("call [phone] xxx") and "\n" not in shown
    assert len(shown) == PREVIEW_CHARS and shown.endswith("…")
    assert preview("short") == "short" and preview("") == ""
