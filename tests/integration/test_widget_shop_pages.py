"""The widget on a shop's own pages, on another origin than the bot's, as the shop set it up:
its greeting, pre-chat form and people's presence; our widget over websocket, and long-polling
where websockets are blocked; rasa-webchat (the most used Rasa chat widget, its own bundle from
npm); and pages of origins the shop did not list.

The stack of this module allows one shop origin (``CORS_ALLOWED_ORIGINS``), greets customers and
asks for their name and e-mail address first; its pages are served
from loopback by an aiohttp app, rasa-webchat's bundle straight from ``node_modules`` (installed
by the Makefile from tests/integration/webchat/package.json, never copied into the repository).
Ports: ``TEST_CROSS_ORIGIN_PORT`` (default 15300) and the next four.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from connectors.widget_session import widget_sender_id
from faq_index.chinese import to_traditional
from testkit.agents import add_agent
from tests.integration.conftest import IDENTITY_SECRET, REPO, Assistant, start_stack, stop_all
from tests.integration.test_handoff import PASSWORD, Console

pytestmark = pytest.mark.integration

BASE_PORT = int(os.environ.get("TEST_CROSS_ORIGIN_PORT", "15300"))
SHOP_PORT, FOREIGN_PORT = BASE_PORT + 3, BASE_PORT + 4
SHOP = f"http://127.0.0.1:{SHOP_PORT}"  # listed in CORS_ALLOWED_ORIGINS
FOREIGN = f"http://127.0.0.1:{FOREIGN_PORT}"  # not listed
WEBCHAT_BUNDLE = REPO / "tests" / "integration" / "webchat" / "node_modules" / "rasa-webchat"
WEBCHAT_BUNDLE = WEBCHAT_BUNDLE / "lib" / "index.js"
HANDOFF = "I've passed this to our team (ticket "
ARTIFACTS = os.environ.get("TEST_ARTIFACTS", "var/artifacts")
GREETING = "Welcome to the shop! Ask us anything."
GREETING_ZH = "欢迎光临！有什么可以帮您？"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, rasa_model: Path) -> Iterator[Assistant]:
    """The assistant, with one shop origin allowed to use the widget's channel."""
    work = tmp_path_factory.mktemp("cross-origin")
    assistant, processes = start_stack(
        work,
        rasa_model,
        f"sqlite:///{work / 'app.db'}",
        (BASE_PORT, BASE_PORT + 1, BASE_PORT + 2),
        identity_secret=IDENTITY_SECRET,
        business_hours="00:00-24:00",
        cors_allowed_origins=SHOP,
        widget_greeting=GREETING,
        widget_greeting_zh=GREETING_ZH,
        widget_prechat_form=True,
    )
    try:
        yield assistant
    finally:
        stop_all(processes)


def our_widget_page(stack: Assistant) -> str:
    servers = stack.settings.servers
    return (
        '<!doctype html><html lang="en"><head><link rel="icon" href="data:,"></head>'
        f'<body><h1>A shop</h1><script src="{servers.web_url}/widget.js" '
        f'data-bot-host="{servers.rasa_url}" data-lang="en"></script></body></html>'
    )


def webchat_page(stack: Assistant) -> str:
    options = {
        "selector": "#webchat",
        "socketUrl": stack.settings.servers.rasa_url,
        "socketPath": "/socket.io/",
        "embedded": True,
        "initPayload": "hello",
        "title": "Shop",
        "params": {"storage": "session"},
    }
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<link rel="icon" href="data:,"></head><body><div id="webchat"></div>'
        '<script src="/rasa-webchat.js"></script>'
        f"<script>WebChat.default({json.dumps(options)}, null);</script></body></html>"
    )


@pytest.fixture()
async def shop(stack: Assistant) -> AsyncIterator[None]:
    """The shop's pages on the allowed origin and, the same pages, on a foreign one."""
    if not WEBCHAT_BUNDLE.is_file():
        pytest.fail(f"no {WEBCHAT_BUNDLE}: `make test` installs it (npm ci)")

    async def home(_: web.Request) -> web.Response:
        return web.Response(text=our_widget_page(stack), content_type="text/html")

    async def webchat(_: web.Request) -> web.Response:
        return web.Response(text=webchat_page(stack), content_type="text/html")

    async def bundle(_: web.Request) -> web.FileResponse:
        return web.FileResponse(WEBCHAT_BUNDLE)

    app = web.Application()
    app.router.add_get("/", home)
    app.router.add_get("/webchat", webchat)
    app.router.add_get("/rasa-webchat.js", bundle)
    runner = web.AppRunner(app)
    await runner.setup()
    for port in (SHOP_PORT, FOREIGN_PORT):
        await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield
    finally:
        await runner.cleanup()


