"""The console as an agent works in it all day, in real Chromium: a Chinese agent's session
(the interface, times and queue in Chinese), the queue's order and waits, a ticket whose
transcript follows the customer live, keyboard shortcuts, notifications and sound, and an
English agent on a phone-sized screen.

The console needs the web service only: it runs alone (as :mod:`test_dashboard_browser` does),
on a SQLite database, on ports of ``TEST_CONSOLE_PORT`` (default 18210) and the next. Customers
write as Rasa's SQL event broker would (rows of its events table), and the web service's
ingestion worker reads them, as in production. With ``SCREENSHOTS_DIR`` set, the tests save
``console-queue-zh.png``, ``console-ticket-zh.png``, ``console-queue-en.png``,
``console-ticket-en.png`` and ``console-phone-en.png`` there.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import expect
from sqlalchemy import update

from bot.domain.tickets import open_ticket
from bot.settings import Settings
from bot.store.db import create_engine, session_factory
from bot.store.migrate import upgrade
from bot.store.models import BrokerEvent, Ticket
from testkit.agents import add_agent, unique_username
from testkit.customers import PASSWORD
from tests.integration.conftest import copy_faq_index, lone_web_service
from vocabulary import EscalationReason

pytestmark = pytest.mark.integration

PORT = int(os.environ.get("TEST_CONSOLE_PORT", "18210"))
TARGET = 120  # FIRST_RESPONSE_TARGET for these tests, seconds
HOSTILE = '<img src=x onerror="window.pwned=1">我的包裹呢'


async def in_database(database_url: str, work) -> object:
    engine = create_engine(database_url)
    try:
        return await work(session_factory(engine))
    finally:
        await engine.dispose()


def event(sender: str, body: dict) -> BrokerEvent:
    return BrokerEvent(sender_id=sender, data=json.dumps({"sender_id": sender, **body}))


def said(text: str) -> dict:
    return {
        "event": "user",
        "timestamp": time.time(),
        "text": text,
        "parse_data": {"intent": {"name": "ask_question", "confidence": 0.9}, "text": text},
        "input_channel": "socketio",
        "message_id": uuid.uuid4().hex,
        "metadata": {},
    }


async def a_customer_asks(
    settings: Settings, question: str, language: str = "zh", waited: float = 0
) -> tuple[int, str]:
    """A customer's question handed over to people, as the bot does it: the ticket id and the
    conversation's sender id. ``waited``: how many seconds ago it was opened."""
    sender = f"web-{uuid.uuid4().hex[:10]}"

    async def work(sessions):
        async with sessions() as session, session.begin():
            session.add(event(sender, said(question)))
            session.add(
                event(
                    sender,
                    {
                        "event": "slot",
                        "timestamp": time.time(),
                        "name": "language",
                        "value": language,
                    },
                )
            )
        async with sessions() as session, session.begin():
            ticket, _ = await open_ticket(
                session, sender, EscalationReason.REQUESTED, question, [], "socketio", {}, ""
            )
            if waited:
                ticket.created_at = datetime.now(UTC) - timedelta(seconds=waited)
            session.add(
                event(
                    sender,
                    {
                        "event": "slot",
                        "timestamp": time.time(),
                        "name": "handoff_ticket",
                        "value": str(ticket.id),
                    },
                )
            )
            return ticket.id

    ticket_id = await in_database(settings.database.database_url, work)
    return ticket_id, sender


async def the_customer_writes(settings: Settings, sender: str, text: str) -> None:
    async def work(sessions):
        async with sessions() as session, session.begin():
            session.add(event(sender, said(text)))

    await in_database(settings.database.database_url, work)


async def assign(settings: Settings, ticket_id: int, agent_username: str) -> None:
    from sqlalchemy import select

    from bot.store.models import Agent

    async def work(sessions):
        async with sessions() as session, session.begin():
            agent_id = await session.scalar(
                select(Agent.id).where(Agent.username == agent_username)
            )
            await session.execute(
                update(Ticket)
                .where(Ticket.id == ticket_id)
                .values(assigned_agent_id=agent_id, status="assigned")
            )

    await in_database(settings.database.database_url, work)


