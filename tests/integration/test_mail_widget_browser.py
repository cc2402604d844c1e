"""E-mail continuity in the widget, in real Chromium against a stack of its own (Rasa, actions,
web service) with mail on and the shop closed: the bot asks for an address when it hands over,
the typed address is confirmed and stored with the customer's consent, and an agent's reply the
customer sees in the widget is not e-mailed.

Ports: ``TEST_MAIL_BROWSER_PORT`` (default 18500) and the three after it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.domain.mail.chat_texts import chat_texts_for
from bot.domain.mail.consent import consented_address
from bot.domain.mail.continuation import mails_of_conversation
from bot.settings.hours import DAYS
from bot.store.db import create_engine, session_factory
from bot.store.models import Conversation, EmailConsent
from testkit.agents import add_agent
from testkit.fake_smtp import FakeSmtp
from tests.integration.conftest import Assistant, start_stack, stop_all
from tests.integration.test_handoff import PASSWORD, Console
from tests.integration.test_widget_browser import open_widget

pytestmark = pytest.mark.integration

BASE_PORT = int(os.environ.get("TEST_MAIL_BROWSER_PORT", "18500"))
TEXTS = chat_texts_for("en")


@pytest.fixture(scope="module")
def closed_shop(tmp_path_factory, rasa_model: Path) -> Iterator[Assistant]:
    """The assistant with mail on, the shop closed today (open one minute on another day) and
    a reply waiting EMAIL_CONTINUITY_DELAY for the widget's "seen" signal."""
    work = tmp_path_factory.mktemp("mail-widget")
    other_day = DAYS[(datetime.now(UTC).weekday() + 3) % 7].title()
    assistant, processes = start_stack(
        work,
        rasa_model,
        f"sqlite:///{work / 'app.db'}",
        (BASE_PORT, BASE_PORT + 1, BASE_PORT + 2),
        business_hours=f"{other_day} 09:00-09:01",
        business_timezone="UTC",
        smtp_host="127.0.0.1",
        smtp_port=BASE_PORT + 3,
        smtp_security="none",
        mail_from="Example Shop <support@shop.example>",
        mail_reply_domain="reply.shop.example",
        email_continuity_delay=5,  # ample for the widget to show the reply and say so
        shop_name="Example Shop",
    )
    try:
        yield assistant
    finally:
        stop_all(processes)


@pytest.fixture()
async def shop_smtp() -> AsyncIterator[FakeSmtp]:
    server = FakeSmtp(port=BASE_PORT + 3)
    await server.start()
    yield server
    await server.stop()


async def _until(condition, timeout: float = 20.0):
    """Poll ``condition`` (an async callable) until it returns something true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := await condition()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still not so after {timeout} s")
        await asyncio.sleep(0.2)
    return value


async def test_out_of_hours_the_widget_asks_for_the_address_and_a_seen_reply_is_not_mailed(
    closed_shop: Assistant, browser, shop_smtp: FakeSmtp
):
    page = await (await browser.new_context()).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await open_widget(page, closed_shop)
    await page.get_by_role("button", name="Talk to a person").click()
    await page.locator(".sa-bot", has_text=TEXTS.ask[:40]).wait_for(timeout=30_000)

    await page.locator(".sa-input").fill("ann@localhost")
    await page.locator(".sa-input").press("Enter")
    await page.locator(".sa-bot", has_text=TEXTS.invalid[:40]).wait_for(timeout=30_000)
    await page.locator(".sa-input").fill("It is Ann.Lee@Example.com")
    await page.locator(".sa-input").press("Enter")
    confirmed = TEXTS.confirmed.format(address="Ann.Lee@example.com")
    await page.locator(".sa-bot", has_text=confirmed).wait_for(timeout=30_000)

    engine = create_engine(closed_shop.settings.database.database_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            conversation = await session.scalar(select(Conversation))
            assert conversation is not None
            assert await consented_address(session, conversation.customer_id) == (
                "Ann.Lee@example.com"
            )
            consent = await session.get_one(EmailConsent, conversation.customer_id)
            assert consent.source == "chat"

        database_url = closed_shop.settings.database.database_url
        await add_agent(database_url, "mei", "Mei", PASSWORD)
        console = await asyncio.to_thread(Console, closed_shop.settings.servers.web_url, "mei")
        queue = await asyncio.to_thread(console.call, "GET", "/api/tickets")
        [ticket_id] = [t["id"] for t in queue["tickets"]]
        reply = "Hello Ann, your parcel leaves tomorrow."
        await asyncio.to_thread(
            console.call, "POST", f"/api/tickets/{ticket_id}/reply", {"text": reply}
        )
        await page.locator(".sa-msg.sa-agent", has_text=reply).wait_for(timeout=20_000)

        async def mail_settled():
            async with sessions() as session:
                states = await mails_of_conversation(session, conversation.id)
            settled = states and states[0].state != "waiting"
            return [(m.state, m.error) for m in states] if settled else None

        # Seen in the widget: not mailed.
        assert await _until(mail_settled) == [("cancelled", "seen in the chat")]
        assert shop_smtp.received == []
        assert errors == []
    finally:
        await engine.dispose()