@pytest.fixture()
async def page(browser, shop):
    context = await browser.new_context()
    page = await context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    return page


@pytest.fixture(scope="module")
def console(stack: Assistant) -> Console:
    """Li Na, an agent signed in to the console."""
    asyncio.run(add_agent(stack.settings.database.database_url, "li.na", "Li Na", PASSWORD))
    return Console(stack.settings.servers.web_url, "li.na")


async def agent_replies(console: Console, ticket_id: str, text: str) -> None:
    await asyncio.to_thread(console.call, "POST", f"/api/tickets/{ticket_id}/reply", {"text": text})


# --- the shop's options ------------------------------------------------------------------------


async def fill_in_the_prechat_form(page, name: str = "Li Lei", email: str = "li@example.com"):
    await page.get_by_label("Your name").fill(name)
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_role("button", name="Start the chat").click()
    await page.locator(".sa-input").wait_for()


async def test_greeting_prechat_form_and_offline_agents_then_the_chat(page, stack: Assistant):
    await page.goto(f"{SHOP}/")
    await page.locator(".sa-bubble").click()
    await page.locator(".sa-bot", has_text=GREETING).wait_for()
    presence = page.locator(".sa-presence")
    await presence.wait_for()
    assert "offline" in await presence.inner_text()  # nobody has the console open
    # The form first: the name field has the focus, the message box is hidden.
    name = page.get_by_label("Your name")
    assert await name.evaluate("node => node === document.activeElement")
    assert await page.locator(".sa-input").is_hidden()
    await name.fill("Li Lei")
    await page.get_by_label("E-mail").fill("not an address")
    await page.keyboard.press("Enter")
    assert await page.locator(".sa-input").is_hidden()  # the browser refuses the address
    await page.get_by_label("E-mail").fill("li@example.com")
    await page.keyboard.press("Enter")
    await page.locator(".sa-input").wait_for()
    assert await page.evaluate("document.activeElement.className") == "sa-input"
    await page.locator(".sa-input").fill("How do I reset my password?")
    await page.locator(".sa-input").press("Enter")
    await page.locator(".sa-bot", has_text="password").wait_for(timeout=30_000)

    session_id = await page.evaluate("JSON.parse(localStorage.getItem('shopAssistant.sessionId'))")
    profile = await asyncio.to_thread(customer_profile, stack, session_id)
    assert (profile["name"], profile["email"]) == ("Li Lei", "li@example.com")
    await page.wait_for_timeout(1500)  # ingestion has stored the turn by now
    await page.reload()  # a conversation under way: no form, no greeting again
    await page.locator(".sa-customer", has_text="How do I reset my password?").wait_for()
    assert await page.locator(".sa-prechat").is_hidden()
    assert await page.locator(".sa-bot", has_text=GREETING).count() == 0
    assert page.errors == []


async def test_a_hong_kong_page_greets_and_asks_in_traditional_chinese(page, stack: Assistant):
    await page.goto(f"{stack.settings.servers.web_url}/demo?lang=zh-HK")
    await page.get_by_role("button", name="打開聊天").click()
    await page.locator(".sa-bot", has_text=to_traditional(GREETING_ZH, "zh-HK")).wait_for()
    assert await page.get_by_label("您的稱呼").is_visible()
    assert await page.get_by_label("電子郵箱").is_visible()
    assert "客服暫時離線" in await page.locator(".sa-presence").inner_text()
    os.makedirs(ARTIFACTS, exist_ok=True)
    await page.screenshot(path=f"{ARTIFACTS}/widget-prechat-zh-HK.png")


def customer_profile(stack: Assistant, session_id: str) -> dict:
    """The name and e-mail address of the profile of widget conversation ``session_id``."""
    path = stack.settings.database.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT c.name, c.email FROM customers c JOIN conversations v"
            " ON v.customer_id = c.id WHERE v.sender_id = ?",
            (widget_sender_id(session_id),),
        ).fetchone()
    return {"name": row[0], "email": row[1]} if row else {}


# --- rasa-webchat ------------------------------------------------------------------------------


async def test_rasa_webchat_shows_an_agents_reply(page, console: Console):
    await page.goto(f"{SHOP}/webchat")
    await page.locator(".rw-response").first.wait_for(timeout=30_000)  # the answer to "hello"
    await page.locator(".rw-new-message").fill("I want to talk to a human")
    await page.locator(".rw-send").click()
    opened = page.locator(".rw-response", has_text=HANDOFF)
    await opened.wait_for(timeout=30_000)
    ticket_id = re.search(r"ticket (\d+)", await opened.inner_text())[1]

    reply = "Hello, this is Li Na. How can I help?"
    await agent_replies(console, ticket_id, reply)
    await page.locator(".rw-response", has_text=reply).wait_for(timeout=20_000)