@pytest.fixture(scope="module")
def web(tmp_path_factory) -> Iterator[Settings]:
    """The web service alone, with a copy of the FAQ index (the ticket page searches it)."""
    work = tmp_path_factory.mktemp("console")
    index_dir = copy_faq_index(work)
    settings = Settings(
        web_port=PORT,
        rasa_port=PORT + 1,  # never started: replies wait in the outbox
        rasa_api_token=uuid.uuid4().hex,
        run_dir=work / "run",
        database_url=f"sqlite:///{work / 'app.db'}",
        first_response_target=TARGET,
        ingest_interval=0.05,
    )
    asyncio.run(upgrade(settings.database.database_url))
    with lone_web_service(settings, index_dir):
        yield settings


async def signed_in(browser, web: Settings, name: str, locale: str, **context):
    """A page of a browser context of its own, in ``locale``, signed in with the form as a new
    agent called ``name``; (page, username)."""
    username = await add_agent(web.database.database_url, unique_username("a"), name, PASSWORD)
    ctx = await browser.new_context(locale=locale, **context)
    await ctx.grant_permissions(["notifications"], origin=web.servers.web_url)
    page = await ctx.new_page()
    await page.goto(f"{web.servers.web_url}/console/")
    user, password, button, role = {
        "zh-CN": ("用户名", "密码", "登录", "客服"),
        "en-US": ("User name", "Password", "Sign in", "agent"),
    }[locale]
    await page.get_by_label(user).fill(username)
    await page.get_by_label(password, exact=True).fill(PASSWORD)
    await page.get_by_role("button", name=button).click()
    await page.wait_for_url("**/console/")
    await page.get_by_text(f"{name} ({role})").wait_for()
    return page, username


