"""The console's pages: sign-in, escaping of customer text, live updates (without a browser;
the browser tests drive the same pages in Chromium)."""

from __future__ import annotations

import asyncio
import re

from bot.web.keys import BUS
from tests.bot.conftest import PASSWORDS, a_ticket


async def sign_in_form(client) -> None:
    page = await client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())[1]
    response = await client.post(
        "/console/login",
        data={"username": "bob", "password": PASSWORDS["bob"], "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/console/"


async def test_pages_need_a_signed_in_agent(client):
    for path in ("/console/", "/console/tickets/1", "/console/events"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/console/login"
    assert (await client.get("/console/static/console.js")).status == 200  # public assets


async def test_signing_in_with_the_form_needs_its_csrf_token(client):
    response = await client.post(
        "/console/login",
        data={"username": "bob", "password": PASSWORDS["bob"]},
        allow_redirects=False,
    )
    assert response.status == 403
    page = await client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())[1]
    wrong = await client.post(
        "/console/login",
        data={"username": "bob", "password": "not it at all", "csrf_token": token},
    )
    assert wrong.status == 401 and "wrong user name or password" in await wrong.text()


async def test_customer_text_is_shown_as_text(client, sessions):
    attack = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    ticket_id = await a_ticket(sessions, question=attack)
    await sign_in_form(client)
    queue = await (await client.get("/console/")).text()
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', queue)[1]
    replied = await client.post(
        f"/api/tickets/{ticket_id}/reply", json={"text": attack}, headers={"X-CSRF-Token": csrf}
    )
    assert replied.status == 200
    for path in ("/console/", f"/console/tickets/{ticket_id}"):
        html = await (await client.get(path)).text()
        assert attack not in html
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&lt;script&gt;" in html
        assert "<script>alert" not in html


async def test_signing_out_ends_the_session(client):
    await sign_in_form(client)
    queue = await (await client.get("/console/")).text()
    token = re.search(r'name="csrf-token" content="([^"]+)"', queue)[1]
    out = await client.post("/console/logout", data={"csrf_token": token}, allow_redirects=False)
    assert out.status == 303
    assert (await client.get("/api/tickets")).status == 401


async def test_open_pages_hear_of_new_tickets_live(client):
    await sign_in_form(client)
    response = await client.get("/console/events")
    assert response.headers["Content-Type"] == "text/event-stream"
    await response.content.readuntil(b"\n\n")  # the retry line: the stream is open
    client.server.app[BUS].publish("ticket", {"id": 42, "change": "created"})
    message = await asyncio.wait_for(response.content.readuntil(b"\n\n"), 5)
    assert message == b'event: ticket\ndata: {"id": 42, "change": "created"}\n\n'
    response.close()


async def test_pages_refuse_bad_input_without_crashing(client, sessions):
    await a_ticket(sessions)
    await sign_in_form(client)
    for path in (
        "/console/tickets/99999999999999999999999",
        "/console/tickets/2147483648",
        "/console/tickets/0",
        "/console/tickets/%D9%A1",
    ):
        assert (await client.get(path)).status == 404, path
    for query in ("age=99999999999999999999", "age=-3", "channel=%00", "limit=500", "cursor=x"):
        response = await client.get(f"/console/?{query}")
        assert response.status == 400, query


async def test_the_sign_in_form_refuses_bad_input_without_crashing(client):
    for username in ("bob\x00", "bob\x07", "b" * 5000):
        page = await client.get("/console/login")  # each answer sets a new token
        token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())[1]
        response = await client.post(
            "/console/login",
            data={"username": username, "password": PASSWORDS["bob"], "csrf_token": token},
        )
        assert response.status == 401, username
        assert "wrong user name or password" in await response.text()
    page = await client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())[1]
    broken = await client.post(
        "/console/login",
        data=b"username=bob&password=\xff\xfe&csrf_token=" + token.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert broken.status in (400, 401, 403)


async def test_the_queue_pages_follow_the_attention_order(client, sessions):
    ids = [
        await a_ticket(sessions, sender=f"web-q{i}", question=f"question {i}") for i in range(52)
    ]
    await sign_in_form(client)
    html = await (await client.get("/console/?status=active")).text()
    rows = re.findall(r'<tr data-ticket="(\d+)"', html)
    assert len(rows) == 50 and int(rows[0]) == ids[0]  # nobody answered: the longest wait first
    following = re.search(r'<a id="older" href="([^"]+)"', html)[1].replace("&amp;", "&")
    assert "status=active" in following
    html = await (await client.get(following)).text()
    assert [int(r) for r in re.findall(r'<tr data-ticket="(\d+)"', html)] == [ids[50], ids[51]]
    assert '<a id="older" href="" hidden>' in html  # the last page
    assert "52 open" in html  # the totals per status


async def test_the_queue_can_show_the_newest_first(client, sessions):
    ids = [
        await a_ticket(sessions, sender=f"web-n{i}", question=f"question {i}") for i in range(52)
    ]
    await sign_in_form(client)
    html = await (await client.get("/console/?status=active&order=newest")).text()
    rows = re.findall(r'<tr data-ticket="(\d+)"', html)
    assert len(rows) == 50 and int(rows[0]) == ids[-1]
    older = re.search(r'<a id="older" href="([^"]+)"', html)[1].replace("&amp;", "&")
    html = await (await client.get(older)).text()
    assert [int(r) for r in re.findall(r'<tr data-ticket="(\d+)"', html)] == [ids[1], ids[0]]
    assert (await client.get("/console/?order=loudest")).status == 400
    a_cursor = re.search(r"cursor=([\w.-]+)", older)[1]
    assert (await client.get(f"/console/?order=attention&cursor={a_cursor}")).status == 400


async def test_the_faq_form_is_for_admins_only(client, sessions):
    ticket_id = await a_ticket(sessions)
    await sign_in_form(client)  # bob, an agent
    html = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert 'id="faq-add"' not in html and "Add to FAQ" not in html
