"""Agents' tools in real Chromium: saved replies inserted by typing "/" and a code, and the team
page's status and assignment switches.

The web service runs in the test's process (its pages and API need nothing else), on a
throw-away SQLite database, on ``TEST_AGENTS_WEB_PORT`` (default: a port the kernel picks).
With ``SCREENSHOTS_DIR`` set, the tests save ``saved-replies.png`` and ``team.png`` there.
The "/" insertion is exercised in full (ranking, keys, Escape, click, hostile text) in the
saved-replies page's "Try them" box, and on a ticket page's reply box, whose customer writes
Traditional Chinese (zh-TW).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.domain.auth import create_agent
from bot.domain.saved_replies import check_draft, create_saved_reply
from bot.domain.tickets import open_ticket
from bot.settings import Settings
from bot.store.db import create_engine, session_factory
from bot.store.migrate import upgrade
from bot.store.models import Customer
from bot.web.app import create_app
from vocabulary import EscalationReason

pytestmark = pytest.mark.integration

PASSWORD = "browser test passphrase"
REPLIES = [
    ("refund", "en", "Refunds reach your card within 1-7 business days."),
    ("refund", "zh-TW", "退款會在 1-7 個工作天內退回原付款方式。"),
    ("refund-late", "en", "Sorry your refund is late: I have asked the payments team."),
    ("hello", "en", "Hello! How can I help?"),
    ("hostile", "en", '<img src=x onerror="document.title=1">'),
]


@dataclass
class Console:
    url: str
    ticket_id: int


@pytest.fixture()
async def console(tmp_path) -> AsyncIterator[Console]:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    await upgrade(url)
    engine = create_engine(url)
    async with session_factory(engine)() as session, session.begin():
        admin = await create_agent(session, "zhao", "Zhao Lei", PASSWORD, "admin")
        await create_agent(session, "li", "Li Na", PASSWORD, "agent")
        for code, language, text in REPLIES:
            await create_saved_reply(session, check_draft(code, language, text), admin.id)
        ticket, _ = await open_ticket(
            session, "web-tw", EscalationReason.REQUESTED, "退款呢？", [], "socketio", {}, ""
        )
        (await session.get_one(Customer, ticket.customer_id)).language = "zh-TW"
    await engine.dispose()
    settings = Settings(
        database_url=url, rasa_port=1, rasa_api_token="unused", ingest_interval=0.05
    )
    port = int(os.environ.get("TEST_AGENTS_WEB_PORT", "0"))
    server = TestServer(create_app(settings), host="127.0.0.1", port=port)
    await server.start_server()
    try:
        yield Console(str(server.make_url("")).rstrip("/"), ticket.id)
    finally:
        await server.close()


async def signed_in_page(browser, console: Console, username: str):
    """A page whose browser context holds ``username``'s session."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    token = (await (await page.request.get(f"{console.url}/api/login")).json())["csrf_token"]
    response = await page.request.post(
        f"{console.url}/api/login",
        data={"username": username, "password": PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    assert response.ok, await response.text()
    return page


async def screenshot(page, name: str) -> None:
    """With ``SCREENSHOTS_DIR`` set, the page as it is now, into that directory."""
    directory = os.environ.get("SCREENSHOTS_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(directory) / name))


async def test_typing_slash_and_a_code_inserts_a_saved_reply(browser, console):
    page = await signed_in_page(browser, console, "li")
    await page.goto(f"{console.url}/console/saved-replies")
    await page.get_by_label("Customer's language").select_option("zh-TW")
    box = page.locator("#try-reply")
    listbox = page.get_by_role("listbox", name="Saved replies")
    await box.click()
    await box.press_sequentially("Hi. /ref")
    await listbox.wait_for()
    options = listbox.get_by_role("option")
    # The exact code first, in the customer's language first; then longer codes.
    assert [await o.text_content() for o in await options.all()] == [
        f"/refund zh-TW {REPLIES[1][2]}",
        f"/refund en {REPLIES[0][2]}",
        f"/refund-late en {REPLIES[2][2]}",
    ]
    await screenshot(page, "saved-replies.png")
    first = await options.nth(0).get_attribute("id")
    assert await box.get_attribute("aria-activedescendant") == first
    assert await options.nth(0).get_attribute("aria-selected") == "true"
    await box.press("ArrowDown")
    assert await box.get_attribute("aria-activedescendant") == await options.nth(1).get_attribute(
        "id"
    )
    await box.press("ArrowUp")
    await box.press("Enter")
    assert await box.input_value() == f"Hi. {REPLIES[1][2]}"
    assert await listbox.count() == 0 or not await listbox.is_visible()

    # Escape closes the list, which stays closed while that "/code" is typed on.
    await box.press_sequentially(" /he")
    await listbox.wait_for()
    await box.press("Escape")
    await box.press_sequentially("l")
    assert not await listbox.is_visible()
    assert await box.input_value() == f"Hi. {REPLIES[1][2]} /hel"

    # A click inserts too; a text that looks like HTML is shown and inserted as text.
    await box.fill("")
    await box.press_sequentially("/hos")
    await listbox.wait_for()
    assert await listbox.locator("img").count() == 0
    await listbox.get_by_role("option").first.click()
    assert await box.input_value() == REPLIES[4][2]
    assert await page.title() != "1"

    # No saved reply starts with the code: no list.
    await box.fill("")
    await box.press_sequentially("/nothing")
    assert not await listbox.is_visible()
    await page.context.close()


async def test_the_ticket_reply_box_offers_the_customers_language_first(browser, console):
    page = await signed_in_page(browser, console, "li")
    await page.goto(f"{console.url}/console/tickets/{console.ticket_id}")
    box = page.locator("textarea[data-saved-replies]")
    await box.click()
    await box.press_sequentially("/refund")
    listbox = page.get_by_role("listbox", name="Saved replies")
    await listbox.wait_for()
    first = listbox.get_by_role("option").first
    assert (await first.text_content() or "").startswith("/refund zh-TW")
    await box.press("Enter")
    assert await box.input_value() == REPLIES[1][2]
    assert not await listbox.is_visible()
    await page.context.close()


async def test_the_team_page_switches_an_agents_status_and_assignment(browser, console):
    page = await signed_in_page(browser, console, "li")
    await page.goto(f"{console.url}/console/team")
    assert await page.locator("#my-status").get_attribute("data-status") == "online"
    assert await page.locator("#auto-assign-toggle").count() == 0  # not an admin
    await page.get_by_role("button", name="Set me away").click()
    await page.get_by_role("button", name="Set me online").wait_for()
    assert await page.locator("#my-status").get_attribute("data-status") == "away"
    await screenshot(page, "team.png")
    row = page.locator("#team tr", has_text="Li Na")
    assert (await row.locator("td.status").inner_text()).strip() == "Away"
    status = await page.request.get(f"{console.url}/api/me/status")
    assert await status.json() == {"status": "away"}
    await page.get_by_role("button", name="Set me online").click()
    await page.get_by_role("button", name="Set me away").wait_for()
    await page.context.close()

    admin = await signed_in_page(browser, console, "zhao")
    await admin.goto(f"{console.url}/console/team")
    assert await admin.locator("#auto-assign-state").get_attribute("data-enabled") == "on"
    await admin.get_by_role("button", name="Switch automatic assignment off").click()
    await admin.get_by_role("button", name="Switch automatic assignment on").wait_for()
    assert await admin.locator("#auto-assign-state").get_attribute("data-enabled") == "off"
    await admin.context.close()