# --- our widget --------------------------------------------------------------------------------

# A WebSocket that fails to connect, as behind a proxy that refuses the upgrade.
BLOCKED_WEBSOCKETS = """
window.blockedSockets = 0;
window.WebSocket = class BlockedWebSocket extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.readyState = 0;
    window.blockedSockets += 1;
    setTimeout(() => {
      this.readyState = 3;
      if (this.onerror) this.onerror(new Event("error"));
      if (this.onclose) this.onclose(new CloseEvent("close", { code: 1006 }));
    }, 10);
  }
  send() {}
  close() {}
};
"""


async def test_our_widget_on_the_shops_page_falls_back_to_long_polling(page, console: Console):
    """Websockets blocked (a proxy, a firewall): long-polling, answers, history, agent names."""
    await page.add_init_script(BLOCKED_WEBSOCKETS)
    polls: list[str] = []
    page.on("request", lambda r: "transport=polling" in r.url and polls.append(r.url))
    await page.goto(f"{SHOP}/")
    await page.locator(".sa-bubble").click()
    await fill_in_the_prechat_form(page)
    await page.locator(".sa-input").fill("I want to talk to a human")
    await page.locator(".sa-input").press("Enter")
    opened = page.locator(".sa-bot", has_text=HANDOFF)
    await opened.wait_for(timeout=30_000)
    assert await page.evaluate("window.blockedSockets") and polls  # tried, failed, polled

    reply = "Li Na here, over long-polling."
    await agent_replies(console, re.search(r"ticket (\d+)", await opened.inner_text())[1], reply)
    message = page.locator(".sa-msg.sa-agent", has_text=reply)
    await message.wait_for(timeout=20_000)
    assert "Li Na" in await message.locator(".sa-agent").inner_text()

    await page.wait_for_timeout(1500)  # ingestion has stored the turns by now
    await page.reload()
    await page.locator(".sa-customer", has_text="I want to talk to a human").wait_for()
    await page.locator(".sa-msg.sa-agent", has_text=reply).wait_for()
    assert page.errors == []  # no CORS refusal


async def test_our_widget_on_a_page_the_shop_did_not_list_cannot_talk(page):
    await page.goto(f"{FOREIGN}/")
    await page.locator(".sa-bubble").click()
    await fill_in_the_prechat_form(page)  # the web service answers any page
    await page.locator(".sa-input").fill("How do I reset my password?")
    await page.locator(".sa-input").press("Enter")
    await page.wait_for_timeout(5000)
    assert await page.locator(".sa-bot").all_inner_texts() == [GREETING]  # no answer
    assert await page.locator(".sa-status", has_text="Offline").count() == 1


# --- the channel, as a plain HTTP client sees it -----------------------------------------------


def polling_handshake(stack: Assistant, origin: str | None) -> tuple[int, dict[str, str], str]:
    url = f"{stack.settings.servers.rasa_url}/socket.io/?EIO=4&transport=polling"
    request = urllib.request.Request(url, headers={"Origin": origin} if origin else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@pytest.mark.parametrize("origin", [SHOP, "http://localhost:{web_port}", "{web_url}"])
async def test_long_polling_answers_cors_for_allowed_origins(stack: Assistant, origin: str):
    origin = origin.format(
        web_url=stack.settings.servers.web_url, web_port=stack.settings.servers.web_port
    )
    status, headers, body = await asyncio.to_thread(polling_handshake, stack, origin)
    assert status == 200 and body.startswith("0{")  # Engine.IO's open packet
    assert headers.get("Access-Control-Allow-Origin") == origin
    assert "Access-Control-Allow-Credentials" not in headers


@pytest.mark.parametrize("origin", [FOREIGN, "https://evil.example", "null", SHOP + ".evil.io"])
async def test_long_polling_refuses_other_origins(stack: Assistant, origin: str):
    status, headers, body = await asyncio.to_thread(polling_handshake, stack, origin)
    assert status == 400 and "not an accepted origin" in body
    assert "Access-Control-Allow-Origin" not in headers


async def websocket_open(stack: Assistant, origin: str) -> str:
    """The first frame of a websocket handshake from a page of ``origin``."""
    url = f"{stack.settings.servers.rasa_url}/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as session, session.ws_connect(url, origin=origin) as ws:
        return (await ws.receive(timeout=10)).data


async def test_a_websocket_from_an_allowed_origin_opens(stack: Assistant):
    assert (await websocket_open(stack, SHOP)).startswith("0{")


@pytest.mark.parametrize("origin", [FOREIGN, "https://evil.example"])
async def test_a_websocket_from_another_origin_is_refused(stack: Assistant, origin: str):
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await websocket_open(stack, origin)
    assert refused.value.status == 400
