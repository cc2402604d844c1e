"""The console's JSON API: sign-in, CSRF, roles, and the life of a ticket, on both databases."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import func, select, update

import bot.domain.auth
import bot.web.console.api
from bot.domain.tickets import open_ticket
from bot.settings import Settings
from bot.store.models import FaqAddition, OutboxMessage, Ticket
from bot.web.app import create_app
from tests.bot.conftest import PASSWORDS, a_ticket, sign_in
from vocabulary import EscalationReason


@pytest.fixture()
def pauses(monkeypatch) -> list[float]:
    """The per-user sign-in delays asked for, recorded instead of slept."""
    asked: list[float] = []

    async def pause(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(bot.domain.auth, "_pause", pause, raising=False)
    return asked


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/tickets"),
        ("GET", "/api/tickets/1"),
        ("POST", "/api/tickets/1/claim"),
        ("POST", "/api/tickets/1/reply"),
        ("POST", "/api/tickets/1/resolve"),
        ("GET", "/api/customers/1"),
        ("GET", "/api/customers/1/export"),
        ("GET", "/api/faq/search?q=refund"),
        ("POST", "/api/faq"),
    ],
)
async def test_the_api_refuses_calls_without_a_session(client, method, path):
    response = await client.request(method, path, json={})
    assert response.status == 401
    assert (await response.json())["error"] == "sign in first"


async def test_sign_in_needs_the_login_csrf_token_and_the_right_password(client):
    response = await client.post("/api/login", json={"username": "ann", "password": "x"})
    assert response.status == 403
    token = (await (await client.get("/api/login")).json())["csrf_token"]
    response = await client.post(
        "/api/login",
        json={"username": "ann", "password": "wrong password!"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status == 401
    assert (await client.get("/api/tickets")).status == 401


async def test_failures_slow_a_name_but_do_not_lock_the_agent_out(client, pauses):
    token = (await (await client.get("/api/login")).json())["csrf_token"]
    for _ in range(6):
        await client.post(
            "/api/login",
            json={"username": "bob", "password": "guess"},
            headers={"X-CSRF-Token": token},
        )
    response = await client.post(
        "/api/login",
        json={"username": "bob", "password": PASSWORDS["bob"]},
        headers={"X-CSRF-Token": token},
    )
    assert response.status == 200
    assert pauses[-1] > 0  # the right password waited for the failures of the name


async def test_an_address_that_failed_too_often_is_refused(client, pauses):
    token = (await (await client.get("/api/login")).json())["csrf_token"]
    for i in range(20):
        wrong = await client.post(
            "/api/login",
            json={"username": f"nobody{i}", "password": "guess"},
            headers={"X-CSRF-Token": token},
        )
        assert wrong.status == 401
    response = await client.post(
        "/api/login",
        json={"username": "bob", "password": PASSWORDS["bob"]},
        headers={"X-CSRF-Token": token},
    )
    assert response.status == 429
    assert "too many" in (await response.json())["error"]


@pytest.mark.real_password_cost
async def test_sign_ins_do_not_stall_other_requests(client):
    """While unknown users' guesses are hashed, the event loop (the test's and the server's)
    keeps turning, and other calls are answered.

    Hashing on the loop stalls it for several hashes back to back (4 to 7 of them measured
    with 8 guesses); off the loop, only a busy machine's scheduling stalls it. The bound is a
    ratio to one hash's time, measured here, so that a slow machine moves both alike.
    """
    hasher = PasswordHasher()
    stored = hasher.hash("something else")
    began = time.perf_counter()
    with contextlib.suppress(VerificationError):
        hasher.verify(stored, "a wrong guess!")
    one_hash = time.perf_counter() - began

    token = (await (await client.get("/api/login")).json())["csrf_token"]

    async def guess(name: str):
        return await client.post(
            "/api/login",
            json={"username": name, "password": "a wrong guess!"},
            headers={"X-CSRF-Token": token},
        )

    assert (await guess("warming.up")).status == 401  # first queries compiled, pool filled
    stalls: list[float] = []

    async def watch_the_loop() -> None:
        while True:
            began = time.perf_counter()
            await asyncio.sleep(0.005)
            stalls.append(time.perf_counter() - began - 0.005)

    watcher = asyncio.create_task(watch_the_loop())
    guesses = [asyncio.create_task(guess(f"nobody{i}")) for i in range(16)]
    await asyncio.sleep(one_hash / 4)  # the guesses are being hashed now
    assert (await client.get("/api/login")).status == 200  # a trivial call, answered meanwhile
    assert all(r.status == 401 for r in await asyncio.gather(*guesses))
    watcher.cancel()
    longest = max(stalls)
    assert longest < 2 * one_hash, f"the loop stalled {longest:.3f} s; one hash: {one_hash:.3f} s"


async def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(client, sessions):
    ticket_id = await a_ticket(sessions)
    await sign_in(client, "ann")
    response = await client.post(f"/api/tickets/{ticket_id}/reply", json={"text": "hello"})
    assert response.status == 403
    response = await client.post(
        f"/api/tickets/{ticket_id}/reply", json={"text": "hello"}, headers={"X-CSRF-Token": "x"}
    )
    assert response.status == 403
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    detail = await (await client.get(f"/api/tickets/{ticket_id}")).json()
    assert detail["status"] == "open" and detail["replies"] == []


async def test_the_life_of_a_ticket(client, sessions):
    ticket_id = await a_ticket(sessions, question="<script>alert(1)</script> refund?")
    csrf = await sign_in(client, "bob")
    headers = {"X-CSRF-Token": csrf}

    listed = (await (await client.get("/api/tickets?status=open")).json())["tickets"]
    assert [t["id"] for t in listed] == [ticket_id]
    assert listed[0]["question"] == "<script>alert(1)</script> refund?"  # data, as it came
    assert (await (await client.get("/api/tickets?reason=complaint")).json())["tickets"] == []

    claimed = await (await client.post(f"/api/tickets/{ticket_id}/claim", headers=headers)).json()
    assert claimed["status"] == "assigned" and claimed["assigned_to"] == "Bob"

    answered = await client.post(
        f"/api/tickets/{ticket_id}/reply", json={"text": "Your refund left today."}, headers=headers
    )
    detail = await answered.json()
    assert detail["replies"][0]["text"] == "Your refund left today."
    assert detail["replies"][0]["agent"] == "Bob" and detail["first_reply_at"]

    empty = await client.post(
        f"/api/tickets/{ticket_id}/reply", json={"text": " "}, headers=headers
    )
    assert empty.status == 409

    noted = await client.post(
        f"/api/tickets/{ticket_id}/notes", json={"text": "refund id R-1"}, headers=headers
    )
    assert (await noted.json())["notes"][0]["text"] == "refund id R-1"

    resolved = await client.post(
        f"/api/tickets/{ticket_id}/resolve", json={"note": "refunded"}, headers=headers
    )
    detail = await resolved.json()
    assert detail["status"] == "resolved" and detail["resolution_note"] == "refunded"
    again = await client.post(f"/api/tickets/{ticket_id}/resolve", json={}, headers=headers)
    assert again.status == 409
    async with sessions() as session:
        kinds = (await session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id))).all()
    assert kinds == ["reply", "resume"]  # the bot takes over after the reply

    reopened = await client.post(f"/api/tickets/{ticket_id}/reopen", headers=headers)
    assert (await reopened.json())["status"] == "assigned"

    customer = (await (await client.get(f"/api/tickets/{ticket_id}")).json())["customer"]["id"]
    assert (await client.get(f"/api/customers/{customer}")).status == 200


async def test_an_agent_cannot_take_anothers_ticket_or_do_what_only_an_admin_may(client, sessions):
    ticket_id = await a_ticket(sessions)
    bob = {"X-CSRF-Token": await sign_in(client, "bob")}
    assert (await client.post(f"/api/tickets/{ticket_id}/claim", headers=bob)).status == 200
    bob_id = (await (await client.get(f"/api/tickets/{ticket_id}")).json())["assigned_agent_id"]

    customer = (await (await client.get(f"/api/tickets/{ticket_id}")).json())["customer"]["id"]
    assert (await client.get(f"/api/customers/{customer}/export")).status == 403
    assign = await client.post(
        f"/api/tickets/{ticket_id}/assign", json={"agent_id": bob_id}, headers=bob
    )
    assert assign.status == 403

    ann = {"X-CSRF-Token": await sign_in(client, "ann")}
    taken = await client.post(f"/api/tickets/{ticket_id}/claim", headers=ann)
    assert taken.status == 409  # Bob has it; an admin reassigns instead
    exported = await client.get(f"/api/customers/{customer}/export")
    assert exported.status == 200 and "customer" in await exported.json()


async def test_passwords_never_reach_the_logs(client, caplog):
    with caplog.at_level(logging.DEBUG):
        token = (await (await client.get("/api/login")).json())["csrf_token"]
        for password in ("a wrong password 123", PASSWORDS["ann"]):
            await client.post(
                "/api/login",
                json={"username": "ann", "password": password},
                headers={"X-CSRF-Token": token},
            )
    assert "a wrong password 123" not in caplog.text
    assert PASSWORDS["ann"] not in caplog.text


async def test_answers_carry_a_strict_content_security_policy(client):
    response = await client.get("/api/tickets")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_an_admin_assigns_a_ticket_to_an_agent(client, sessions):
    ticket_id = await a_ticket(sessions)
    ann = {"X-CSRF-Token": await sign_in(client, "ann")}
    agents = (await (await client.get("/api/agents")).json())["agents"]
    bob = next(a for a in agents if a["username"] == "bob")
    assigned = await client.post(
        f"/api/tickets/{ticket_id}/assign", json={"agent_id": bob["id"]}, headers=ann
    )
    detail = await assigned.json()
    assert detail["assigned_to"] == "Bob" and detail["status"] == "assigned"
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert 'id="assign-form"' in page  # admins see the assign form; agents do not
    await sign_in(client, "bob")
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert 'id="assign-form"' not in page


# --- who publishes to the FAQ ---------------------------------------------------------------

ADDITION = {
    "kind": "entry",
    "entry_id": "refund_phish",
    "language": "en",
    "question": "Where is my refund?",
    "answer": "Sign in at http://refunds.example to get it.",
}


@pytest.fixture()
def published(monkeypatch) -> list[object]:
    """Index rebuilds the API asked for, recorded instead of built (no model, no var/ files)."""
    calls: list[object] = []

    async def rebuild(sessions, sources, settings=None):
        calls.append(sources)
        return SimpleNamespace(version="test-version")

    monkeypatch.setattr(bot.web.console.api, "rebuild_index", rebuild)
    return calls


async def faq_additions(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(FaqAddition))


async def test_only_admins_publish_faq_answers_by_default(client, sessions, published):
    ticket_id = await a_ticket(sessions)
    bob = {"X-CSRF-Token": await sign_in(client, "bob")}
    refused = await client.post("/api/faq", json={**ADDITION, "ticket_id": ticket_id}, headers=bob)
    assert refused.status == 403 and "admin" in (await refused.json())["error"]
    assert await faq_additions(sessions) == 0 and published == []
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert 'id="faq-add"' not in page

    ann = {"X-CSRF-Token": await sign_in(client, "ann")}
    page = await (await client.get(f"/console/tickets/{ticket_id}")).text()
    assert 'id="faq-add"' in page
    added = await client.post("/api/faq", json={**ADDITION, "ticket_id": ticket_id}, headers=ann)
    assert added.status == 201, await added.text()
    assert await faq_additions(sessions) == 1 and len(published) == 1


async def test_a_setting_lets_agents_publish_too(client, sessions, database_url, published):
    settings = Settings(
        database_url=database_url,
        rasa_port=1,
        rasa_api_token="unused",
        agents_may_publish_faq=True,
    )
    ticket_id = await a_ticket(sessions)
    async with TestClient(TestServer(create_app(settings))) as trusting:
        bob = {"X-CSRF-Token": await sign_in(trusting, "bob")}
        page = await (await trusting.get(f"/console/tickets/{ticket_id}")).text()
        assert 'id="faq-add"' in page
        added = await trusting.post("/api/faq", json=ADDITION, headers=bob)
        assert added.status == 201, await added.text()
    assert await faq_additions(sessions) == 1


def test_agents_may_publish_faq_is_off_unless_set(monkeypatch):
    assert Settings().web.agents_may_publish_faq is False
    monkeypatch.setenv("AGENTS_MAY_PUBLISH_FAQ", "true")
    assert Settings().web.agents_may_publish_faq is True


# --- bad input: a clear 4xx, never a 500, and nothing changes --------------------------------


async def errors(response) -> str:
    """The JSON error of a refused call; fails unless it is a 4xx with one."""
    assert 400 <= response.status < 500, (response.status, await response.text())
    assert response.content_type == "application/json"
    message = (await response.json())["error"]
    assert message
    return message


async def queued(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(OutboxMessage))


async def test_oversized_bodies_are_refused(client, sessions):
    ticket_id = await a_ticket(sessions)
    headers = {"X-CSRF-Token": await sign_in(client, "bob"), "Content-Type": "application/json"}
    body = json.dumps({"text": "hello", "padding": "x" * 70_000}).encode()
    sized = await client.post(f"/api/tickets/{ticket_id}/reply", data=body, headers=headers)
    assert sized.status == 413 and "too large" in await errors(sized)

    async def chunks():  # no Content-Length: chunked transfer encoding
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    chunked = await client.post(f"/api/tickets/{ticket_id}/reply", data=chunks(), headers=headers)
    assert chunked.status == 413 and "too large" in await errors(chunked)
    assert await queued(sessions) == 0


@pytest.mark.parametrize(
    "ticket_id",
    ["99999999999999999999999", "2147483648", "0", "-1", "%D9%A1%D9%A2", "1e3", "%201", "abc"],
)
async def test_ids_out_of_range_are_refused(client, sessions, ticket_id):
    await a_ticket(sessions)
    ann = {"X-CSRF-Token": await sign_in(client, "ann")}
    assert "ticket id" in await errors(await client.get(f"/api/tickets/{ticket_id}"))
    claim = await client.post(f"/api/tickets/{ticket_id}/claim", headers=ann)
    assert claim.status == 400 and "ticket id" in await errors(claim)
    customer = await client.get(f"/api/customers/{ticket_id}")
    assert customer.status == 400 and "customer id" in await errors(customer)
    exported = await client.get(f"/api/customers/{ticket_id}/export")
    assert exported.status == 400


async def test_the_largest_id_is_just_not_found(client):
    await sign_in(client, "bob")
    response = await client.get(f"/api/tickets/{2**31 - 1}")
    assert response.status == 404 and await errors(response)


@pytest.mark.parametrize(
    ("route", "raw"),
    [
        ("reply", rb'{"text": "\udc80"}'),
        ("reply", rb'{"text": "ok \ud83d then"}'),
        ("reply", rb'{"text": "a\u0000b"}'),
        ("reply", rb'{"text": "ring \u0007 the bell"}'),
        ("reply", rb'{"text": "fine", "\udc80": 1}'),
        ("reply", rb'{"text": null}'),
        ("reply", rb'{"text": 5}'),
        ("reply", rb'{"text": ["hello"]}'),
        ("reply", rb'{"text": {"hello": 1}}'),
        ("reply", rb"{}"),
        ("reply", b'{"text": "' + b"x" * 4001 + b'"}'),
        ("reply", b'["hello"]'),
        ("reply", b'{"text": "\xff\xfe"}'),
        ("reply", b"[" * 100_000 + b"]" * 100_000),
        ("reply", b'{"text": "unterminated'),
        ("notes", rb'{"text": "\udc80"}'),
        ("notes", rb'{"text": null}'),
        ("notes", b'{"text": "' + b"x" * 4001 + b'"}'),
        ("resolve", rb'{"note": "\udc80"}'),
        ("resolve", rb'{"note": 5}'),
        ("resolve", b'{"note": "' + b"x" * 4001 + b'"}'),
        ("assign", rb'{"agent_id": true}'),
        ("assign", rb'{"agent_id": "2"}'),
        ("assign", rb'{"agent_id": 1099511627776}'),
        ("assign", rb'{"agent_id": 0}'),
        ("assign", rb'{"agent_id": 2.0}'),
    ],
)
async def test_bad_bodies_are_refused_and_change_nothing(client, sessions, route, raw):
    ticket_id = await a_ticket(sessions)
    headers = {"X-CSRF-Token": await sign_in(client, "ann"), "Content-Type": "application/json"}
    response = await client.post(f"/api/tickets/{ticket_id}/{route}", data=raw, headers=headers)
    assert response.status in (400, 413) and await errors(response)
    detail = await (await client.get(f"/api/tickets/{ticket_id}")).json()
    assert detail["status"] == "open" and detail["assigned_to"] is None
    assert detail["notes"] == [] and detail["replies"] == []
    assert await queued(sessions) == 0


async def test_line_breaks_and_tabs_are_fine(client, sessions):
    ticket_id = await a_ticket(sessions)
    headers = {"X-CSRF-Token": await sign_in(client, "bob")}
    text = "Dear customer,\r\n\tyour refund left today.\n"
    replied = await client.post(
        f"/api/tickets/{ticket_id}/reply", json={"text": text}, headers=headers
    )
    assert replied.status == 200
    assert (await replied.json())["replies"][0]["text"] == text.strip()


@pytest.mark.parametrize(
    "addition",
    [
        {**ADDITION, "ticket_id": 99999},
        {**ADDITION, "ticket_id": 2**40},
        {**ADDITION, "ticket_id": True},
        {**ADDITION, "ticket_id": "1"},
        {**ADDITION, "category": "c" * 101},
        {**ADDITION, "entry_id": "e" * 129},
        {**ADDITION, "entry_id": 5},
        {**ADDITION, "kind": ["entry"]},
        {**ADDITION, "language": None},
        {**ADDITION, "question": "q\x00"},
        {**ADDITION, "question": "q" * 4001},
        {**ADDITION, "answer": "a\udc80"},
        {**ADDITION, "answer": 5},
        {**ADDITION, "answer": None},
    ],
)
async def test_bad_faq_additions_are_refused_and_publish_nothing(
    client, sessions, published, addition
):
    ann = {"X-CSRF-Token": await sign_in(client, "ann")}
    response = await client.post("/api/faq", json=addition, headers=ann)
    assert response.status == 400 and await errors(response)
    assert await faq_additions(sessions) == 0 and published == []


@pytest.mark.parametrize(
    "query",
    [
        "age=99999999999999999999",
        "age=-5",
        "age=0",
        "age=soon",
        "status=bogus",
        "channel=%00",
        "reason=" + "r" * 100,
        "limit=0",
        "limit=201",
        "limit=many",
        "cursor=garbage",
        "cursor=99999999999999999999999-1",
    ],
)
async def test_bad_ticket_filters_are_refused(client, query):
    await sign_in(client, "bob")
    response = await client.get(f"/api/tickets?{query}")
    assert response.status == 400 and await errors(response)


@pytest.mark.parametrize("query", ["q=%00", "q=" + "x" * 2000])
async def test_bad_faq_searches_are_refused(client, query):
    await sign_in(client, "bob")
    response = await client.get(f"/api/faq/search?{query}")
    assert response.status == 400 and await errors(response)


@pytest.mark.parametrize(
    "body",
    [
        {"username": ["ann"], "password": PASSWORDS["ann"]},
        {"username": "ann", "password": None},
        {"username": "ann\udc80", "password": PASSWORDS["ann"]},
        {"username": "ann", "password": 12345678901},
    ],
)
async def test_bad_sign_in_bodies_are_refused(client, body):
    token = (await (await client.get("/api/login")).json())["csrf_token"]
    raw = json.dumps(body).encode()
    response = await client.post(
        "/api/login",
        data=raw,
        headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
    )
    assert response.status == 400 and await errors(response)


async def test_a_form_body_that_is_not_utf8_is_refused(client, sessions):
    ticket_id = await a_ticket(sessions)
    await sign_in(client, "bob")
    response = await client.post(
        f"/api/tickets/{ticket_id}/reply",
        data=b"csrf_token=\xff\xfe&text=hi",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status in (400, 403) and await errors(response)
    assert await queued(sessions) == 0


# --- paging ---------------------------------------------------------------------------------


async def many_tickets(sessions, count: int) -> list[int]:
    async with sessions() as session, session.begin():
        ids = []
        for i in range(count):
            ticket, _ = await open_ticket(
                session,
                f"web-many-{i}",
                EscalationReason.REQUESTED,
                f"q{i}",
                [],
                "socketio",
                {},
                "",
            )
            ids.append(ticket.id)
        return ids


async def all_pages(client, url: str) -> tuple[list[int], list[dict]]:
    seen: list[int] = []
    pages = []
    while url:
        page = await (await client.get(url)).json()
        pages.append(page)
        seen += [t["id"] for t in page["tickets"]]
        url = page["next"]
    return seen, pages


async def test_the_ticket_list_comes_in_pages_in_the_queues_order(client, sessions):
    ids = await many_tickets(sessions, 7)
    same_time = datetime(2026, 1, 1, tzinfo=UTC)
    async with sessions() as session, session.begin():  # ties are broken by id
        await session.execute(
            update(Ticket).where(Ticket.id.in_(ids[2:5])).values(created_at=same_time)
        )
        await session.execute(update(Ticket).where(Ticket.id == ids[6]).values(status="resolved"))
    await sign_in(client, "bob")
    expected = [
        t["id"] for t in (await (await client.get("/api/tickets?limit=200")).json())["tickets"]
    ]
    assert expected == [ids[6], ids[5], ids[1], ids[0], ids[4], ids[3], ids[2]]

    seen, pages = await all_pages(client, "/api/tickets?limit=3")
    assert seen == expected
    assert [len(p["tickets"]) for p in pages] == [3, 3, 1]
    assert pages[0]["totals"] == {"open": 6, "assigned": 0, "resolved": 1}
    assert pages[0]["total"] == 7 and pages[-1]["next"] is None

    active, pages = await all_pages(client, "/api/tickets?status=active&limit=4&channel=socketio")
    assert active == [i for i in expected if i != ids[6]]
    assert pages[0]["total"] == 6 and "status=active" in pages[0]["next"]
    assert "channel=socketio" in pages[0]["next"]


async def test_the_ticket_list_has_fifty_a_page_by_default(client, sessions):
    ids = await many_tickets(sessions, 51)
    await sign_in(client, "bob")
    page = await (await client.get("/api/tickets")).json()
    assert len(page["tickets"]) == 50 and page["totals"]["open"] == 51
    older = await (await client.get(page["next"])).json()
    assert [t["id"] for t in older["tickets"]] == [ids[0]] and older["next"] is None