async def until(page, expression: str, good, timeout: float = 10.0):
    """The value of ``expression`` in ``page`` once ``good`` says so (the console's CSP lets
    no evaluated string poll inside the page)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await page.evaluate(expression)
        if good(value):
            return value
        assert time.monotonic() < deadline, f"{expression} is still {value!r}"
        await asyncio.sleep(0.1)


def screenshots() -> str | None:
    where = os.environ.get("SCREENSHOTS_DIR")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
    return where


async def test_a_chinese_agent_works_the_queue_and_a_live_ticket(web: Settings, browser):
    oldest, _ = await a_customer_asks(web, "我的快递三天没动了", waited=TARGET + 60)
    middle, _ = await a_customer_asks(web, "退款什么时候到账？", waited=TARGET * 0.6)
    page, _ = await signed_in(
        browser, web, "李娜", "zh-CN", viewport={"width": 1280, "height": 860}
    )
    await page.get_by_role("heading", name="工单").wait_for()
    assert await page.locator("html").get_attribute("lang") == "zh-CN"
    rows = page.locator("#tickets tr[data-ticket]")
    await rows.nth(1).wait_for()
    first_two = [await rows.nth(i).get_attribute("data-ticket") for i in range(2)]
    assert first_two == [str(oldest), str(middle)]  # the longest wait first
    assert "late" in await rows.nth(0).locator("td.wait").get_attribute("class")
    assert "near" in await rows.nth(1).locator("td.wait").get_attribute("class")
    assert (
        "访客 " in await rows.nth(0).inner_text() and "网页聊天" in await rows.nth(0).inner_text()
    )
    created = rows.nth(0).locator("time")
    assert "前" in await created.inner_text()  # relative, "3 分钟前"
    assert "(Asia/Shanghai)" in await created.get_attribute("title")  # absolute on hover

    # Sound and notifications are the browser's settings; a new ticket arrives live.
    await page.get_by_text("设置", exact=True).click()
    await page.get_by_label("提示音").check()
    await page.get_by_label("浏览器通知").check()
    await page.keyboard.press("Escape")  # closes the settings
    await expect(page.get_by_label("提示音")).to_be_hidden()
    sounds_before = await page.evaluate("window.consoleSounds || 0")
    hostile, sender = await a_customer_asks(web, HOSTILE)
    await page.locator(f'tr[data-ticket="{hostile}"]').wait_for(timeout=15_000)
    notice = (await until(page, "window.consoleNotices || []", lambda found: len(found) > 0))[0]
    assert notice["title"] == "新工单" and str(hostile) in notice["body"]
    assert await page.evaluate("window.consoleSounds") > sounds_before
    assert await page.locator(f'tr[data-ticket="{hostile}"].unread').count() == 1
    if where := screenshots():
        await page.screenshot(path=f"{where}/console-queue-zh.png")

    # Keyboard: j moves down, o opens; "?" lists the shortcuts.
    await page.locator("body").press("?")
    await page.get_by_role("dialog", name="键盘快捷键").wait_for()
    await page.keyboard.press("Escape")
    await page.locator("body").press("j")
    await page.locator("body").press("j")
    await page.locator("body").press("o")
    await page.wait_for_url(f"**/console/tickets/{middle}")
    await page.locator("body").press("q")
    await page.wait_for_url("**/console/")
    await page.locator("body").press("n")  # the next ticket that needs attention
    await page.wait_for_url(f"**/console/tickets/{oldest}")

    await page.goto(f"{web.servers.web_url}/console/tickets/{hostile}")
    await page.get_by_text(HOSTILE).first.wait_for()  # the markup, as text
    assert await page.evaluate("window.pwned") is None
    reply = page.get_by_label("回复客户")
    assert await reply.get_attribute("data-saved-replies") is not None
    await reply.click()
    await page.keyboard.type("c")  # typing, not a shortcut: nothing is claimed
    await page.wait_for_timeout(300)
    assert await page.locator("#status").inner_text() == "待处理"
    await page.keyboard.press("Escape")
    await page.locator("body").press("c")
    await page.locator("#status", has_text="已分配").wait_for()
    await page.locator("#assignee", has_text="李娜").wait_for()

    # The customer writes while the ticket is open: it shows without a reload.
    written = f"还在吗？{uuid.uuid4().hex[:4]}"
    await the_customer_writes(web, sender, written)
    start = time.perf_counter()
    await page.locator("#transcript li.customer", has_text=written).wait_for(timeout=10_000)
    print(f"\ncustomer message to open ticket page: {time.perf_counter() - start:.2f} s")

    await reply.fill("")
    await page.keyboard.press("Escape")
    await page.locator("body").press("r")
    await page.keyboard.type("您好，我们正在查询您的包裹。")
    await page.keyboard.press("Control+Enter")
    await page.get_by_text("回复已发送。").wait_for()
    await expect(reply).to_have_value("")
    if where := screenshots():
        await page.screenshot(path=f"{where}/console-ticket-zh.png")
    await page.keyboard.press("Escape")  # out of the reply box: keys are shortcuts again
    await page.locator("body").press("e")
    await page.locator("#status", has_text="已解决").wait_for()


async def test_the_customer_of_my_ticket_writing_notifies_me_on_another_page(
    web: Settings, browser
):
    page, username = await signed_in(browser, web, "Chen Jing", "en-US")
    ticket_id, sender = await a_customer_asks(web, "Where is my parcel?", language="en")
    await assign(web, ticket_id, username)
    await page.goto(f"{web.servers.web_url}/console/dashboard")  # any console page
    await page.get_by_role("heading", name="Dashboard", exact=True).wait_for()
    await page.wait_for_timeout(1000)  # the page has loaded my tickets
    await page.evaluate("window.consoleNotices = []")
    await the_customer_writes(web, sender, "Hello? It is urgent.")
    notices = await until(
        page, "window.consoleNotices || []", lambda found: any("wrote" in n["title"] for n in found)
    )
    mine = next(n for n in notices if "wrote" in n["title"])
    assert mine["title"] == f"The customer wrote in ticket {ticket_id}"
    assert mine["body"] == "Hello? It is urgent." and mine["url"].endswith(f"/{ticket_id}")


async def test_an_english_agent_on_a_phone(web: Settings, browser):
    await a_customer_asks(web, "Can I change my delivery address?", language="en", waited=30)
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
    page, _ = await signed_in(browser, web, "Sam Lee", "en-US", **phone)
    await page.get_by_role("heading", name="Tickets").wait_for()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways
    if where := screenshots():
        await page.screenshot(path=f"{where}/console-phone-en.png")
    first = page.locator("#tickets tr[data-ticket]").first
    await first.locator("a").click()
    await page.wait_for_url("**/console/tickets/*")
    reply = page.get_by_label("Reply to the customer")
    box = await reply.bounding_box()
    assert box["width"] >= 330 and box["height"] >= 120  # large, the width of the screen
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    # Every form field has a label; the tools are folded away until asked for.
    unlabelled = await page.evaluate(
        """[...document.querySelectorAll('input:not([type=hidden]), textarea, select')]
             .filter(e => !e.labels?.length && !e.getAttribute('aria-label')).map(e => e.id || e.name)"""
    )
    assert unlabelled == []
    assert not await page.get_by_label("Entry id").is_visible()
    # The language switch: the agent's choice, kept for the next page.
    await page.get_by_text("Settings", exact=True).click()
    await page.get_by_label("Language").select_option("zh")
    await page.get_by_label("回复客户").wait_for()
    await page.goto(f"{web.servers.web_url}/console/")
    await page.get_by_role("heading", name="工单").wait_for()


async def test_screenshots_of_the_english_console(web: Settings, browser):
    await a_customer_asks(
        web, "My parcel arrived damaged, what now?", language="en", waited=TARGET * 2
    )
    ticket_id, sender = await a_customer_asks(
        web, "Do you ship to Canada?", language="en", waited=40
    )
    await the_customer_writes(web, sender, "And how long does it take?")
    page, _ = await signed_in(
        browser, web, "Alex Kim", "en-US", viewport={"width": 1280, "height": 860}
    )
    await page.get_by_role("heading", name="Tickets").wait_for()
    assert "Visitor " in await page.locator("#tickets").inner_text()
    if where := screenshots():
        await page.screenshot(path=f"{where}/console-queue-en.png")
    await page.goto(f"{web.servers.web_url}/console/tickets/{ticket_id}")
    await page.locator("#transcript li.customer", has_text="how long").wait_for(timeout=10_000)
    await page.get_by_text("Earlier tickets").wait_for()
    if where := screenshots():
        await page.screenshot(path=f"{where}/console-ticket-en.png")

    # Opened, it is read; when its customer writes again, the queue marks it unread, live.
    await page.goto(f"{web.servers.web_url}/console/")
    row = page.locator(f'tr[data-ticket="{ticket_id}"]')
    await expect(row).not_to_have_class(re.compile(r"\bunread\b"))
    await the_customer_writes(web, sender, "Hello again?")
    await expect(row).to_have_class(re.compile(r"\bunread\b"), timeout=10_000)


async def test_two_tabs_tell_the_agent_once(web: Settings, browser):
    page, _ = await signed_in(browser, web, "Kim Ho", "en-US")
    other = await page.context.new_page()
    await other.goto(f"{web.servers.web_url}/console/gaps")
    await other.get_by_role("heading", name="Knowledge gaps").wait_for()
    await page.wait_for_timeout(500)  # both pages listen
    ticket_id, _ = await a_customer_asks(web, "Is the shop open on Sunday?", language="en")
    await page.locator(f'tr[data-ticket="{ticket_id}"]').wait_for(timeout=15_000)
    await other.wait_for_timeout(1000)
    told = [
        notice
        for tab in (page, other)
        for notice in await tab.evaluate("window.consoleNotices || []")
        if str(ticket_id) in notice["body"]
    ]
    assert len(told) == 1 and told[0]["title"] == "New ticket"
