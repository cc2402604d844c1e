"""Insights in real Chromium, on the real assistant: a plain agent downloads the conversations
CSV from the dashboard's link, and an admin teaches the bot a knowledge gap on the gaps page,
after which the bot answers that question itself.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from pathlib import Path

import pytest

from bot.domain.knowledge import merged_entries
from bot.store.db import create_engine, session_factory
from testkit.agents import add_agent, unique_username
from testkit.customers import PASSWORD, Customer
from tests.integration.conftest import REPO, Assistant
from tests.integration.test_console_browser import signed_in

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def agent(assistant: Assistant) -> str:
    username = unique_username("zhao")
    url = assistant.settings.database.database_url
    return asyncio.run(add_agent(url, username, "Zhao Lei", PASSWORD))


@pytest.fixture(scope="module")
def admin(assistant: Assistant) -> str:
    """An admin: only admins may add to the FAQ unless AGENTS_MAY_PUBLISH_FAQ is set."""
    username = unique_username("liu")
    url = assistant.settings.database.database_url
    return asyncio.run(add_agent(url, username, "Liu Yang", PASSWORD, role="admin"))


async def first_reply(assistant: Assistant, question: str) -> str:
    """What the bot first says to a new customer who asks ``question``."""
    async with Customer(assistant.settings.servers.rasa_url) as customer:
        await customer.say(question)
        return (await asyncio.wait_for(customer.received.get(), 30)).get("text") or ""


async def answer_of(assistant: Assistant, entry_id: str) -> str:
    """The English answer of the FAQ entry ``entry_id``, agents' additions included."""
    sources = assistant.settings.web.faq_sources
    engine = create_engine(assistant.settings.database.database_url)
    try:
        async with session_factory(engine)() as session:
            entries = await merged_entries(session, [REPO / sources])
    finally:
        await engine.dispose()
    entry = next(entry for entry in entries if entry.id == entry_id)
    return entry.localized("en")[1].answer


async def test_an_agent_downloads_the_conversations_from_the_dashboard(
    assistant: Assistant, agent: str, browser
):
    async with Customer(assistant.settings.servers.rasa_url) as customer:
        await customer.say("Where is my order?")
        await customer.hear("")
    page = await signed_in(browser, assistant, agent, "Zhao Lei (agent)")
    await page.goto(f"{assistant.settings.servers.web_url}/console/dashboard")
    deadline = time.monotonic() + 30
    while True:  # the ingestion worker stores the conversation within a second or so
        async with page.expect_download() as started:
            await page.locator("#download-csv").click()
        download = await started.value
        body = Path(await download.path()).read_bytes()
        assert body.startswith("\ufeff".encode())
        header, *rows = list(csv.reader(io.StringIO(body.decode("utf-8")[1:], newline="")))
        if rows or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    assert download.suggested_filename.startswith("insights-conversations-")
    assert download.suggested_filename.endswith(".csv")
    assert header[:3] == ["conversation_id", "customer_id", "customer_name"]
    assert rows, "the customer's conversation is not in the export"
    assert all(row[0].isdigit() for row in rows)  # database ids ...
    assert customer.sender_id not in body.decode("utf-8")  # ... never the widget's


async def test_an_accepted_gap_group_is_answered_by_the_bot(
    assistant: Assistant, admin: str, browser
):
    marker = uuid.uuid4().hex[:6]
    # A topic no other test asks about: the accepted questions stay in the shared FAQ, and
    # test_handoff's "Can I pay with seashells?" must still find nothing.
    # (Both stay far below the FAQ's thresholds whatever the marker: checked on 30 markers.)
    questions = [
        f"Can I trade my bicycle for a hat {marker}?",
        f"Do you swap bicycles for hats {marker}?",
    ]
    for question in questions:
        assert (await first_reply(assistant, question)).startswith("Sorry, I couldn't find")

    page = await signed_in(browser, assistant, admin, "Liu Yang (admin)")
    gaps = f"{assistant.settings.servers.web_url}/console/gaps"
    group = page.locator("li.gap", has_text=marker)
    deadline = time.monotonic() + 60
    while not await group.count():  # stored by the ingestion worker, then grouped
        assert time.monotonic() < deadline, "the questions never showed as a knowledge gap"
        await asyncio.sleep(1)
        await page.goto(gaps)
    entry_id = await group.locator("select[name=entry_id]").input_value()
    await group.get_by_role("button", name="Add as variants").click()
    await page.wait_for_url("**/console/gaps?**")
    assert await page.locator("li.gap", has_text=marker).count() == 0  # dealt with

    answer = await answer_of(assistant, entry_id)
    deadline = time.monotonic() + 30
    while True:  # the action server switches to the new index within seconds
        said = await first_reply(assistant, questions[0])
        if said.startswith(answer):
            break
        assert time.monotonic() < deadline, f"the bot still says {said!r}"
        await asyncio.sleep(1)
